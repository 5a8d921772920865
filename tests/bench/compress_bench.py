"""Compression micro-benchmark: ratio, CPU µs per response and MB/s for edge/proxy/compress.py's Encoder.

    .venv/bin/python -m tests.bench.compress_bench [--number 200]

Bodies: a 20 KiB JSON API answer (a page of orders) and a 20 KiB HTML page (a product listing), generated
from a fixed seed so that every run codes the same bytes. "Streaming" is what the gateway does: a new
Encoder per response, the body fed in 4 KiB chunks with the sync flush after each, then finish(). CPU is
thread CPU time (time.thread_time), the best of 5 rounds of `number` responses; MB/s is body bytes (before
coding) per CPU second. The figures go to COMPRESS_NOTES.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from edge.proxy import compress
from edge.proxy.compress import HAVE_BROTLI, Encoder

KIB = 1024
_WORDS = (
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "north",
    "south",
    "east",
    "west",
    "river",
    "stone",
    "forest",
    "lake",
    "garden",
    "market",
    "bridge",
    "harbor",
    "valley",
    "summit",
    "meadow",
    "canyon",
    "island",
    "coast",
    "desert",
    "prairie",
    "glacier",
)
_STATUSES = ("pending", "paid", "shipped", "delivered", "refunded", "cancelled")


def json_body(size: int = 20 * KIB, seed: int = 11) -> bytes:
    """A JSON page of orders like a REST API returns: repeated keys, ids, timestamps, prices, short text."""
    rng = random.Random(seed)
    orders: list[dict[str, object]] = []
    length = 0
    while length < size:
        items: list[dict[str, Any]] = [
            {
                "sku": f"SKU-{rng.randrange(10000, 99999)}",
                "name": " ".join(rng.choice(_WORDS).title() for _ in range(rng.randint(1, 3))),
                "quantity": rng.randint(1, 5),
                "unit_price": round(rng.uniform(1, 300), 2),
            }
            for _ in range(rng.randint(1, 4))
        ]
        orders.append(
            {
                "id": rng.randrange(10**6, 10**7),
                "uuid": f"{rng.getrandbits(128):032x}",
                "created_at": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
                "status": rng.choice(_STATUSES),
                "customer": {
                    "id": rng.randrange(10**5, 10**6),
                    "email": f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}{rng.randint(1, 99)}@example.com",
                    "country": rng.choice(("GB", "FR", "DE", "US", "NL", "ES", "IT")),
                },
                "items": items,
                "total": round(sum(i["quantity"] * i["unit_price"] for i in items), 2),
                "gift": rng.random() < 0.1,
            }
        )
        length += len(json.dumps(orders[-1])) + 2
    text = json.dumps({"data": orders, "page": 1, "per_page": len(orders)}).encode()
    return text[:size]  # a prefix is not valid JSON, which the coders do not care about


def html_body(size: int = 20 * KIB, seed: int = 12) -> bytes:
    """A product listing page: a head with links and scripts, cards with varied names and prices, a footer."""
    rng = random.Random(seed)
    head = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1"><title>Garden Market - Products</title>'
        '<link rel="stylesheet" href="/static/css/site.3f9a1c.css"><script defer src="/static/js/app.8b2e4d.js">'
        '</script></head><body><header class="site-header"><nav><ul><li><a href="/">Home</a></li>'
        '<li><a href="/products">Products</a></li><li><a href="/about">About us</a></li></ul></nav></header>'
        '<main class="container"><h1>Products</h1><div class="grid">'
    )
    parts = [head]
    while sum(map(len, parts)) < size:
        name = " ".join(rng.choice(_WORDS).title() for _ in range(rng.randint(2, 4)))
        slug = name.lower().replace(" ", "-")
        parts.append(
            f'<article class="card product" data-id="{rng.randrange(10**5, 10**6)}"><a href="/products/{slug}">'
            f'<img src="/media/{rng.getrandbits(40):010x}.webp" alt="{name}" loading="lazy" width="320" '
            f'height="240"></a><h2 class="card-title"><a href="/products/{slug}">{name}</a></h2>'
            f'<p class="card-text">{" ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 20)))}.</p>'
            f'<div class="price"><span class="amount">{rng.uniform(2, 500):.2f}</span> <span class="currency">'
            f'EUR</span></div><button class="btn btn-primary" data-action="add-to-cart">Add to cart</button>'
            "</article>"
        )
    parts.append('</div></main><footer class="site-footer"><p>&copy; 2025 Garden Market</p></footer></body></html>')
    return "".join(parts).encode()[:size]


def chunks(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def encode(coding: str, level: int, parts: list[bytes], flush: bool = True) -> bytes:
    encoder = Encoder(coding, level)
    out = [encoder.feed(part, more_coming=not flush) for part in parts]
    out.append(encoder.finish())
    return b"".join(out)


def cpu_us(action: Callable[[], object], number: int) -> tuple[float, float]:
    """Thread CPU µs per call over `number` calls, timed one by one: (median, mean). The median is the
    typical response; the mean adds the rare slow ones (page faults when the allocator maps fresh memory,
    and other processes on a shared machine), which is what throughput pays."""
    action()  # warm: imports, first allocations
    times = []
    for _ in range(number):
        start = time.thread_time_ns()
        action()
        times.append(time.thread_time_ns() - start)
    return statistics.median(times) / 1000, statistics.fmean(times) / 1000


def levels() -> list[tuple[str, int]]:
    found = [("gzip", level) for level in (1, 5, 6, 9)]
    if HAVE_BROTLI:
        found += [("br", quality) for quality in (1, 4, 5, 11)]
    return found


def table_levels(bodies: dict[str, bytes], number: int) -> None:
    print("## Levels: 20 KiB bodies\n")
    print("Streamed: fed in 4 KiB chunks, a sync flush after each, as the gateway does. Whole: one feed with")
    print("`more_coming=True`, then finish (a stored body). CPU µs per response: median (mean).\n")
    print("| body | coding | level | bytes streamed | ratio | µs streamed | MB/s | bytes whole | µs whole |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, body in bodies.items():
        parts = chunks(body, 4 * KIB)
        for coding, level in levels():
            streamed = encode(coding, level, parts)
            whole = encode(coding, level, [body], flush=False)
            runs = max(10, number // 20) if (coding, level) == ("br", 11) else number
            median, mean = cpu_us(partial(encode, coding, level, parts), runs)
            median_whole, mean_whole = cpu_us(partial(encode, coding, level, [body], False), runs)
            print(
                f"| {label} | {coding} | {level} | {len(streamed)} | {len(body) / len(streamed):.2f} "
                f"| {median:.0f} ({mean:.0f}) | {len(body) / median:.0f} | {len(whole)} "
                f"| {median_whole:.0f} ({mean_whole:.0f}) |"
            )
    print()


def table_flush(body: bytes, number: int) -> None:
    print("## Flush policy: 20 KiB JSON, a sync flush per chunk vs one flush at the end\n")
    print("| coding | chunk | chunks | bytes, flush each | bytes, flush at end | overhead | µs each | µs at end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    codings = [("gzip", compress.GZIP_LEVEL)] + ([("br", compress.BROTLI_QUALITY)] if HAVE_BROTLI else [])
    for coding, level in codings:
        for size in (64, 256, KIB, 4 * KIB, 16 * KIB):
            parts = chunks(body, size)
            each = encode(coding, level, parts, flush=True)
            end = encode(coding, level, parts, flush=False)
            us_each, _ = cpu_us(partial(encode, coding, level, parts, True), number)
            us_end, _ = cpu_us(partial(encode, coding, level, parts, False), number)
            print(
                f"| {coding} {level} | {size} | {len(parts)} | {len(each)} | {len(end)} "
                f"| {100 * (len(each) - len(end)) / len(end):+.1f}% | {us_each:.0f} | {us_end:.0f} |"
            )
    print()


def table_small(body: bytes, number: int) -> None:
    print("## Small bodies (prefixes of the JSON, one feed and finish): is it worth it\n")
    print("| length | gzip 5 bytes | saved | µs | br 4 bytes | saved | µs |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in (20, 64, 128, 256, 512, 1024, 1460):
        row = [f"| {size}"]
        for coding, level in (("gzip", 5), ("br", 4)) if HAVE_BROTLI else (("gzip", 5),):
            coded = encode(coding, level, [body[:size]])
            us, _ = cpu_us(partial(encode, coding, level, [body[:size]]), number)
            row.append(f"{len(coded)} | {size - len(coded):+d} | {us:.0f}")
        print(" | ".join(row) + " |")
    print()


def table_memory() -> None:
    """Resident memory of 100 live encoders that have each coded 20 KiB, 1 MiB or 4 MiB (what 100 concurrent
    responses hold), each kind measured in a fresh interpreter so that memory another kind freed is not reused."""
    print("## Memory: 100 live encoders (RSS growth per encoder)\n")
    print("| encoder | KiB after 20 KiB | after 1 MiB | after 4 MiB |")
    print("|---|---:|---:|---:|")
    kinds = [("gzip", 5, 0), ("gzip", 6, 0)]
    if HAVE_BROTLI:
        kinds += [("br", quality, window) for quality in (4, 5) for window in (19, 22)]
    for coding, level, window in kinds:
        grown = []
        for size in (20 * KIB, 1024 * KIB, 4096 * KIB):
            command = [sys.executable, "-m", "tests.bench.compress_bench", "--memory-of", coding, str(level)]
            command += [str(window), str(size)]
            grown.append(int(subprocess.run(command, capture_output=True, text=True, check=True).stdout))
        label = f"{coding} {level}" + (f", lgwin {window}" if window else "")
        print(f"| {label} | " + " | ".join(f"{kib / 100:.0f}" for kib in grown) + " |")
    print()


def memory_of(coding: str, level: int, window: int, size: int) -> int:
    """RSS growth in KiB from 100 encoders of one kind, each fed `size` bytes of JSON in 16 KiB chunks."""
    parts = chunks(json_body(size), 16 * KIB)
    if window:
        compress.BROTLI_WINDOW = window
    before = _rss_kib()
    held = []
    for _ in range(100):
        encoder = Encoder(coding, level)
        for part in parts:
            encoder.feed(part)
        held.append(encoder)
    return _rss_kib() - before


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=400, help="responses timed one by one per figure")
    parser.add_argument("--memory-of", nargs=4, help=argparse.SUPPRESS)  # CODING LEVEL LGWIN SIZE: one child
    args = parser.parse_args()
    if args.memory_of:
        coding, level, window, size = args.memory_of
        print(memory_of(coding, int(level), int(window), int(size)))
        return
    bodies = {"JSON": json_body(), "HTML": html_body()}
    print(f"zlib {zlib.ZLIB_RUNTIME_VERSION}, brotli {'installed' if HAVE_BROTLI else 'absent'}\n")
    table_levels(bodies, args.number)
    table_flush(bodies["JSON"], args.number)
    table_small(bodies["JSON"], args.number * 5)
    table_memory()


if __name__ == "__main__":
    main()
