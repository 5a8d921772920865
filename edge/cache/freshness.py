"""Freshness lifetime and age of a response (RFC 9111 sections 4.2.1 to 4.2.3), as arithmetic on parsed values.

Times are seconds (floats) passed in by the caller; nothing here reads a clock. The entry builder
(`entry.py`) runs these once when a response is stored, so that a lookup only adds the resident time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edge.cache.directives import MAX_DELTA, Directives
from edge.cache.fields import split_list

# RFC 9110 section 15.1: status codes "heuristically cacheable" by default.
HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})


@dataclass(frozen=True, slots=True)
class Heuristic:
    """How to guess a lifetime when the origin gave none (RFC 9111 section 4.2.2).

    `fraction` of the time since Last-Modified (10% is the RFC's "typical setting"), capped at `cap`
    seconds (one day, as Squid, Varnish and Traffic Server default to roughly); `fraction=0` turns
    heuristic freshness off.
    """

    fraction: float = 0.1
    cap: float = 86400.0


DEFAULT_HEURISTIC = Heuristic()


@dataclass(frozen=True, slots=True)
class Lifetime:
    seconds: float
    heuristic: bool  # True when guessed (section 4.2.2), False when the origin said (section 4.2.1)


def parse_age(lines: Sequence[bytes]) -> int | None:
    """The Age value (RFC 9111 section 5.1): the first member of the first line, or None when invalid.

    Only `1*DIGIT` is valid: negative, decimal and non-numeric values are ignored (the suite's age-parse
    tests); `Age: 7200, 0` and two lines `7200` and `0` both give 7200; parameters (`7200;foo=bar`) are
    cut off. Values past 2^31 saturate (section 1.2.2).
    """
    if not lines:
        return None
    members = split_list(lines[0])
    if not members:
        return None
    value = members[0].partition(b";")[0].strip(b" \t")
    if not value.isdigit():
        return None
    return min(int(value), MAX_DELTA)


def freshness_lifetime(
    directives: Directives,
    *,
    status: int,
    date: float,
    expires: float | None,
    has_expires: bool,
    last_modified: float | None,
    shared: bool = True,
    heuristic: Heuristic = DEFAULT_HEURISTIC,
) -> Lifetime:
    """The response's freshness lifetime in seconds, the first rule of RFC 9111 section 4.2.1 that applies.

    1. s-maxage (shared caches only); 2. max-age; 3. Expires minus Date, where an Expires that is present
    but invalid (`0`, a bad date) means already expired (section 5.3); 4. a heuristic (section 4.2.2), only
    when none of the above is present and the status is heuristically cacheable or the response is
    `public`: `heuristic.fraction` of (Date - Last-Modified), capped. Otherwise 0 (stale at once).
    `date` is the Date value, or the time the response was received when Date is absent or invalid
    (RFC 9110 section 6.6.1).
    """
    if shared and directives.s_maxage is not None:
        return Lifetime(float(directives.s_maxage), False)
    if directives.max_age is not None:
        return Lifetime(float(directives.max_age), False)
    if has_expires:
        if expires is None:
            return Lifetime(0.0, False)
        return Lifetime(min(max(0.0, expires - date), float(MAX_DELTA)), False)
    if last_modified is None or heuristic.fraction <= 0:
        return Lifetime(0.0, False)
    if status not in HEURISTIC_STATUSES and not directives.public:
        return Lifetime(0.0, False)
    return Lifetime(min(heuristic.cap, max(0.0, (date - last_modified) * heuristic.fraction)), True)


def corrected_initial_age(*, age_value: int | None, date: float, request_time: float, response_time: float) -> float:
    """The age the response already had when it arrived (RFC 9111 section 4.2.3).

    apparent_age = max(0, response_time - date_value); response_delay = response_time - request_time;
    corrected_age_value = age_value + response_delay; the result is the larger of apparent_age and
    corrected_age_value. A missing or invalid Age counts as 0. Never negative, even when the caller's
    clock stepped backwards between request and response.
    """
    apparent_age = max(0.0, response_time - date)
    response_delay = max(0.0, response_time - request_time)
    corrected_age_value = (age_value or 0) + response_delay
    return min(max(apparent_age, corrected_age_value), float(MAX_DELTA))


def current_age(initial_age: float, response_time: float, now: float) -> float:
    """corrected_initial_age + resident_time (RFC 9111 section 4.2.3); resident time never below 0."""
    return initial_age + max(0.0, now - response_time)
