"""Answering a Range request from a stored whole 200 (RFC 9110 sections 14.2, 14.4, 15.3.7, 15.5.17, 13.1.5).

Only a single byte range is served as a 206. A request for several ranges gets the whole 200, which
section 14.2 allows ("a server MAY ignore the Range header field"), as does a Range that is not
`bytes`, is malformed, or comes with a method other than GET. A single range that starts past the end
is answered 416 with `Content-Range: bytes */length`. If-Range (section 13.1.5) must match with a strong
validator, or the whole 200 is served.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from edge.cache.entry import StoredResponse
from edge.cache.fields import HeaderList, Headers, split_list
from edge.cache.httpdate import parse_http_date
from edge.cache.validation import strong_match


class RangeOutcome(enum.Enum):
    IGNORE = "ignore"  # serve the whole representation, 200
    UNSATISFIABLE = "unsatisfiable"  # 416 with `unsatisfiable_headers`


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes `first` to `last` inclusive of a representation of `complete` bytes: a 206's content."""

    first: int
    last: int
    complete: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self) -> bytes:
        return b"bytes %d-%d/%d" % (self.first, self.last, self.complete)


def select_range(method: str, range_value: bytes | None, length: int) -> ByteRange | RangeOutcome:
    """The part of a `length`-byte representation the Range field asks for, or what to do instead."""
    if range_value is None or method != "GET":
        return RangeOutcome.IGNORE
    unit, equals, range_set = range_value.partition(b"=")
    if not equals or unit.strip().lower() != b"bytes":
        return RangeOutcome.IGNORE
    specs = split_list(range_set)
    if len(specs) != 1:
        return RangeOutcome.IGNORE  # none, or several: the whole 200 is a valid answer
    first, dash, last = specs[0].partition(b"-")
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return RangeOutcome.IGNORE
    if not first:  # suffix-range: the last N bytes
        suffix = int(last)
        if suffix == 0 or length == 0:
            return RangeOutcome.UNSATISFIABLE
        return ByteRange(max(0, length - suffix), length - 1, length)
    start = int(first)
    if last and int(last) < start:
        return RangeOutcome.IGNORE  # an invalid int-range makes the field invalid (section 14.1.1)
    if start >= length:
        return RangeOutcome.UNSATISFIABLE
    end = min(int(last), length - 1) if last else length - 1
    return ByteRange(start, end, length)


def if_range_allows(if_range: bytes | None, stored: StoredResponse) -> bool:
    """True when the Range may be honoured: no If-Range, or it names the stored response strongly (13.1.5).

    An entity-tag must strongly match the stored ETag. A date must equal the stored Last-Modified, and that
    Last-Modified must be strong, i.e. at least a second before the response's Date (section 8.8.2.2).
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith((b'"', b"W/")):
        return stored.etag is not None and strong_match(value, stored.etag)
    since = parse_http_date(value, now=stored.response_time)
    modified = stored.last_modified_time
    return since is not None and modified is not None and since == modified and modified <= stored.date - 1


def partial_headers(stored_headers: Headers, part: ByteRange) -> HeaderList:
    """The headers of the 206 for `part`: the stored ones with Content-Length and Content-Range set (15.3.7)."""
    out = [(name, value) for name, value in stored_headers if name.lower() not in (b"content-length", b"content-range")]
    out.append((b"content-range", part.content_range()))
    out.append((b"content-length", b"%d" % part.length))
    return out


def unsatisfiable_headers(length: int) -> HeaderList:
    """The headers of a 416 (RFC 9110 section 15.5.17)."""
    return [(b"content-range", b"bytes */%d" % length), (b"content-length", b"0")]
