"""Freshness lifetime, heuristics and age (RFC 9111 sections 4.2.1 to 4.2.3, 5.1), with the suite's cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.cache.directives import MAX_DELTA, Directives, parse_cache_control
from edge.cache.freshness import (
    DEFAULT_HEURISTIC,
    Heuristic,
    corrected_initial_age,
    current_age,
    freshness_lifetime,
    parse_age,
)

from .conftest import T, stored


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b"7200"], 7200),
        ([b"0"], 0),
        ([b"abc"], None),  # age-parse-nonnumeric: ignored
        ([b"-7200"], None),  # age-parse-negative
        ([b"7200.0"], None),  # age-parse-float
        ([b"2147483647"], 2147483647),  # age-parse-large-minus-one
        ([b"2147483648"], MAX_DELTA),  # age-parse-large
        ([b"2147483649"], MAX_DELTA),  # age-parse-larger: saturates
        ([b"99999999999999999999"], MAX_DELTA),
        ([b"7200, 0"], 7200),  # age-parse-suffix: first member
        ([b"0, 7200"], 0),  # age-parse-prefix
        ([b"7200", b"0"], 7200),  # age-parse-suffix-twoline: first line
        ([b"0", b"7200"], 0),  # age-parse-prefix-twoline
        ([b"0, 0"], 0),
        ([b"3600", b"3600"], 3600),  # age-parse-dup-old
        ([b"7200;foo=bar"], 7200),  # age-parse-parameter (check)
        ([b" 30 "], 30),
        ([b""], None),
        ([], None),
    ],
)
def test_parse_age(lines: list[bytes], expected: int | None) -> None:
    assert parse_age(lines) == expected


def lifetime(
    cc: bytes = b"",
    *,
    status: int = 200,
    date: float = T,
    expires: float | None = None,
    has_expires: bool = False,
    last_modified: float | None = None,
    shared: bool = True,
    heuristic: Heuristic = DEFAULT_HEURISTIC,
) -> tuple[float, bool]:
    found = freshness_lifetime(
        parse_cache_control([cc]) if cc else Directives(),
        status=status,
        date=date,
        expires=expires,
        has_expires=has_expires or expires is not None,
        last_modified=last_modified,
        shared=shared,
        heuristic=heuristic,
    )
    return found.seconds, found.heuristic


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"cc": b"max-age=3600"}, (3600, False)),
        ({"cc": b"s-maxage=1, max-age=3600"}, (1, False)),  # shared: s-maxage first
        ({"cc": b"s-maxage=1, max-age=3600", "shared": False}, (3600, False)),  # private caches ignore it
        ({"cc": b"max-age=0, s-maxage=3600", "expires": T - 10}, (3600, False)),
        ({"cc": b"max-age=3600", "expires": T - 7200}, (3600, False)),  # max-age beats a past Expires
        ({"cc": b"max-age=0", "expires": T + 3600}, (0, False)),
        ({"expires": T + 2592000}, (2592000, False)),
        ({"expires": T - 2592000}, (0, False)),
        ({"expires": T}, (0, False)),  # freshness-expires-present
        ({"expires": T + 300, "date": T + 400}, (0, False)),  # freshness-expires-old-date
        ({"expires": None, "has_expires": True}, (0, False)),  # invalid Expires: already expired
        ({"expires": None, "has_expires": True, "last_modified": T - 86400}, (0, False)),  # no heuristic either
        ({"expires": T + 9e12}, (MAX_DELTA, False)),
        # heuristics (section 4.2.2): 10% of Date - Last-Modified, capped at a day
        ({"last_modified": T - 86400}, (8640, True)),
        ({"last_modified": T - 5}, (0.5, True)),
        ({"last_modified": T - 100 * 86400}, (86400, True)),
        ({"last_modified": T + 50}, (0, True)),  # Last-Modified after Date: no freshness
        ({"last_modified": T - 86400, "status": 404}, (8640, True)),
        ({"last_modified": T - 86400, "status": 201}, (0, False)),  # heuristic-201-not_cached
        ({"last_modified": T - 86400, "status": 403}, (0, False)),
        ({"last_modified": T - 86400, "status": 502}, (0, False)),
        ({"last_modified": T - 86400, "status": 599}, (0, False)),
        ({"last_modified": T - 86400, "status": 599, "cc": b"public"}, (8640, True)),  # heuristic-599-cached
        ({"last_modified": T - 86400, "cc": b"must-revalidate"}, (8640, True)),
        ({"last_modified": T - 86400, "heuristic": Heuristic(fraction=0.0)}, (0, False)),
        ({"last_modified": T - 86400, "heuristic": Heuristic(fraction=0.5, cap=600)}, (600, True)),
        ({}, (0, False)),
    ],
)
def test_freshness_lifetime(kwargs: dict[str, object], expected: tuple[float, bool]) -> None:
    assert lifetime(**kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("age_value", "date", "request_time", "response_time", "expected"),
    [
        (None, T, T, T, 0.0),
        (7200, T, T, T, 7200.0),  # freshness-max-age-age: Age counts
        (None, T - 7200, T, T, 7200.0),  # freshness-max-age-date: apparent_age counts
        (25, T - 10, T, T, 25.0),  # freshness-expires-age-slow-date: corrected age beats apparent age
        (15, T + 10, T, T, 15.0),  # freshness-expires-age-fast-date: a Date in the future gives apparent_age 0
        (5, T, T - 2, T, 7.0),  # response_delay is added to Age
        (None, T - 3, T - 2, T, 3.0),  # apparent age (3) beats delay (2)
        (None, T, T + 5, T, 0.0),  # a clock that stepped back: the delay is not negative
        (MAX_DELTA, T - 100, T - 100, T, float(MAX_DELTA)),  # saturates
    ],
)
def test_corrected_initial_age(
    age_value: int | None, date: float, request_time: float, response_time: float, expected: float
) -> None:
    got = corrected_initial_age(age_value=age_value, date=date, request_time=request_time, response_time=response_time)
    assert got == expected


def test_current_age_adds_resident_time_and_never_goes_back() -> None:
    assert current_age(10.0, T, T + 3) == 13.0
    assert current_age(10.0, T, T - 3) == 10.0


@given(
    age_value=st.one_of(st.none(), st.integers(min_value=0, max_value=MAX_DELTA)),
    date=st.floats(min_value=0, max_value=4e9),
    request_time=st.floats(min_value=0, max_value=4e9),
    response_time=st.floats(min_value=0, max_value=4e9),
    now=st.floats(min_value=0, max_value=4e9),
)
def test_age_is_never_negative(
    age_value: int | None, date: float, request_time: float, response_time: float, now: float
) -> None:
    initial = corrected_initial_age(
        age_value=age_value, date=date, request_time=request_time, response_time=response_time
    )
    assert initial >= 0
    assert current_age(initial, response_time, now) >= initial


# The suite's freshness cases end to end through the stored entry: request 2 comes 3 s after request 1.
@pytest.mark.parametrize(
    ("spec", "fresh_after_pause"),
    [
        ([("Cache-Control", "max-age=3600")], True),
        ([("Cache-Control", "max-age=2"), ("Date", 0)], False),  # freshness-max-age-stale
        ([("Cache-Control", "max-age=0")], False),
        ([("Cache-Control", "max-age=2147483648")], True),
        ([("Cache-Control", "max-age=-3600")], False),
        ([("Date", 0), ("Cache-Control", "max-age=3600"), ("Age", "7200")], False),
        ([("Date", -7200), ("Cache-Control", "max-age=3600")], False),
        ([("Cache-Control", "max-age=3600"), ("Expires", "0"), ("Date", 0)], True),
        ([("Expires", 3600), ("Cache-Control", "max-age=0"), ("Date", 0)], False),
        ([("Cache-Control", "max-age=3600, s-maxage=1")], False),  # freshness-max-age-s-maxage-shared-longer
        ([("Cache-Control", "s-maxage=1"), ("Cache-Control", "max-age=3600")], False),
        ([("Cache-Control", "max-age=1, s-maxage=3600")], True),
        ([("Expires", 2592000), ("Date", 0)], True),
        ([("Expires", -2592000), ("Date", 0)], False),
        ([("Expires", "0"), ("Date", 0)], False),
        ([("Expires", "Thu, 18 Aug 2050 02:01:18 UTC"), ("Date", 0)], False),
        ([("Expires", "Thu, 18 Aug 2050 02:01:18 GMT"), ("Date", 0)], True),
        ([("Expires", "Thursday, 18-Aug-50 02:01:18 GMT"), ("Date", 0)], True),
        ([("Expires", "Thu Aug 18 02:01:18 2050"), ("Date", 0)], True),
        ([("Date", "foo"), ("Expires", 10)], True),  # freshness-expires-invalid-date: Date is the receipt time
        ([("Date", -10), ("Expires", 10), ("Age", "25")], False),
        ([("Date", 10), ("Expires", 20), ("Age", "15")], False),
        ([("Last-Modified", -86400), ("Date", 0)], True),  # heuristic-200-cached
        ([("Expires", -5000), ("Last-Modified", -100000), ("Date", 0)], False),  # the "stale" template
        ([("CDN-Cache-Control", "max-age=3600"), ("Expires", -10000), ("Date", 0)], True),
        ([("Cache-Control", "max-age=3600"), ("CDN-Cache-Control", "max-age=1")], False),
        ([("Date", 0), ("CDN-Cache-Control", "max-age=3600"), ("Age", "7200")], False),
    ],
)
def test_fresh_after_the_suites_pause(spec: list[tuple[str, str | int]], fresh_after_pause: bool) -> None:
    entry = stored(spec, request_time=T - 0.05, response_time=T + 0.05)
    assert entry.is_fresh(T + 3.05) is fresh_after_pause
