"""The response a stored entry gives one request: 200, 304 to a matching conditional, 206/416 to a Range,
no body for HEAD. Pure: the caller sends what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.cache.entry import StoredResponse
from edge.cache.fields import Headers, first
from edge.cache.ranges import ByteRange, RangeOutcome, if_range_allows, partial_headers, select_range
from edge.cache.status import age_value
from edge.cache.validation import Conditional, client_conditional, not_modified_headers

_BODY_FRAMING = frozenset({b"content-length", b"transfer-encoding"})


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def answer(
    stored: StoredResponse, method: str, request_headers: Headers, now: float, cache_status: bytes
) -> Answer | None:
    """The answer for `method` with `request_headers` from `stored` at `now`, with Age and Cache-Status.

    None when the request carries a precondition only the origin may evaluate (If-Match,
    If-Unmodified-Since: RFC 9110 section 13.2.1): the caller forwards it.
    """
    tail = [(b"age", age_value(stored.age(now))), (b"cache-status", cache_status)]
    conditional = client_conditional(method, request_headers, stored)
    if conditional is Conditional.FORWARD:
        return None
    if conditional is Conditional.NOT_MODIFIED:
        return Answer(304, [*not_modified_headers(stored), *tail], b"")
    body = stored.body
    base = [(n, v) for n, v in stored.headers_without_age if n.lower() not in _BODY_FRAMING]
    if stored.status == 200 and not _has_content_range(stored):
        part = select_range(method, first(request_headers, b"range"), len(body))
        if part is RangeOutcome.UNSATISFIABLE and if_range_allows(first(request_headers, b"if-range"), stored):
            return Answer(416, [*base, (b"content-range", b"bytes */%d" % len(body)), *tail], b"")
        if isinstance(part, ByteRange) and if_range_allows(first(request_headers, b"if-range"), stored):
            return Answer(206, [*partial_headers(base, part), *tail], body[part.first : part.last + 1])
    headers = [*base, (b"content-length", b"%d" % len(body)), *tail]
    return Answer(stored.status, headers, b"" if method == "HEAD" else body)


def _has_content_range(stored: StoredResponse) -> bool:
    return first(stored.headers, b"content-range") is not None
