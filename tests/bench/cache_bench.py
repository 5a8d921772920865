"""Cache core micro-benchmark: µs per fresh-hit decision, per whole fresh-hit lookup, per store.

    .venv/bin/python tests/bench/cache_bench.py [--number 100000]

Each figure is the best of 5 timeit rounds. "decision" is `policy.reuse` alone on a stored fresh entry;
"lookup" is what the lookup phase does on a fresh hit: `store.get` (with and without a Vary), the request's
Cache-Control, `reuse`, `client_conditional` and `served_headers`; "store" is the store phase: effective
directives, `is_storable`, `stored_response` and `put`. A browser-like request of 8 header lines.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable

from edge.cache.directives import request_directives, response_directives
from edge.cache.entry import stored_response
from edge.cache.httpdate import format_http_date
from edge.cache.policy import Reuse, reuse
from edge.cache.status import HIT, served_headers
from edge.cache.storability import is_storable
from edge.cache.store import MemoryStore
from edge.cache.validation import Conditional, client_conditional

NOW = 1_800_000_000.0
REQUEST = [
    (b"host", b"shop.test"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"accept-language", b"en-GB,en;q=0.5"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"cookie", b"session=abc123"),
    (b"upgrade-insecure-requests", b"1"),
    (b"sec-fetch-mode", b"navigate"),
]


def response(vary: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", b"5120"),
        (b"cache-control", b"public, max-age=3600"),
        (b"date", format_http_date(NOW)),
        (b"etag", b'"5f3a-1234"'),
        (b"last-modified", format_http_date(NOW - 86400)),
    ]
    return [*headers, (b"vary", b"Accept-Encoding")] if vary else headers


def lookup(store: MemoryStore, key: str) -> Callable[[], object]:
    def run() -> object:
        entry = store.get(key, REQUEST)
        if entry is None or reuse(entry, request_directives(REQUEST), NOW + 5) is not Reuse.FRESH:
            raise AssertionError("expected a fresh hit")
        if client_conditional("GET", REQUEST, entry) is not Conditional.NONE:
            raise AssertionError("expected no precondition")
        return served_headers(entry, NOW + 5, HIT)

    return run


def best(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000)
    number = parser.parse_args().number
    body = b"x" * 5120
    store = MemoryStore(64 * 1024 * 1024)
    for vary in (False, True):
        key = f"https://shop.test/page?vary={vary}"
        headers = response(vary)
        entry = stored_response(200, headers, body, request_headers=REQUEST, request_time=NOW, response_time=NOW)
        store.put(key, entry)
        directives = request_directives(REQUEST)

        def store_phase(headers: list[tuple[bytes, bytes]] = headers, key: str = key) -> object:
            effective = response_directives(headers)
            if not is_storable("GET", REQUEST, 200, headers, store_set_cookie=False, response=effective):
                raise AssertionError("expected storable")
            stored = stored_response(200, headers, body, request_headers=REQUEST, request_time=NOW, response_time=NOW)
            return store.put(key, stored)

        label = "with Vary" if vary else "no Vary"
        print(f"decision ({label}):  {best(lambda e=entry, d=directives: reuse(e, d, NOW + 5), number):6.2f} us")
        print(f"lookup   ({label}):  {best(lookup(store, key), number):6.2f} us")
        print(f"store    ({label}):  {best(store_phase, number // 10):6.2f} us")


if __name__ == "__main__":
    main()
