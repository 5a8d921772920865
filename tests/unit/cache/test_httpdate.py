"""HTTP-date parsing (RFC 9110 section 5.6.7), with the Expires formats http-tests/cache-tests checks."""

from __future__ import annotations

import calendar

import pytest

from edge.cache.httpdate import format_http_date, parse_http_date

NOW = float(calendar.timegm((2026, 3, 1, 12, 0, 0)))
AUG_2050 = float(calendar.timegm((2050, 8, 18, 2, 1, 18)))
NOV_1994 = float(calendar.timegm((1994, 11, 6, 8, 49, 37)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # RFC 9110 section 5.6.7's three examples of the same instant
        (b"Sun, 06 Nov 1994 08:49:37 GMT", NOV_1994),
        (b"Sunday, 06-Nov-94 08:49:37 GMT", NOV_1994),
        (b"Sun Nov  6 08:49:37 1994", NOV_1994),
        # expires-parse: accepted formats (optimal tests)
        (b"Thu, 18 Aug 2050 02:01:18 GMT", AUG_2050),
        (b"Thursday, 18-Aug-50 02:01:18 GMT", AUG_2050),
        (b"Thu Aug 18 02:01:18 2050", AUG_2050),
        (b"THU, 18 Aug 2050 02:01:18 GMT", AUG_2050),
        (b"Thu, 18 AUG 2050 02:01:18 GMT", AUG_2050),
        (b"Thu, 18 Aug 2050 02:01:18 gMT", AUG_2050),
        (b"Tue, 19 Jan 2038 03:14:08 GMT", float(2**31)),
        (b"Sat, 20 Nov 2286 17:46:39 GMT", 9999999999.0),
        (b"  Sun, 06 Nov 1994 08:49:37 GMT ", NOV_1994),
        (b"Wed, 31 Dec 2025 23:59:60 GMT", float(calendar.timegm((2026, 1, 1, 0, 0, 0)))),  # leap second
    ],
)
def test_valid_dates(value: bytes, expected: float) -> None:
    assert parse_http_date(value, now=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        b"0",
        b"",
        b"-1",
        b"foo",
        # expires-parse: required "must not reuse" cases, each an invalid Expires
        b"Thu, 18 Aug 2050 02:01:18 UTC",
        b"Thu, 18 Aug 2050 02:01:18 AEST",
        b"Thu, 18 Aug 50 02:01:18 GMT",
        b"Thu 18 Aug 2050 02:01:18 GMT",
        b"Thu, 18  Aug  2050 02:01:18 GMT",
        b"Thu, 18-Aug-2050 02:01:18 GMT",
        b"Thu, 18 Aug 2050 02.01.18 GMT",
        b"Thu, 18 Aug 2050 2:01:18 GMT",
        b"Thu, 18 Aug 2050 2:01:18 GMT, Thu, 18 Aug 2050 2:01:19 GMT",
        # out of range fields and wrong names
        b"Thu, 31 Feb 2050 02:01:18 GMT",
        b"Thu, 18 Aug 2050 24:01:18 GMT",
        b"Thu, 18 Aug 2050 02:60:18 GMT",
        b"Thu, 18 Aug 2050 02:01:61 GMT",
        b"Thu, 18 Foo 2050 02:01:18 GMT",
        b"Xyz, 18 Aug 2050 02:01:18 GMT",
        b"Thuday, 18-Aug-50 02:01:18 GMT",
        b"Thu, 00 Aug 2050 02:01:18 GMT",
        b"Thu, 18 Aug 2050 02:01:18 GMT junk",
        b"Thu, 18 Aug 2050 02:01:18",
    ],
)
def test_invalid_dates_are_none(value: bytes) -> None:
    assert parse_http_date(value, now=NOW) is None


@pytest.mark.parametrize(
    ("value", "now_year", "expected_year"),
    [
        (b"Thursday, 18-Aug-50 02:01:18 GMT", 2026, 2050),  # 24 years ahead: this century
        (b"Thursday, 18-Aug-80 02:01:18 GMT", 2026, 1980),  # 54 years ahead: the previous century
        (b"Thursday, 18-Aug-74 02:01:18 GMT", 2026, 2074),  # 48 years ahead: still this century
        (b"Thursday, 18-Aug-25 02:01:18 GMT", 2099, 2025),  # past years are never moved forward
    ],
)
def test_rfc850_two_digit_years_pivot_on_now(value: bytes, now_year: int, expected_year: int) -> None:
    now = float(calendar.timegm((now_year, 3, 1, 0, 0, 0)))
    parsed = parse_http_date(value, now=now)
    assert parsed is not None
    assert calendar.timegm((expected_year, 8, 18, 2, 1, 18)) == parsed


def test_format_round_trips() -> None:
    assert format_http_date(NOV_1994) == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_http_date(format_http_date(NOW + 0.7), now=NOW) == NOW
