"""May a shared cache store it? (RFC 9111 section 3), the suite's storage cases and edge's own refusals."""

from __future__ import annotations

import pytest

from edge.cache.directives import parse_cache_control, request_directives, response_directives
from edge.cache.storability import UNDERSTOOD_STATUSES, is_storable

from .conftest import Spec, headers

FRESH = [("Cache-Control", "max-age=3600"), ("Date", 0)]


def verdict(
    spec: Spec,
    *,
    status: int = 200,
    method: str = "GET",
    request: Spec = (),
    store_set_cookie: bool = False,
    shared: bool = True,
) -> str:
    response_headers = headers(spec)
    request_headers = [(n.lower(), v) for n, v in headers(request)]
    result = is_storable(
        method,
        request_headers,
        status,
        response_headers,
        store_set_cookie=store_set_cookie,
        response=response_directives(response_headers),
        request=request_directives(request_headers),
        shared=shared,
    )
    assert bool(result) is (result.reason == "")
    return result.reason


@pytest.mark.parametrize(
    ("spec", "kwargs", "reason"),
    [
        (FRESH, {}, ""),
        (FRESH, {"method": "HEAD"}, "method"),
        (FRESH, {"method": "POST"}, "method"),
        (FRESH, {"status": 103}, "status is not final"),  # interim-not-cached
        (FRESH, {"status": 304}, "304"),
        (FRESH, {"status": 206}, "206"),
        (FRESH, {"request": [("Cache-Control", "no-store")]}, "request has no-store"),
        (FRESH, {"request": [("Cache-Control", "nothing-to-see-here"), ("Pragma", "foo")]}, ""),
        ([("Cache-Control", "no-store")], {}, "response has no-store"),  # cc-resp-no-store
        ([("Cache-Control", "No-StOrE")], {}, "response has no-store"),
        ([("Cache-Control", "max-age=10000, no-store"), ("Expires", 10000), ("Date", 0)], {}, "response has no-store"),
        ([("Cache-Control", "no-store, max-age=0")], {}, "response has no-store"),
        ([("Cache-Control", "private, max-age=3600")], {}, "private"),  # cc-resp-private-shared
        ([("Cache-Control", "private, max-age=3600")], {"shared": False}, ""),
        ([("Cache-Control", "private=set-cookie, max-age=3600")], {}, ""),  # qualified: stored minus the field
        ([("Cache-Control", "max-age=10000, no-cache"), ("Expires", 10000), ("Date", 0)], {}, ""),  # revalidated on use
        # must-understand (section 5.2.2.3): no-store is overridden for understood statuses
        ([("Cache-Control", "max-age=3600, no-store, must-understand")], {"status": 599}, "must-understand"),
        ([("Cache-Control", "max-age=3600, no-store, must-understand")], {"status": 200}, ""),
        ([("Cache-Control", "max-age=3600, must-understand")], {"status": 299}, "must-understand"),
        # Authorization (section 3.5)
        (FRESH, {"request": [("Authorization", "FOO")]}, "Authorization"),  # other-authorization
        ([("Cache-Control", "max-age=3600, public")], {"request": [("Authorization", "FOO")]}, ""),
        ([("Cache-Control", "max-age=3600, must-revalidate")], {"request": [("Authorization", "FOO")]}, ""),
        ([("Cache-Control", "s-maxage=3600")], {"request": [("Authorization", "FOO")]}, ""),
        ([("CDN-Cache-Control", "s-maxage=3600")], {"request": [("Authorization", "FOO")]}, ""),
        (FRESH, {"request": [("Authorization", "FOO")], "shared": False}, ""),
        # Set-Cookie: edge's switch
        ([*FRESH, ("Set-Cookie", "a=b")], {}, "cookie"),
        ([*FRESH, ("set-cookie2", "a=b")], {}, ""),  # obsolete, ignored by browsers: stored, as nginx does
        ([*FRESH, ("Set-Cookie", "a=b")], {"store_set_cookie": True}, ""),
        # Vary: * in any form (vary-parse)
        ([*FRESH, ("Vary", "*")], {}, "Vary: *"),
        ([*FRESH, ("Vary", "*, *")], {}, "Vary: *"),
        ([*FRESH, ("Vary", "*"), ("Vary", "*")], {}, "Vary: *"),
        ([*FRESH, ("Vary", ", *")], {}, "Vary: *"),
        ([*FRESH, ("Vary", ""), ("Vary", "*")], {}, "Vary: *"),
        ([*FRESH, ("Vary", "*, Foo")], {}, "Vary: *"),
        ([*FRESH, ("Vary", "Foo, *")], {}, "Vary: *"),
        ([*FRESH, ("Vary", "Foo")], {}, ""),
        # section 3's last condition: something that allows caching
        ([("Last-Modified", -86400), ("Date", 0)], {}, ""),  # heuristically cacheable 200
        ([("Last-Modified", -86400), ("Date", 0)], {"status": 404}, ""),
        ([("Last-Modified", -86400), ("Date", 0)], {"status": 201}, "heuristically cacheable"),
        ([("Last-Modified", -86400), ("Date", 0)], {"status": 403}, "heuristically cacheable"),
        ([("Last-Modified", -86400), ("Date", 0)], {"status": 502}, "heuristically cacheable"),
        ([("Last-Modified", -86400), ("Date", 0)], {"status": 599}, "heuristically cacheable"),
        ([("Last-Modified", -86400), ("Date", 0), ("Cache-Control", "public")], {"status": 599}, ""),
        ([("Cache-Control", "max-age=100000")], {"status": 599}, ""),  # status-599-fresh: explicit freshness suffices
        ([("Expires", "0")], {"status": 500}, ""),  # an invalid Expires still counts as present
        # edge: nothing to reuse and nothing to revalidate with
        ([("Date", 0)], {}, "no explicit freshness and no validator"),  # freshness-none
        ([("Cache-Control", "public")], {}, "no explicit freshness and no validator"),
        ([("ETag", '"a"')], {}, ""),
        # CDN-Cache-Control decides for this cache
        ([("Cache-Control", "no-store"), ("CDN-Cache-Control", "max-age=10000")], {}, ""),  # cdn-fresh-cc-nostore
        ([("Cache-Control", "max-age=10000"), ("CDN-Cache-Control", "no-store")], {}, "response has no-store"),
        ([("Cache-Control", "max-age=10000"), ("CDN-Cache-Control", "private")], {}, "private"),  # cdn-private
        ([("CDN-Cache-Control", "max-age=10000, &&&&&"), ("Cache-Control", "no-store")], {}, "response has no-store"),
    ],
)
def test_is_storable(spec: Spec, kwargs: dict[str, object], reason: str) -> None:
    got = verdict(spec, **kwargs)  # type: ignore[arg-type]
    if reason:
        assert reason in got
    else:
        assert got == ""


def test_reasons_cite_their_source() -> None:
    assert "RFC 9111 section 5.2.2.5" in verdict([("Cache-Control", "no-store")])
    assert "edge" in verdict([("Date", 0)])


def test_understood_statuses_exclude_partial_and_not_modified() -> None:
    assert {200, 301, 404, 410, 500, 503}.issubset(UNDERSTOOD_STATUSES)
    assert not {206, 304, 299, 499, 599}.intersection(UNDERSTOOD_STATUSES)


def test_directives_default_to_empty() -> None:
    from edge.cache.storability import is_storable as storable

    assert storable("GET", [], 200, [(b"etag", b'"a"')], store_set_cookie=False, response=parse_cache_control([]))
