"""Cache-Control parsing (RFC 9111 section 5.2) and targeted fields (RFC 9213), cases from cc-parse and cdn-cache-control."""

from __future__ import annotations

from typing import Any

import pytest

from edge.cache.directives import (
    EMPTY,
    MAX_DELTA,
    Directives,
    parse_cache_control,
    parse_targeted,
    request_directives,
    response_directives,
)


def cc(*lines: bytes) -> Directives:
    return parse_cache_control(list(lines))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ((b"max-age=3600",), {"max_age": 3600}),
        ((b"MaX-aGe=3600",), {"max_age": 3600}),
        ((b"max-age=003600",), {"max_age": 3600}),  # cc-parse leading-zero (required)
        ((b"foobar, max-age=3600",), {"max_age": 3600}),  # unknown extension ignored
        ((b'max-age="3600"',), {"max_age": 3600}),  # quoted form accepted (section 5.2)
        # a max-age inside a quoted extension value is not a directive (ignore-quoted, -rev: required)
        ((b'extension="max-age=3600", max-age=1',), {"max_age": 1}),
        ((b'max-age=1, extension="max-age=3600"',), {"max_age": 1}),
        # invalid max-age values mean stale (section 4.2.1)
        ((b"max-age='3600'",), {"max_age": 0}),  # single-quoted (required)
        ((b"max-age=-3600",), {"max_age": 0}),
        ((b"max-age=3600.0",), {"max_age": 0}),
        ((b"max-age=a3600",), {"max_age": 0}),
        ((b"max-age=3600a",), {"max_age": 0}),
        ((b"max-age",), {"max_age": 0}),
        ((b"max-age= 3600",), {"max_age": 0}),
        ((b"s-maxage=x",), {"s_maxage": 0}),
        # a name followed by a space is not the max-age token: ignored
        ((b"max-age =3600",), {}),
        # duplicates: the first occurrence wins (section 4.2.1), on one line or several
        ((b"max-age=1800, max-age=1",), {"max_age": 1800}),
        ((b"max-age=1", b"max-age=1800"), {"max_age": 1}),
        ((b"max-age=bad, max-age=60",), {"max_age": 0}),
        # saturation at 2^31 (section 1.2.2)
        ((b"max-age=2147483647",), {"max_age": 2147483647}),
        ((b"max-age=2147483648",), {"max_age": MAX_DELTA}),
        ((b"max-age=99999999999",), {"max_age": MAX_DELTA}),
        # s-maxage and max-age together, either order, one line or two
        ((b"max-age=3600, s-maxage=1",), {"max_age": 3600, "s_maxage": 1}),
        ((b"s-maxage=1", b"max-age=3600"), {"max_age": 3600, "s_maxage": 1}),
        # flags, case-insensitive
        ((b"No-StOrE",), {"no_store": True}),
        ((b"max-age=10000, No-CaChE",), {"max_age": 10000, "no_cache": True}),
        ((b"private, max-age=3600",), {"private": True, "max_age": 3600}),
        (
            (b"public, must-revalidate, proxy-revalidate",),
            {"public": True, "must_revalidate": True, "proxy_revalidate": True},
        ),
        ((b"max-age=3600, no-store, must-understand",), {"max_age": 3600, "no_store": True, "must_understand": True}),
        ((b"immutable, no-transform",), {"immutable": True, "no_transform": True}),
        # qualified no-cache / private (sections 5.2.2.4, 5.2.2.7)
        ((b'no-cache="a"', b"max-age=3600"), {"no_cache_fields": frozenset({b"a"}), "max_age": 3600}),
        ((b'no-cache="A, b"',), {"no_cache_fields": frozenset({b"a", b"b"})}),
        ((b"private=set-cookie",), {"private_fields": frozenset({b"set-cookie"})}),
        ((b'no-cache=""',), {"no_cache": True}),  # empty list: the stricter unqualified form
        ((b'no-cache="a b"',), {"no_cache": True}),
        ((b'private="unterminated',), {"private": True}),
        # stale extensions (RFC 5861) and request directives
        ((b"max-age=1, stale-while-revalidate=4",), {"max_age": 1, "stale_while_revalidate": 4}),
        ((b"stale-if-error=60",), {"stale_if_error": 60}),
        ((b"stale-if-error=soon",), {}),
        ((b"max-stale",), {"max_stale": MAX_DELTA}),
        ((b"max-stale=1000",), {"max_stale": 1000}),
        ((b"max-stale=x",), {}),
        ((b"min-fresh=2000",), {"min_fresh": 2000}),
        ((b"only-if-cached",), {"only_if_cached": True}),
        ((b"nothing-to-see-here",), {}),
        ((b"",), {}),
        ((b", , ,",), {}),
    ],
)
def test_parse_cache_control(lines: tuple[bytes, ...], expected: dict[str, Any]) -> None:
    assert cc(*lines) == Directives(**expected)


def test_absent_field_is_empty() -> None:
    assert parse_cache_control([]) is EMPTY
    assert request_directives([(b"pragma", b"no-cache")]) is EMPTY  # Pragma is ignored (section 5.4)


def test_memo_returns_equal_results_and_stays_bounded() -> None:
    from edge.cache import directives

    for n in range(directives._MEMO_LIMIT + 10):
        assert cc(b"max-age=%d" % n).max_age == n
    assert len(directives._MEMO) <= directives._MEMO_LIMIT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"max-age=3600", {"max_age": 3600}),
        (b"max-age=0", {"max_age": 0}),
        (b"foobar, max-age=3600", {"max_age": 3600}),
        (b"max-age=2147483648", {"max_age": MAX_DELTA}),
        (b"max-age=99999999999", {"max_age": MAX_DELTA}),
        (b"no-store", {"no_store": True}),
        (b"private", {"private": True}),
        (b"no-cache", {"no_cache": True}),
        (b"no-store=?0, max-age=5", {"max_age": 5}),
        (b"max-age=5;foo=bar, s-maxage=7", {"max_age": 5, "s_maxage": 7}),  # parameters ignored
        (b'unknown="x", max-age=5', {"max_age": 5}),  # unknown directives of any type ignored
        (
            b"max-age=5, stale-while-revalidate=30, must-revalidate",
            {"max_age": 5, "stale_while_revalidate": 30, "must_revalidate": True},
        ),
    ],
)
def test_parse_targeted(value: bytes, expected: dict[str, Any]) -> None:
    assert parse_targeted(value) == Directives(**expected)


@pytest.mark.parametrize(
    "value",
    [
        b"max-age=10000, &&&&&",  # cdn-cc-invalid-sh-type-unknown (required)
        b'max-age="10000"',  # cdn-cc-invalid-sh-type-wrong (required)
        b"max-age =100",
        b"max-age= 100",
        b"MaX-aGe=3600",  # Structured Field keys are lower-case
        b"max-age=-1",
        b"max-age=1.5",
        b"no-store=1",
        b'private="set-cookie"',
        b"max-age=5,",
        b"",
    ],
)
def test_invalid_targeted_field_is_none(value: bytes) -> None:
    assert parse_targeted(value) is None


CDN = b"cdn-cache-control"


@pytest.mark.parametrize(
    ("headers", "expected", "source"),
    [
        # cdn-fresh-cc-nostore: a valid CDN-Cache-Control replaces Cache-Control entirely
        ([(b"Cache-Control", b"no-store"), (b"CDN-Cache-Control", b"max-age=10000")], {"max_age": 10000}, CDN),
        # cdn-no-store-cc-fresh
        ([(b"Cache-Control", b"max-age=10000"), (b"CDN-Cache-Control", b"no-store")], {"no_store": True}, CDN),
        # cdn-max-age-long-cc-max-age
        ([(b"Cache-Control", b"max-age=3600"), (b"CDN-Cache-Control", b"max-age=1")], {"max_age": 1}, CDN),
        # an invalid targeted field is ignored: Cache-Control applies
        ([(b"CDN-Cache-Control", b'max-age="10000"'), (b"Cache-Control", b"no-store")], {"no_store": True}, None),
        # two lines of a targeted field are one Dictionary
        (
            [(b"CDN-Cache-Control", b"max-age=5"), (b"CDN-Cache-Control", b"must-revalidate")],
            {"max_age": 5, "must_revalidate": True},
            CDN,
        ),
        ([(b"Cache-Control", b"max-age=5")], {"max_age": 5}, None),
    ],
)
def test_response_directives_default_target(
    headers: list[tuple[bytes, bytes]], expected: dict[str, Any], source: bytes | None
) -> None:
    assert response_directives(headers) == Directives(**expected, targeted=source)


def test_first_listed_valid_target_wins() -> None:
    headers = [
        (b"cache-control", b"max-age=1"),
        (b"cdn-cache-control", b"max-age=2"),
        (b"edge-cache-control", b"max-age=3"),
    ]
    order = (b"edge-cache-control", b"cdn-cache-control")
    assert response_directives(headers, order).max_age == 3
    assert response_directives(headers, order).targeted == b"edge-cache-control"
    broken = [(b"edge-cache-control", b"max-age=x"), *headers[:2]]
    assert response_directives(broken, order).max_age == 2
    assert response_directives(headers, ()).max_age == 1
    assert response_directives(headers, ()).targeted is None
