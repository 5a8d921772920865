"""What the metrics cost on the request path: prometheus-client in multiprocess mode (mmap files) against the
former hand-written dict increments, per operation and per request (`Runtime.record`'s metric calls).

    .venv/bin/python -m tests.bench.metrics_bench

Runs in a child process with PROMETHEUS_MULTIPROC_DIR set (as under `edge run`), then once without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

N = 200_000


def _per_op(label: str, fn: object, n: int = N) -> float:
    call = fn  # type: ignore[assignment]
    start = time.perf_counter()
    for _ in range(n):
        call()  # type: ignore[operator]
    micro = (time.perf_counter() - start) / n * 1e6
    print(f"  {label:<58} {micro:6.2f} µs")
    return micro


def measure() -> None:
    from edge import metrics

    mode = "multiprocess (mmap)" if metrics.is_multiprocess() else "in-process (mutex)"
    print(f"prometheus-client, {mode}:")
    counters: defaultdict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
    labels = (("code", "2xx"),)

    def dict_inc() -> None:
        counters[("edge_requests_total", labels)] += 1.0

    requests = metrics.child(metrics.REQUESTS, "localhost", "read", "2xx")
    duration = metrics.child(metrics.REQUEST_DURATION, "localhost")
    origin = metrics.child(metrics.ORIGIN_DURATION, "localhost", "http://127.0.0.1:9000")
    base = _per_op("dict increment (the former observe.Metrics.inc)", dict_inc)
    inc = _per_op("Counter child .inc()", requests.inc)
    obs = _per_op("Histogram child .observe(0.004)", lambda: duration.observe(0.004))
    _per_op("child() lookup + .inc()", lambda: metrics.child(metrics.REQUESTS, "localhost", "read", "2xx").inc())
    _per_op(
        "family.labels(...).inc() (no child cache)", lambda: metrics.REQUESTS.labels("localhost", "read", "2xx").inc()
    )

    def per_request() -> None:  # straight to the families, for a proxied 200
        metrics.child(metrics.REQUESTS, "localhost", metrics.method_class("GET"), metrics.status_class(200)).inc()
        duration.observe(0.004)
        origin.observe(0.0012)

    tally = metrics.TALLY

    def per_request_tally() -> None:  # what Runtime.record does: the same through the tally
        tally.inc(metrics.child(metrics.REQUESTS, "localhost", metrics.method_class("GET"), metrics.status_class(200)))
        tally.observe(duration, 0.004)
        tally.observe(origin, 0.0012)

    direct = _per_op("per proxied request, direct (1 counter, 2 histograms)", per_request, N // 2)
    tallied = _per_op("per proxied request, through TALLY (Runtime.record)", per_request_tally, N // 2)
    start = time.perf_counter()
    for _ in range(100):
        tally.flush()
        per_request_tally()
    flush = (time.perf_counter() - start) / 100 * 1e6
    print(f"  {'TALLY.flush() of those 3 children (once a second)':<58} {flush:6.2f} µs")
    print(f"  => {tallied:.1f} µs per request ({direct:.1f} µs direct); the former dict increments: {base * 2:.2f} µs")
    del inc, obs


def main() -> None:
    if "--child" in sys.argv:
        measure()
        return
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        subprocess.run([sys.executable, "-m", "tests.bench.metrics_bench", "--child"], env=env, check=True)
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    subprocess.run([sys.executable, "-m", "tests.bench.metrics_bench", "--child"], env=env, check=True)


if __name__ == "__main__":
    main()
