"""Age (RFC 9111 section 5.1) and Cache-Status (RFC 9211) on responses served from the cache."""

from __future__ import annotations

import pytest

from edge.cache.directives import MAX_DELTA
from edge.cache.status import HIT, HIT_STALE, CacheStatus, age_value, served_headers, with_cache_status

from .conftest import T, http_date, stored


@pytest.mark.parametrize(
    ("age", "expected"),
    [(0.0, b"0"), (2.999, b"2"), (32.5, b"32"), (-1.0, b"0"), (float(MAX_DELTA) * 4, b"2147483648")],
)
def test_age_value(age: float, expected: bytes) -> None:
    assert age_value(age) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CacheStatus(hit=True), b"edge; hit"),
        (CacheStatus(hit=True, ttl=30), b"edge; hit; ttl=30"),
        (CacheStatus(hit=True, detail="stale"), b"edge; hit; detail=stale"),
        (CacheStatus(fwd="miss", stored=True), b"edge; fwd=miss; stored"),
        (CacheStatus(fwd="stale", fwd_status=304, stored=True), b"edge; fwd=stale; fwd-status=304; stored"),
        (CacheStatus(fwd="uri-miss"), b"edge; fwd=uri-miss"),
        (CacheStatus(fwd="vary-miss", fwd_status=200), b"edge; fwd=vary-miss; fwd-status=200"),
        (CacheStatus(fwd="bypass"), b"edge; fwd=bypass"),
        (CacheStatus(fwd="method"), b"edge; fwd=method"),
        (CacheStatus(fwd="request", ttl=-5), b"edge; fwd=request; ttl=-5"),
        (CacheStatus(fwd="miss", collapsed=True), b"edge; fwd=miss; collapsed"),
        (CacheStatus(fwd="miss", key="https://a/b"), b'edge; fwd=miss; key="https://a/b"'),
        (CacheStatus(fwd="miss", detail="response has no-store"), b'edge; fwd=miss; detail="response has no-store"'),
        (CacheStatus(fwd="miss", detail='say "hi"\\'), b'edge; fwd=miss; detail="say \\"hi\\"\\\\"'),
        (CacheStatus(hit=True, cache="edge-1.example"), b"edge-1.example; hit"),
        (CacheStatus(hit=True, cache="my cache"), b'"my cache"; hit'),
    ],
)
def test_cache_status_values(status: CacheStatus, expected: bytes) -> None:
    assert status.value() == expected


def test_unknown_forward_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="fwd='nope'"):
        CacheStatus(fwd="nope")


def test_constants() -> None:
    assert HIT == b"edge; hit"
    assert HIT_STALE == b"edge; hit; detail=stale"


def test_served_headers_replace_age_keep_date_and_append_status() -> None:
    # other-age-update-max-age, other-date-update (required)
    entry = stored(
        [("Cache-Control", "max-age=100000"), ("Date", 0), ("Age", "30"), ("Cache-Status", "origin-cache; hit")]
    )
    out = served_headers(entry, T + 3, HIT)
    assert [v for n, v in out if n.lower() == b"age"] == [b"33"]
    assert (b"Date", http_date(0)) in out
    assert [v for n, v in out if n.lower() == b"cache-status"] == [b"origin-cache; hit", b"edge; hit"]
    assert with_cache_status([(b"x", b"1")], HIT_STALE) == [(b"x", b"1"), (b"cache-status", b"edge; hit; detail=stale")]
