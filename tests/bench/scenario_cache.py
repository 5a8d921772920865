"""`cache`: cache hits of a 1 KiB response, edge's RFC 9111 cache against nginx's proxy_cache.

    .venv/bin/python -m tests.bench.run --only cache [--quick]

The origin answers CACHED_PATH (the 1 KiB file of the `proxy` scenario) with `Cache-Control: max-age=3600`.
Three gateways in front of it, loaded alternately with wrk (keep-alive HTTPS GETs of CACHED_PATH):

    edge-cache   edge with `[site.cache] enabled = true`
    nginx-cache  nginx with `proxy_cache` (a proxy_cache_path in the temp folder, honouring the origin's
                 Cache-Control, `proxy_cache_lock on`), otherwise the `proxy` scenario's nginx
    edge-proxy   edge without a cache: every request goes to the origin (what a hit saves)

Before measuring, two GETs through each cache: the second must be a hit (`Cache-Status: edge; hit`, and
`X-Cache-Status: HIT` that nginx adds from `$upstream_cache_status`). After the runs, the access logs of
both caches must show nothing but hits for CACHED_PATH beyond the first request (a miss under load would
make the figures those of a proxy). Figures: requests/s, p99, gateway CPU per request, ratios.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.bench.load import https_request
from tests.bench.measure import cpu_ratio, print_table, wrk_example, wrk_rounds, wrk_settings
from tests.bench.registry import Options, scenario
from tests.bench.stack import CACHED_PREFIX, HOST, NGINX_PROXY, BenchError, Stack, Target

CACHED_PATH = f"{CACHED_PREFIX}1k"
EDGE_HIT = re.compile(r"(?:^|,)\s*edge\s*;\s*hit\b")


def nginx_cache(stack: Stack) -> Target:
    """nginx with proxy_cache in front of the origin; every answer says HIT/MISS in X-Cache-Status and in
    its access-log line (<tmp>/nginx-cache-cache.log)."""
    folder = stack.dir / "nginx-cache-store"
    http_extra = f"""\
    proxy_cache_path {folder} levels=1:2 keys_zone=bench:10m max_size=256m inactive=1h use_temp_path=off;
    log_format cached escape=json '{{"ts":"$time_iso8601","request_id":"$request_id","client":"$remote_addr",'
        '"host":"$host","method":"$request_method","path":"$uri","status":$status,"bytes":$body_bytes_sent,'
        '"duration_s":$request_time,"origin":"$upstream_addr","cache":"$upstream_cache_status"}}';"""
    location = f"""{NGINX_PROXY}
            proxy_cache bench;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
            access_log {stack.dir / "nginx-cache-cache.log"} cached buffer=64k flush=250ms;"""
    return stack.nginx("nginx-cache", location=location, http_extra=http_extra)


def is_hit(target: Target, headers: dict[str, str]) -> bool:
    if target.name.startswith("nginx"):
        return headers.get("x-cache-status") == "HIT"
    return bool(EDGE_HIT.search(headers.get("cache-status", "")))


def warm(stack: Stack, target: Target) -> str:
    """Two GETs of CACHED_PATH; the second must be a hit. The cache header of the second."""
    assert stack.ca is not None
    for attempt in (1, 2):
        answer = https_request(target, stack.ca, CACHED_PATH)
        if answer.status != 200:
            raise BenchError(f"{target.name}: GET {CACHED_PATH} answered {answer.status}")
        if attempt == 2 and not is_hit(target, answer.headers):
            raise BenchError(f"{target.name}: the second GET of {CACHED_PATH} is not a hit: {answer.headers}")
    return answer.headers.get("cache-status") or f"X-Cache-Status: {answer.headers['x-cache-status']}"


def log_counts(path: Path, hit: str) -> tuple[int, int]:
    """(lines for CACHED_PATH, of which hits) in an access log (edge's, or nginx's `cached` format)."""
    wanted, hit_field = f'"path":"{CACHED_PATH}"'.encode(), f'"cache":"{hit}"'.encode()
    total = hits = 0
    with path.open("rb") as log:
        for line in log:
            if wanted in line:
                total += 1
                hits += hit_field in line
    return total, hits


@scenario("cache")
def cache(stack: Stack, opts: Options) -> dict[str, Any]:
    """Cache hits of a 1 KiB response: edge's cache vs nginx proxy_cache, and edge without a cache, with wrk."""
    targets = [
        stack.edge("edge-cache", site_extra="\n[site.cache]\nenabled = true\n"),
        nginx_cache(stack),
        stack.edge("edge-proxy"),
    ]
    seen = {target.name: warm(stack, target) for target in targets[:2]}
    print(f"\n[cache] second GET of {CACHED_PATH}: " + "; ".join(f"{k}: {v}" for k, v in seen.items()), flush=True)
    url = f"https://{HOST}:PORT{CACHED_PATH}"
    example = wrk_example(stack, opts, url)
    print(f"  {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)", flush=True)
    rows = wrk_rounds(stack, opts, targets, CACHED_PATH)
    ratio = print_table(
        f"cache: 1 KiB GET answered from the cache (max-age=3600), keep-alive HTTPS, {opts.connections} "
        f"connections, median of {opts.rounds}",
        "requests/s",
        rows,
        first="edge-cache",
        second="nginx-cache",
    )
    proxy = rows["edge-proxy"]["rate"]
    hit_vs_proxy = rows["edge-cache"]["rate"] / proxy if proxy else None
    if hit_vs_proxy is not None:
        print(
            f"  ratio edge-cache/edge-proxy: throughput {hit_vs_proxy:.3f}{cpu_ratio(rows, 'edge-cache', 'edge-proxy')}"
        )
    time.sleep(0.6)  # both access logs are flushed every 0.25 s
    logs = {
        "edge-cache": log_counts(stack.dir / "edge-cache-access.log", "hit"),
        "nginx-cache": log_counts(stack.dir / "nginx-cache-cache.log", "HIT"),
    }
    for name, (total, hits) in logs.items():
        print(f"  {name} access log: {total} GETs of {CACHED_PATH}, {hits} hits, {total - hits} not hits")
        if total - hits > 1:  # the first GET of `warm` is the one miss
            raise BenchError(f"{name}: {total - hits} of {total} requests were not cache hits: not a hit benchmark")
    return {
        **wrk_settings(example, opts),
        "path": CACHED_PATH,
        "origin_cache_control": "max-age=3600",
        "second_get": seen,
        "access_log_gets_hits": {name: {"gets": t, "hits": h} for name, (t, h) in logs.items()},
        "results": rows,
        "ratio_edge_nginx": ratio,
        "ratio_edge_hit_vs_edge_proxy": hit_vs_proxy,
    }
