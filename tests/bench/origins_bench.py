"""Origin choice and signing micro-benchmark: µs per `pick`, `order` and `Signer.header`.

    .venv/bin/python -m tests.bench.origins_bench [--number 100000]

Balancers run over 3 and 10 origins, equal and mixed weights, with and without a health filter, cycling
through 1,000 client addresses; signing compares the prepared HMAC copied per request with `hmac.new`.
Each figure is the best of 5 rounds (the machine is shared: the minimum is the least disturbed).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import timeit
from collections.abc import Callable

from edge.config import Origin
from edge.proxy.balancer import BALANCERS
from edge.proxy.signing import Signer
from edge.proxy.upstream import Pool


def best_us(call: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6


def balancers(number: int) -> None:
    clients = itertools.cycle([f"198.51.{i // 256}.{i % 256}" for i in range(1000)])
    for count, weighted in itertools.product((3, 10), (False, True)):
        pools = [
            Pool(Origin("http", f"10.0.0.{i}", 80, f"http://10.0.0.{i}:80", weight=i % 3 + 1 if weighted else 1))
            for i in range(count)
        ]
        down = pools[0]

        def usable(pool: Pool, down: Pool = down) -> bool:
            return pool is not down

        for name, cls in BALANCERS.items():
            balancer = cls(pools)
            cells = [
                best_us(lambda b=balancer: b.pick(next(clients)), number),
                best_us(lambda b=balancer, u=usable: b.pick(next(clients), u), number),
                best_us(lambda b=balancer, u=usable: b.order(next(clients), u), number),
            ]
            label = f"{name:<12} {count:>2} origins, {'mixed' if weighted else 'equal'} weights"
            print(f"{label:<40} pick {cells[0]:5.2f}  pick+filter {cells[1]:5.2f}  order+filter {cells[2]:5.2f} µs")


def signing(number: int) -> None:
    key = b"an-origin-secret-of-32-characters"
    signer = Signer(key)
    text = b"1700000000\nGET\nshop.test\n/api/v1/items?page=2"
    prepared = hmac.new(key, digestmod=hashlib.sha256)

    def copied() -> str:
        mac = prepared.copy()
        mac.update(text)
        return mac.hexdigest()

    print(
        f"{'Signer.header':<40} {best_us(lambda: signer.header('GET', b'shop.test', b'/api/v1/items?page=2', 1), number):5.2f} µs"
    )
    print(f"{'HMAC prepared once, copied':<40} {best_us(copied, number):5.2f} µs")
    print(
        f"{'hmac.new per request':<40} {best_us(lambda: hmac.new(key, text, hashlib.sha256).hexdigest(), number):5.2f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000, help="calls per round")
    args = parser.parse_args()
    balancers(args.number)
    signing(args.number)


if __name__ == "__main__":
    main()
