"""HTTP-date parsing, strict enough to tell garbage from a date (RFC 9110 section 5.6.7).

Three formats are accepted: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and the two obsolete ones a
recipient MUST still accept, rfc850-date (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime-date
(`Sun Nov  6 08:49:37 1994`). Anything else is None: caches treat an invalid Expires as already expired
(RFC 9111 section 5.3) and ignore an invalid Date or Last-Modified, so a lenient parser here would turn
junk into freshness. `email.utils.parsedate` is not used for that reason: it accepts two-digit IMF years,
other time zones, missing commas and stray spaces, all of which http-tests/cache-tests check are refused.

Day and month names are compared case-insensitively (the grammar is case-sensitive, but the suite's optimal
tests and every major cache accept `THU` or `AUG`); the zone must be GMT in any case. The weekday is not
checked against the date.
"""

from __future__ import annotations

import calendar
import re
import time
from email.utils import formatdate

# Fixed English names: `calendar.month_abbr` follows the process locale.
_MONTHS = {
    name: index
    for index, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_LONG_DAYS = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
_DAYS = frozenset(day[:3] for day in _LONG_DAYS)

_IMF = re.compile(rb"([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) [Gg][Mm][Tt]")
_RFC850 = re.compile(rb"([A-Za-z]{6,9}), (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) [Gg][Mm][Tt]")
_ASCTIME = re.compile(rb"([A-Za-z]{3}) ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})")

_FIFTY_YEARS = 50 * 365.25 * 86400


def parse_http_date(value: bytes, *, now: float) -> float | None:
    """Seconds since the epoch for an HTTP-date, or None when `value` is not one.

    `now` (seconds) resolves rfc850's two-digit year: a year that appears more than 50 years in the future
    is the most recent past year with those digits (RFC 9110 section 5.6.7). Leading and trailing
    whitespace is ignored; anything else out of the grammar makes the value invalid.
    """
    text = value.strip(b" \t")
    match = _IMF.fullmatch(text)
    if match is not None:
        day_name, day, month, year, hour, minute, second = match.groups()
        if day_name.lower().decode() not in _DAYS:
            return None
        return _timestamp(int(year), month, int(day), int(hour), int(minute), int(second))
    match = _RFC850.fullmatch(text)
    if match is not None:
        day_name, day, month, short_year, hour, minute, second = match.groups()
        if day_name.lower().decode() not in _LONG_DAYS:
            return None
        year = _full_year(int(short_year), now)
        stamp = _timestamp(year, month, int(day), int(hour), int(minute), int(second))
        if stamp is not None and stamp - now > _FIFTY_YEARS:
            stamp = _timestamp(year - 100, month, int(day), int(hour), int(minute), int(second))
        return stamp
    match = _ASCTIME.fullmatch(text)
    if match is not None:
        day_name, month, day, hour, minute, second, year = match.groups()
        if day_name.lower().decode() not in _DAYS:
            return None
        return _timestamp(int(year), month, int(day.strip()), int(hour), int(minute), int(second))
    return None


def format_http_date(timestamp: float) -> bytes:
    """The IMF-fixdate for `timestamp`: what a cache appends as Date when a response lacks one (RFC 9110 6.6.1)."""
    return formatdate(timestamp, usegmt=True).encode("ascii")


def _full_year(short_year: int, now: float) -> int:
    current = time.gmtime(now).tm_year
    return current - current % 100 + short_year


def _timestamp(year: int, month_name: bytes, day: int, hour: int, minute: int, second: int) -> float | None:
    month = _MONTHS.get(month_name.lower().decode())
    if month is None or hour > 23 or minute > 59 or second > 60 or day < 1 or year < 1:
        return None
    if day > calendar.monthrange(year, month)[1]:
        return None
    # second 60 is a leap second (RFC 9110 allows it); timegm folds it into the next minute.
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
