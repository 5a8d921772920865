"""Invalidation after unsafe methods (RFC 9111 section 4.4) and the primary key it is expressed in."""

from __future__ import annotations

import pytest

from edge.cache.invalidation import invalidated_keys, is_unsafe
from edge.cache.keys import primary_key, resolve

KEY = "https://shop.test/test/abc?x=1"


@pytest.mark.parametrize(
    ("scheme", "host", "target", "expected"),
    [
        ("https", "shop.test", "/a?b=1", "https://shop.test/a?b=1"),
        ("HTTPS", "Shop.Test", "/A?B=1", "https://shop.test/A?B=1"),  # host folds, path and query do not
        ("https", "shop.test:443", "/", "https://shop.test/"),
        ("http", "shop.test:80", "/", "http://shop.test/"),
        ("https", "shop.test:8443", "/", "https://shop.test:8443/"),
        ("http", "shop.test:443", "/", "http://shop.test:443/"),
        ("https", "[::1]:443", "/", "https://[::1]/"),
        ("https", "[::1]:8443", "/", "https://[::1]:8443/"),
        ("https", "[::1]", "/", "https://[::1]/"),
        ("https", "shop.test", "a", "https://shop.test/a"),
    ],
)
def test_primary_key(scheme: str, host: str, target: str, expected: str) -> None:
    assert primary_key(scheme, host, target) == expected


def test_query_arguments_make_different_keys() -> None:
    # query-args-different (required)
    assert primary_key("https", "h", "/p?test=aywusqomkigecay") != primary_key("https", "h", "/p?test=azyxwvutsrqponm")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("/test/abc/location_target", "https://shop.test/test/abc/location_target"),
        ("location_target", "https://shop.test/test/location_target"),
        ("https://shop.test/other", "https://shop.test/other"),
        ("https://SHOP.test:443/other?q", "https://shop.test/other?q"),
        ("https://user@shop.test/other", "https://shop.test/other"),
        ("https://evil.test/other", None),  # another origin is never invalidated
        ("http://shop.test/other", None),
        ("https://shop.test:8443/other", None),
        ("https://[bad", None),
    ],
)
def test_resolve(reference: str, expected: str | None) -> None:
    assert resolve(KEY, reference) == expected


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "M-SEARCH", "PATCH", "post"])
def test_unsafe_methods_invalidate_on_success(method: str) -> None:
    # invalidate-POST, -PUT, -DELETE, -M-SEARCH (required)
    assert is_unsafe(method)
    for status in (200, 201, 204, 301, 303, 399):
        assert invalidated_keys(method, status, KEY, []) == [KEY]


@pytest.mark.parametrize("status", [400, 404, 500, 503, 100])
def test_failures_invalidate_nothing(status: int) -> None:
    # invalidate-POST-failed (optimal)
    assert invalidated_keys("POST", status, KEY, []) == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE"])
def test_safe_methods_invalidate_nothing(method: str) -> None:
    assert not is_unsafe(method)
    assert invalidated_keys(method, 200, KEY, [(b"location", b"/x")]) == []


def test_location_and_content_location_when_same_origin() -> None:
    # invalidate-*-location and -cl (checks)
    headers = [(b"Location", b"/test/abc/location_target"), (b"Content-Location", b"/test/abc/content_location_target")]
    assert invalidated_keys("POST", 201, KEY, headers) == [
        KEY,
        "https://shop.test/test/abc/location_target",
        "https://shop.test/test/abc/content_location_target",
    ]
    foreign = [(b"location", b"https://evil.test/x"), (b"content-location", KEY.encode())]
    assert invalidated_keys("PUT", 200, KEY, foreign) == [KEY]
    assert invalidated_keys("PUT", 200, KEY, [(b"location", "/\u00e9".encode())]) == [KEY]
