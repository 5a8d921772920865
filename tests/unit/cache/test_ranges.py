"""Single byte ranges from a stored 200 (RFC 9110 sections 14.2, 15.3.7, 15.5.17) and If-Range (13.1.5)."""

from __future__ import annotations

import pytest

from edge.cache.ranges import (
    ByteRange,
    RangeOutcome,
    if_range_allows,
    partial_headers,
    select_range,
    unsatisfiable_headers,
)

from .conftest import T, http_date, stored

IGNORE = RangeOutcome.IGNORE
UNSATISFIABLE = RangeOutcome.UNSATISFIABLE


@pytest.mark.parametrize(
    ("value", "length", "expected"),
    [
        (b"bytes=0-1", 11, ByteRange(0, 1, 11)),  # partial-store-complete-reuse-partial: "01"
        (b"bytes=1-", 11, ByteRange(1, 10, 11)),  # ...-no-last: "1234567890"
        (b"bytes=-1", 11, ByteRange(10, 10, 11)),  # ...-suffix: "A"
        (b"bytes=0-", 11, ByteRange(0, 10, 11)),
        (b"bytes=5-500", 11, ByteRange(5, 10, 11)),  # last-pos past the end is clamped
        (b"bytes=-500", 11, ByteRange(0, 10, 11)),  # suffix longer than the representation
        (b"BYTES = 2-3", 11, ByteRange(2, 3, 11)),
        (b"bytes= 2-3 ", 11, ByteRange(2, 3, 11)),
        (b"bytes=11-", 11, UNSATISFIABLE),
        (b"bytes=20-30", 11, UNSATISFIABLE),
        (b"bytes=-0", 11, UNSATISFIABLE),
        (b"bytes=0-0", 0, UNSATISFIABLE),
        (b"bytes=-5", 0, UNSATISFIABLE),
        (None, 11, IGNORE),
        (b"bytes=0-1, 3-4", 11, IGNORE),  # several ranges: the whole 200
        (b"items=0-1", 11, IGNORE),
        (b"bytes=3-1", 11, IGNORE),  # invalid int-range
        (b"bytes=a-1", 11, IGNORE),
        (b"bytes=-", 11, IGNORE),
        (b"bytes=1", 11, IGNORE),
        (b"bytes=", 11, IGNORE),
        (b"0-1", 11, IGNORE),
        (b"bytes=--1", 11, IGNORE),
    ],
)
def test_select_range(value: bytes | None, length: int, expected: ByteRange | RangeOutcome) -> None:
    assert select_range("GET", value, length) == expected


def test_ranges_only_for_get() -> None:
    assert select_range("HEAD", b"bytes=0-1", 11) is IGNORE


def test_byte_range_values() -> None:
    part = ByteRange(2, 5, 11)
    assert part.length == 4
    assert part.content_range() == b"bytes 2-5/11"
    body = b"01234567890"
    assert body[part.first : part.last + 1] == b"2345"


def test_partial_headers_keep_stored_fields() -> None:
    # partial-use-stored-headers: the 206 keeps the stored A: 1
    entry = stored([("Cache-Control", "max-age=3600"), ("A", "1"), ("Content-Length", "11")], body=b"01234567890")
    out = partial_headers(entry.headers, ByteRange(0, 1, 11))
    assert (b"A", b"1") in out
    assert [v for n, v in out if n.lower() == b"content-length"] == [b"2"]
    assert (b"content-range", b"bytes 0-1/11") in out
    assert unsatisfiable_headers(11) == [(b"content-range", b"bytes */11"), (b"content-length", b"0")]


@pytest.mark.parametrize(
    ("spec", "if_range", "expected"),
    [
        ([("ETag", '"a"')], None, True),
        ([("ETag", '"a"')], b'"a"', True),
        ([("ETag", '"a"')], b'"b"', False),
        ([("ETag", 'W/"a"')], b'W/"a"', False),  # weak tags never match If-Range
        ([], b'"a"', False),
        ([("Last-Modified", -10), ("Date", 0)], http_date(-10), True),
        ([("Last-Modified", -10), ("Date", 0)], http_date(-11), False),
        ([("Last-Modified", 0), ("Date", 0)], http_date(0), False),  # Last-Modified not a second before Date: weak
        ([("Last-Modified", -10), ("Date", 0)], b"garbage", False),
        ([("Date", 0)], http_date(0), False),
    ],
)
def test_if_range(spec: list[tuple[str, str | int]], if_range: bytes | None, expected: bool) -> None:
    entry = stored([("Cache-Control", "max-age=60"), *spec], response_time=T)
    assert if_range_allows(if_range, entry) is expected
