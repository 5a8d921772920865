"""MemoryStore: variants under primary keys, a byte bound, LRU order, deletes and purges."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.cache.entry import StoredResponse
from edge.cache.store import MemoryStore, Store

from .conftest import Spec, stored

A = "https://shop.test/a"
B = "https://shop.test/b"
C = "https://shop.test/c"


def entry(body_size: int = 100, spec: Spec = (), request: Spec = ()) -> StoredResponse:
    return stored([("Cache-Control", "max-age=60"), ("Date", 0), *spec], body=b"x" * body_size, request=request)


def req(**fields: str) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in fields.items()]


def test_memory_store_is_a_store() -> None:
    store: Store = MemoryStore(10_000)
    assert store.get(A, []) is None


def test_put_get_and_accounting() -> None:
    store = MemoryStore(10_000)
    one = entry()
    assert store.put(A, one)
    assert store.get(A, []) is one
    assert store.get(B, []) is None
    assert store.bytes_used == one.size and store.entries == 1 and len(store) == 1
    replacement = entry(200)
    assert store.put(A, replacement)
    assert store.get(A, []) is replacement
    assert store.bytes_used == replacement.size and store.entries == 1


def test_variants_by_vary() -> None:
    # vary-invalidate: two variants live side by side
    store = MemoryStore(100_000)
    foo1 = entry(spec=[("Vary", "Foo")], request=[("foo", "1")])
    foo2 = entry(spec=[("Vary", "Foo")], request=[("foo", "2")])
    store.put(A, foo1)
    store.put(A, foo2)
    assert store.get(A, req(foo="1")) is foo1
    assert store.get(A, req(foo="2")) is foo2
    assert store.get(A, req(foo="3")) is None
    assert store.get(A, []) is None
    assert {id(e) for e in store.variants(A)} == {id(foo1), id(foo2)}
    assert store.variants(B) == []  # uri-miss, where variants(A) != [] is a vary-miss


def test_a_new_vary_replaces_variants_of_the_old_one() -> None:
    store = MemoryStore(100_000)
    plain = entry()
    store.put(A, plain)
    varied = entry(spec=[("Vary", "Accept-Encoding")], request=[("accept-encoding", "gzip")])
    store.put(A, varied)
    assert store.variants(A) == [varied]
    assert store.get(A, []) is None
    assert store.bytes_used == varied.size


def test_refusals() -> None:
    store = MemoryStore(2_000, max_entry=1_000)
    assert not store.put(A, entry(1_000))  # over max_entry
    assert not store.put(A, entry(10, spec=[("Vary", "*")]))
    assert store.put(A, entry(100))
    whole = MemoryStore(1_000)
    assert whole.max_entry == 1_000
    assert not whole.put(A, entry(1_000))  # over the whole budget
    with pytest.raises(ValueError, match="max_bytes must be positive"):
        MemoryStore(0)


def test_least_recently_used_goes_first() -> None:
    size = entry().size
    store = MemoryStore(size * 3)
    a, b, c, d = entry(), entry(), entry(), entry()
    store.put(A, a)
    store.put(B, b)
    store.put(C, c)
    assert store.get(A, []) is a  # A is now the most recent; B the least
    store.put("https://shop.test/d", d)
    assert store.get(B, []) is None
    assert store.get(A, []) is a and store.get(C, []) is c
    assert store.bytes_used == 3 * size


def test_a_big_entry_evicts_as_many_as_needed() -> None:
    small = entry(100)
    store = MemoryStore(small.size * 4)
    for n in range(4):
        store.put(f"https://shop.test/{n}", entry(100))
    big = entry(small.size * 2)
    assert store.put(B, big)
    assert store.get(B, []) is big
    assert store.bytes_used <= store.max_bytes
    assert sorted(store.keys()) == ["https://shop.test/3", B]


def test_delete_and_purges() -> None:
    store = MemoryStore(1_000_000)
    keys = [
        "https://shop.test/img/1.png",
        "https://shop.test/img/2.png?v=1",
        "http://shop.test/img/3.png",
        "https://shop.test/css/a.css",
        "https://other.test/img/1.png",
    ]
    for key in keys:
        store.put(key, entry())
    store.put(keys[0], entry(spec=[("Vary", "Foo")], request=[("foo", "1")]))
    store.put(keys[0], entry(spec=[("Vary", "Foo")], request=[("foo", "2")]))
    assert store.delete(keys[0]) == 2
    assert store.delete(keys[0]) == 0
    assert store.purge_prefix("https://shop.test/img/") == 1
    assert store.purge_prefix("/img/", host="SHOP.test") == 1  # any scheme on that host
    assert sorted(store.keys()) == ["https://other.test/img/1.png", "https://shop.test/css/a.css"]
    assert store.purge_prefix("/", host="other.test") == 1
    assert store.purge_prefix("/nothing/") == 0
    assert store.purge_prefix("/css/") == 1  # a path prefix without a host: every host
    assert store.bytes_used == 0


def test_keys_is_a_snapshot() -> None:
    store = MemoryStore(1_000_000)
    for key in (A, B, C):
        store.put(key, entry())
    snapshot = store.keys()
    for key in snapshot:
        store.delete(key)
    assert store.entries == 0 and store.bytes_used == 0


ENTRIES = [entry(size, spec=[("Vary", "Foo")], request=[("foo", str(size % 3))]) for size in (0, 10, 500, 3_000, 9_000)]


@settings(max_examples=200, deadline=None)
@given(
    budget=st.integers(min_value=600, max_value=20_000),
    operations=st.lists(
        st.tuples(st.sampled_from(["put", "get", "delete"]), st.integers(0, 30), st.integers(0, len(ENTRIES) - 1)),
        max_size=200,
    ),
)
def test_the_byte_bound_holds_under_a_flood(budget: int, operations: list[tuple[str, int, int]]) -> None:
    store = MemoryStore(budget, max_entry=budget // 2)
    for operation, key_number, which in operations:
        key = f"https://shop.test/{key_number}"
        if operation == "put":
            accepted = store.put(key, ENTRIES[which])
            assert accepted is (ENTRIES[which].size <= budget // 2)
            if accepted:
                assert store.get(key, req(foo=str(ENTRIES[which].body.count(b"x") % 3))) is ENTRIES[which]
        elif operation == "get":
            store.get(key, req(foo="1"))
        else:
            store.delete(key)
        keys = list(store.keys())
        held = [e for k in keys for e in store.variants(k)]
        assert store.bytes_used <= budget
        assert store.bytes_used == sum(e.size for e in held)
        assert store.entries == len(held)
