"""Big request bodies under inspection must not stall everyone else: other clients' latency while 1 MiB JSON
bodies are inspected by the managed rules stays within 2x of idle (bounded load, bounded time)."""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from pathlib import Path

import pytest

from .harness import DemoOrigin, Gateway, GatewayFactory, send

RULES = Path(__file__).resolve().parents[2] / "rules"


def big_json(seed: int) -> bytes:
    rng = random.Random(seed)
    words = [
        "order",
        "customer",
        "invoice",
        "shipping",
        "street",
        "city",
        "paris",
        "london",
        "product",
        "price",
        "total",
        "amount",
        "colour",
        "size",
    ]
    items = []
    size = 0
    while size < 1_000_000:
        item = {
            "id": len(items),
            "name": " ".join(rng.choice(words) for _ in range(3)),
            "qty": rng.randint(1, 9),
            "note": " ".join(rng.choice(words) for _ in range(12)),
            "email": f"u{rng.randint(1, 999)}@example.com",
        }
        items.append(item)
        size += 150
    return json.dumps({"items": items}).encode()


def latencies(gateway: Gateway, count: int) -> list[float]:
    out = []
    with gateway.connection() as conn:
        for _ in range(count):
            started = time.perf_counter()
            r = send(conn, "GET", "/?q=shoes&page=2")
            assert r.status == 200
            out.append(time.perf_counter() - started)
            time.sleep(0.01)
    return out


@pytest.mark.slow
def test_big_bodies_do_not_stall_other_clients(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url], "max_body": "4MiB"}],
        tables={"waf": {"rules": str(RULES), "max_body": "2MiB"}},
    )
    latencies(gateway, 20)  # warm up
    idle = statistics.median(latencies(gateway, 60))
    stop = threading.Event()
    posted: list[int] = []

    def attacker(seed: int) -> None:
        body = big_json(seed)
        with gateway.connection(timeout=30) as conn:
            while not stop.is_set():
                r = send(conn, "POST", "/echo", body=body, headers={"Content-Type": "application/json"})
                posted.append(r.status)

    threads = [threading.Thread(target=attacker, args=(seed,), daemon=True) for seed in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    try:
        busy = statistics.median(latencies(gateway, 60))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert posted and set(posted) <= {200}
    print(f"idle median {idle * 1000:.1f} ms, while inspecting {busy * 1000:.1f} ms, {len(posted)} big bodies")
    assert busy <= max(2 * idle, idle + 0.004), (idle, busy)
