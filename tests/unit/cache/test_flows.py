"""The pieces together, the way the gateway's lookup and store phases will call them (and a wiring example)."""

from __future__ import annotations

from edge.cache.directives import request_directives, response_directives
from edge.cache.entry import StoredResponse, stored_response
from edge.cache.fields import first
from edge.cache.invalidation import invalidated_keys
from edge.cache.keys import primary_key
from edge.cache.policy import Reuse, reuse
from edge.cache.ranges import ByteRange, select_range
from edge.cache.status import HIT, served_headers
from edge.cache.storability import is_storable
from edge.cache.store import MemoryStore
from edge.cache.validation import (
    Conditional,
    client_conditional,
    freshen,
    revalidation_headers,
    select_for_update,
)

from .conftest import T, headers, http_date

KEY = primary_key("https", "shop.test", "/page")
CLIENT = [(b"host", b"shop.test"), (b"cache-control", b"nothing-to-see-here"), (b"pragma", b"foo")]


def store_phase(store: MemoryStore, response: list[tuple[bytes, bytes]], now: float, body: bytes = b"v1") -> bool:
    directives = response_directives(response)
    if not is_storable("GET", CLIENT, 200, response, store_set_cookie=False, response=directives):
        return False
    entry = stored_response(200, response, body, request_headers=CLIENT, request_time=now - 0.01, response_time=now)
    return store.put(KEY, entry)


def lookup(
    store: MemoryStore, now: float, client: list[tuple[bytes, bytes]] = CLIENT
) -> tuple[Reuse, StoredResponse | None]:
    entry = store.get(KEY, client)
    return reuse(entry, request_directives(client), now), entry


def test_miss_store_hit_stale_revalidate_304_hit() -> None:
    store = MemoryStore(1 << 20)
    assert lookup(store, T) == (Reuse.MISS, None)
    response = headers([("Cache-Control", "max-age=2"), ("Date", 0), ("ETag", '"v1"'), ("Test-Header", "a")])
    assert store_phase(store, response, T)

    decision, entry = lookup(store, T + 1)
    assert decision is Reuse.FRESH and entry is not None
    served = served_headers(entry, T + 1, HIT)
    assert first(served, b"age") == b"1" and first(served, b"date") == http_date(0)

    decision, entry = lookup(store, T + 3)
    assert decision is Reuse.REVALIDATE and entry is not None
    conditional = revalidation_headers(CLIENT, [entry])
    assert first(conditional, b"if-none-match") == b'"v1"'

    not_modified = headers([("Date", 3), ("ETag", '"v1"'), ("Cache-Control", "max-age=3600"), ("Test-Header", "b")])
    assert select_for_update([entry], not_modified) == [0]
    store.put(KEY, freshen(entry, not_modified, request_headers=CLIENT, request_time=T + 3, response_time=T + 3.01))
    decision, entry = lookup(store, T + 10)
    assert decision is Reuse.FRESH and entry is not None
    assert first(entry.headers, b"test-header") == b"b" and entry.body == b"v1"


def test_stale_while_revalidate_then_the_window_closes() -> None:
    store = MemoryStore(1 << 20)
    store_phase(store, headers([("Cache-Control", "max-age=1, stale-while-revalidate=4"), ("ETag", '"abc"')]), T)
    assert lookup(store, T + 3)[0] is Reuse.STALE_WHILE_REVALIDATE
    assert lookup(store, T + 6)[0] is Reuse.REVALIDATE


def test_a_newer_no_store_response_leaves_the_stored_one() -> None:
    # cc-resp-no-store-old-new
    store = MemoryStore(1 << 20)
    store_phase(store, headers([("Cache-Control", "max-age=10000"), ("Date", 0), ("A", "1")]), T)
    assert not store_phase(store, headers([("Cache-Control", "no-store"), ("Date", 0), ("A", "2")]), T + 3)
    decision, entry = lookup(store, T + 6)
    assert decision is Reuse.FRESH and entry is not None and first(entry.headers, b"a") == b"1"


def test_post_invalidates() -> None:
    store = MemoryStore(1 << 20)
    store_phase(store, headers([("Cache-Control", "max-age=100000"), ("Date", 0)]), T)
    for key in invalidated_keys("POST", 200, KEY, []):
        store.delete(key)
    assert lookup(store, T + 3) == (Reuse.MISS, None)


def test_client_conditional_and_range_from_a_fresh_entry() -> None:
    store = MemoryStore(1 << 20)
    store_phase(store, headers([("Cache-Control", "max-age=3600"), ("ETag", '"abcdef"')]), T, body=b"01234567890")
    entry = store.get(KEY, CLIENT)
    assert entry is not None
    assert client_conditional("GET", [*CLIENT, (b"if-none-match", b'"abcdef"')], entry) is Conditional.NOT_MODIFIED
    assert select_range("GET", b"bytes=0-1", len(entry.body)) == ByteRange(0, 1, 11)
