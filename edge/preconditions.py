"""Conditional and range requests on a file edge serves itself (RFC 9110 sections 13 and 14), as plain functions.

The static phase (static.py) is an origin server for its files, so it evaluates every precondition, the two
that caches leave to the origin included (If-Match, If-Unmodified-Since). Ranges are read by the cache's
own `select_range` (cache/ranges.py): one byte range is served, anything else gets the whole file.
"""

from __future__ import annotations

from edge.cache.fields import split_list
from edge.cache.httpdate import parse_http_date
from edge.cache.ranges import ByteRange, RangeOutcome, select_range
from edge.cache.validation import strong_match, weak_match

# The request fields these decisions (and the coding choice) read, gathered in one pass over the head.
FIELDS = frozenset(
    {
        b"accept-encoding",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"range",
        b"if-range",
    }
)


def evaluate_preconditions(fields: dict[bytes, bytes], etag: bytes, modified: int, now: float) -> int:
    """RFC 9110 section 13.2.2, for a GET or HEAD of a file that exists: 412, 304, or 200 to go on.

    If-Match compares strongly (`*` matches), and only without it is If-Unmodified-Since looked at;
    If-None-Match compares weakly (`*` matches), and only without it is If-Modified-Since looked at. An
    invalid date is ignored (section 13.1.3, 13.1.4). `modified` is the file's mtime in whole seconds, the
    precision of Last-Modified.
    """
    if_match = fields.get(b"if-match")
    if if_match is not None:
        tags = split_list(if_match)
        if b"*" not in tags and not any(strong_match(tag, etag) for tag in tags):
            return 412
    elif (unmodified := _date(fields, b"if-unmodified-since", now)) is not None and modified > unmodified:
        return 412
    if_none_match = fields.get(b"if-none-match")
    if if_none_match is not None:
        tags = split_list(if_none_match)
        return 304 if b"*" in tags or any(weak_match(tag, etag) for tag in tags) else 200
    since = _date(fields, b"if-modified-since", now)
    return 304 if since is not None and modified <= since else 200


def if_range_allows(value: bytes, etag: bytes, modified: int, now: float) -> bool:
    """If-Range (RFC 9110 section 13.1.5): an entity-tag must match strongly; a date must equal Last-Modified,
    and Last-Modified must be strong, at least a second old (section 8.8.2.2)."""
    value = value.strip(b" \t")
    if value.startswith((b'"', b"W/")):
        return strong_match(value, etag)
    date = parse_http_date(value, now=now)
    return date is not None and date == modified and modified <= now - 1


def choose_range(
    method: str, fields: dict[bytes, bytes], size: int, etag: bytes, modified: int, now: float
) -> ByteRange | RangeOutcome:
    value = fields.get(b"range")
    if value is None or size == 0:
        return RangeOutcome.IGNORE
    if_range = fields.get(b"if-range")
    if if_range is not None and not if_range_allows(if_range, etag, modified, now):
        return RangeOutcome.IGNORE
    return select_range(method, value, size)


def _date(fields: dict[bytes, bytes], name: bytes, now: float) -> float | None:
    value = fields.get(name)
    return parse_http_date(value, now=now) if value is not None else None


def request_fields(headers: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The fields of FIELDS, repeated lines combined with ", " (RFC 9110 section 5.3)."""
    out: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in FIELDS:
            out[name] = out[name] + b", " + value if name in out else value
    return out
