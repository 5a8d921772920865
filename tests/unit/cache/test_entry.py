"""What a stored entry keeps (RFC 9111 section 3.1, RFC 9110 section 6.6.1) and what it precomputes."""

from __future__ import annotations

import pytest

from edge.cache.entry import ENTRY_OVERHEAD, NOT_STORED, entry_size
from edge.cache.httpdate import format_http_date

from .conftest import T, http_date, stored

# headers.mjs: fields a cache must store, and must not.
MUST_STORE = [
    "Test-Header", "X-Test-Header", "Content-Foo", "X-Content-Foo", "Cache-Control", "Content-Encoding",
    "Content-Length", "Content-Location", "Content-MD5", "Content-Range", "Content-Security-Policy",
    "Content-Type", "Clear-Site-Data", "ETag", "Expires", "Public-Key-Pins", "Set-Cookie", "Set-Cookie2",
    "X-Frame-Options", "X-XSS-Protection",
]  # fmt: skip
MUST_NOT_STORE = [
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization",
    "Proxy-Connection", "TE", "Transfer-Encoding", "Upgrade",
]  # fmt: skip


@pytest.mark.parametrize("name", MUST_STORE)
def test_end_to_end_fields_are_kept(name: str) -> None:
    entry = stored([("Date", 0), (name, "value-1"), ("Cache-Control", "max-age=3600")])
    assert (name.encode(), b"value-1") in entry.headers


@pytest.mark.parametrize("name", MUST_NOT_STORE)
def test_hop_by_hop_and_proxy_fields_are_dropped(name: str) -> None:
    entry = stored([("Date", 0), (name, "askcumewogyqias"), ("Cache-Control", "max-age=3600")])
    assert all(n.lower() != name.lower().encode() for n, _ in entry.headers)
    assert name.lower().encode() in NOT_STORED


def test_fields_named_by_connection_are_dropped() -> None:
    # headers-omit-headers-listed-in-Connection (required)
    entry = stored(
        [("Cache-Control", "max-age=100000"), ("Date", 0), ("Connection", "a, b"), ("a", "1"), ("b", "2"), ("c", "3")]
    )
    names = [n for n, _ in entry.headers]
    assert b"a" not in names and b"b" not in names and b"Connection" not in names
    assert (b"c", b"3") in entry.headers


@pytest.mark.parametrize(
    ("spec", "gone", "kept"),
    [
        (
            [("Cache-Control", 'no-cache="a"'), ("a", "1"), ("b", "2"), ("Cache-Control", "max-age=3600")],
            {b"a"},
            {b"b"},
        ),
        ([("Cache-Control", 'no-cache="a, b"'), ("a", "1"), ("b", "2"), ("c", "3")], {b"a", b"b"}, {b"c"}),
        (
            [("Cache-Control", "private=set-cookie, max-age=5"), ("Set-Cookie", "s=1"), ("x", "1")],
            {b"set-cookie"},
            {b"x"},
        ),
    ],
)
def test_qualified_no_cache_and_private_fields_are_not_stored(
    spec: list[tuple[str, str | int]], gone: set[bytes], kept: set[bytes]
) -> None:
    names = {n.lower() for n, _ in stored(spec).headers}
    assert not names & gone
    assert kept <= names


def test_names_and_order_are_kept_as_received() -> None:
    entry = stored([("X-B", "2"), ("x-a", "1"), ("X-B", "3"), ("Date", 0)])
    assert entry.headers == ((b"X-B", b"2"), (b"x-a", b"1"), (b"X-B", b"3"), (b"Date", http_date(0)))


def test_a_missing_date_is_appended_with_the_receipt_time() -> None:
    entry = stored([("Cache-Control", "max-age=5")], response_time=T + 7)
    assert entry.headers[-1] == (b"date", format_http_date(T + 7))
    assert entry.date == T + 7


def test_an_invalid_date_is_kept_but_the_receipt_time_is_used() -> None:
    entry = stored([("Date", "foo"), ("Expires", 10)], response_time=T + 1)
    assert (b"Date", b"foo") in entry.headers
    assert entry.date == T + 1
    assert entry.lifetime == 9


def test_facts() -> None:
    entry = stored(
        [
            ("Date", -10),
            ("Cache-Control", "max-age=60"),
            ("Age", "5"),
            ("ETag", '"x"'),
            ("Last-Modified", -3600),
            ("Vary", "Accept-Encoding"),
        ],
        request=[("Accept-Encoding", "GZIP, br")],
        request_time=T,
        response_time=T + 1,
    )
    assert entry.lifetime == 60 and not entry.heuristic
    assert entry.initial_age == 11  # apparent age 11 beats Age 5 + delay 1
    assert entry.age(T + 11) == 21
    assert entry.is_fresh(T + 49.999) and not entry.is_fresh(T + 50)  # fresh while lifetime > age
    assert entry.ttl(T + 1) == 49
    assert entry.etag == b'"x"'
    assert entry.last_modified == http_date(-3600)
    assert entry.last_modified_time == T - 3600
    assert entry.vary == (b"accept-encoding",)
    assert entry.vary_values == (b"gzip, br",)


def test_size_counts_body_headers_vary_values_and_overhead() -> None:
    entry = stored([("Date", 0), ("Vary", "Foo")], body=b"x" * 100, request=[("Foo", "abc")])
    header_bytes = sum(len(n) + len(v) for n, v in entry.headers)
    assert entry.size == 100 + header_bytes + 3 + ENTRY_OVERHEAD
    assert entry_size([], b"") == ENTRY_OVERHEAD
