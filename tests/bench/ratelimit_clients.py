"""CPU per rate-limit check against a real redis-server, in-process: `limits`' two calls per window
(`hit` + `get_window_stats`) against edge's one script per request, with each Redis client `limits` can use.

    .venv/bin/python -m tests.bench.ratelimit_clients [--checks N] [--concurrency C]

Prints CPU µs (this process: client library, asyncio, Python) and wall µs per check, one rule with one
window ("1000000000/minute", never refused) per check, `C` checks in flight at once as under load. The
redis-server runs on another core when there is one. coredis is no dependency of edge any more:
`pip install coredis` to compare; a client that is missing is skipped with a note. hiredis (a dependency,
through `redis[hiredis]`) parses redis-py's replies.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import limits
from limits.aio.strategies import STRATEGIES
from limits.storage import storage_from_string

from edge.shared_counters import CHECK_SCRIPT, SharedCounters

ITEM = limits.parse("1000000000/minute")


def start_redis(folder: str) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder]
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1 and shutil.which("taskset"):
        argv = ["taskset", "-c", str(cores[-1]), *argv]
        os.sched_setaffinity(0, {cores[0]})
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"async+redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


async def measure(check: Callable[[int], Awaitable[object]], checks: int, concurrency: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per check."""
    for n in range(200):  # warm-up: connections, script load
        await check(n)
    queue = iter(range(checks))

    async def worker() -> None:
        for n in queue:
            await check(n)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - cpu) / checks * 1e6, (time.perf_counter() - wall) / checks * 1e6


async def run(url: str, checks: int, concurrency: int) -> None:
    print(f"{checks} checks, {concurrency} in flight, one rule of one window per check\n")
    print(f"  {'client':<10}{'path':<58}{'CPU us/check':>14}{'wall us/check':>15}")
    for client in ("coredis", "redispy"):
        module = "coredis" if client == "coredis" else "redis"
        if importlib.util.find_spec(module) is None:
            print(f"  {client:<10}(not installed: pip install {module})")
            continue
        for strategy in ("moving-window", "fixed-window", "sliding-window-counter"):
            storage = storage_from_string(url, implementation=client)
            limiter = STRATEGIES[strategy](storage)

            async def old(n: int, limiter: limits.aio.strategies.RateLimiter = limiter) -> object:
                await limiter.hit(ITEM, "bench", str(n % 1000))
                return await limiter.get_window_stats(ITEM, "bench", str(n % 1000))

            if client == "redispy":
                counters = SharedCounters(storage, strategy, timeout=5.0)  # type: ignore[arg-type]

                async def new(n: int, counters: SharedCounters = counters) -> object:
                    return await counters.check([("bench", (ITEM,), str(n % 1000))])

                name = "edge's script, pipelined"
            else:  # the same script, one EVALSHA per check through coredis (no pipelining)
                script = storage.bridge.get_connection().register_script(CHECK_SCRIPT)  # type: ignore[attr-defined]

                async def new(n: int, script: Any = script, strategy: str = strategy) -> object:
                    key = "LIMITS:" + ITEM.key_for("bench", str(n % 1000))
                    return await script.execute([key, key + "/-1"], [strategy, 1, 1, ITEM.amount, ITEM.get_expiry()])

                name = "edge's script, one call each"

            for label, check in (
                (f"limits hit + get_window_stats ({strategy})", old),
                (f"{name} ({strategy})", new),
            ):
                cpu, wall = await measure(check, checks, concurrency)
                print(f"  {client:<10}{label:<58}{cpu:>14.0f}{wall:>15.0f}", flush=True)
            await storage.reset()
            if client == "redispy":
                await storage.bridge.get_connection().aclose()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        proc, url = start_redis(folder)
        try:
            try:
                import uvloop

                uvloop.run(run(url, args.checks, args.concurrency))
            except ImportError:
                asyncio.run(run(url, args.checks, args.concurrency))
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
