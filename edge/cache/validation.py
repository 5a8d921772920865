"""Validation both ways: the cache asking the origin (RFC 9111 4.3.1, 4.3.3, 4.3.4, 3.2) and a client asking the
cache (RFC 9111 section 4.3.2, RFC 9110 sections 13.1 and 13.2).

Entity-tags are compared as RFC 9110 section 8.8.3.2 says: weak comparison (`W/` ignored) for If-None-Match
and for picking which stored response a weak 304 refers to; strong comparison for a strong 304 validator.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from edge.cache.directives import DEFAULT_TARGETED
from edge.cache.entry import NOT_STORED, StoredResponse, stored_response
from edge.cache.fields import HeaderList, Headers, connection_tokens, first, split_list, without
from edge.cache.freshness import DEFAULT_HEURISTIC, Heuristic
from edge.cache.httpdate import format_http_date, parse_http_date

# The client's own preconditions and range: replaced by the cache's when it revalidates a whole response.
_CLIENT_CONDITIONS = frozenset(
    {b"if-none-match", b"if-modified-since", b"if-match", b"if-unmodified-since", b"if-range", b"range"}
)
# RFC 9110 section 13.2.1 / RFC 9111 section 4.3.2: preconditions only an origin can evaluate.
_ORIGIN_ONLY = frozenset({b"if-match", b"if-unmodified-since"})
_CLIENT_PRECONDITIONS = _ORIGIN_ONLY | {b"if-none-match", b"if-modified-since"}
# RFC 9110 section 15.4.5: what a 304 carries (Last-Modified too, when there is no ETag).
_NOT_MODIFIED_FIELDS = frozenset({b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"})
# RFC 9111 section 3.2: never updated from a 304.
_NOT_UPDATED = NOT_STORED | {b"content-length"}


class Conditional(enum.Enum):
    """What a client's conditional request gets from a stored response (RFC 9111 section 4.3.2)."""

    NONE = "none"  # no precondition applies: serve the stored response as usual
    NOT_MODIFIED = "not-modified"  # answer 304 with `not_modified_headers`
    FORWARD = "forward"  # If-Match / If-Unmodified-Since: only the origin can answer (Cache-Status fwd=request)


def is_weak(tag: bytes) -> bool:
    return tag.startswith(b"W/")


def opaque(tag: bytes) -> bytes:
    """The entity-tag without its weakness indicator."""
    return tag[2:] if tag.startswith(b"W/") else tag


def weak_match(a: bytes, b: bytes) -> bool:
    """Weak comparison (RFC 9110 section 8.8.3.2): the opaque tags are equal."""
    return opaque(a) == opaque(b)


def strong_match(a: bytes, b: bytes) -> bool:
    """Strong comparison: neither tag is weak and they are equal."""
    return not is_weak(a) and not is_weak(b) and a == b


def variant_request_headers(stored: StoredResponse) -> HeaderList:
    """A request for a background revalidation: the fields the stored response's Vary names (section 4.3.1)."""
    return [(name, value) for name, value in zip(stored.vary, stored.vary_values, strict=False) if value is not None]


def revalidation_headers(
    request_headers: Headers, stored: Sequence[StoredResponse], *, use_date: bool = True
) -> HeaderList:
    """The request headers to send the origin to validate the `stored` responses (RFC 9111 section 4.3.1).

    The request's own preconditions and Range are replaced by the cache's: If-None-Match with every
    stored entity-tag (the exact value when there is one), and, when a single response is validated,
    If-Modified-Since with its Last-Modified. With `use_date`, a single response that has neither validator
    is validated by its Date (RFC 9110 section 13.1.3 allows this; origins that compare dates then answer
    304). The Vary-named fields are the request's own; for a revalidation no client asked for, start from
    `variant_request_headers(stored)`.
    """
    out = without(request_headers, _CLIENT_CONDITIONS)
    tags: list[bytes] = []
    for response in stored:
        if response.etag is not None and response.etag not in tags:
            tags.append(response.etag)
    if tags:
        out.append((b"if-none-match", b", ".join(tags)))
    if len(stored) == 1:
        only = stored[0]
        if only.last_modified is not None:
            out.append((b"if-modified-since", only.last_modified))
        elif use_date and only.etag is None:
            date = first(only.headers, b"date")
            if date is not None:
                out.append((b"if-modified-since", date))
    return out


def select_for_update(stored: Sequence[StoredResponse], headers_304: Headers) -> list[int]:
    """Which of the validated `stored` responses a 304 refreshes, by index (RFC 9111 section 4.3.4).

    A strong ETag selects every stored response with that strong tag, and none if no tag matches. A weak
    ETag, or else a Last-Modified, selects the most recent stored response it matches. A 304 with no
    validator selects the single response validated. (Section 4.3.4 asks that this one also lack a
    validator; edge relaxes that: the conditional request named only its validators, so a 304 to it can
    only mean it, and origins that forget the ETag RFC 9110 section 15.4.5 requires are common.)
    `stored` must be exactly the responses whose validators were sent.
    """
    etag = first(headers_304, b"etag")
    if etag is not None:
        if not is_weak(etag):
            return [i for i, s in enumerate(stored) if s.etag is not None and strong_match(s.etag, etag)]
        return _most_recent(
            stored, [i for i, s in enumerate(stored) if s.etag is not None and weak_match(s.etag, etag)]
        )
    last_modified = first(headers_304, b"last-modified")
    if last_modified is not None:
        return _most_recent(stored, [i for i, s in enumerate(stored) if s.last_modified == last_modified])
    return [0] if len(stored) == 1 else []


def _most_recent(stored: Sequence[StoredResponse], indices: list[int]) -> list[int]:
    return [max(indices, key=lambda i: stored[i].response_time)] if indices else []


def freshened_headers(stored_headers: Headers, headers_304: Headers, *, response_time: float) -> HeaderList:
    """The stored header lines updated by a 304 (RFC 9111 section 3.2).

    Every field in the 304 replaces the stored lines of that name, except the fields never stored (section
    3.1), those the 304's Connection names, and Content-Length. A 304 without Date gets its receipt time
    (RFC 9110 section 6.6.1); a 304 without Age drops the stored Age, because the age restarts with the
    validation (the Age of the old response would make the freshened one look older than it is).
    """
    excluded = set(_NOT_UPDATED) | connection_tokens(headers_304)
    updates = without(headers_304, excluded)
    names = {name.lower() for name, _ in updates}
    if b"date" not in names:
        updates.append((b"date", format_http_date(response_time)))
        names.add(b"date")
    names.add(b"age")
    return without(stored_headers, names) + updates


def freshen(
    stored: StoredResponse,
    headers_304: Headers,
    *,
    request_headers: Headers,
    request_time: float,
    response_time: float,
    targeted: Sequence[bytes] = DEFAULT_TARGETED,
    shared: bool = True,
    heuristic: Heuristic = DEFAULT_HEURISTIC,
) -> StoredResponse:
    """The stored response refreshed by a 304: merged headers, same status and body, new times (4.3.4)."""
    return stored_response(
        stored.status,
        freshened_headers(stored.headers, headers_304, response_time=response_time),
        stored.body,
        request_headers=request_headers,
        request_time=request_time,
        response_time=response_time,
        targeted=targeted,
        shared=shared,
        heuristic=heuristic,
    )


def client_conditional(method: str, request_headers: Headers, stored: StoredResponse) -> Conditional:
    """Evaluate a client's If-None-Match / If-Modified-Since against a stored response (RFC 9111 4.3.2).

    Follows RFC 9110 section 13.2.2's order for what a cache may evaluate: If-Match and If-Unmodified-Since
    are for the origin (FORWARD); If-None-Match matches by weak comparison, `*` matches any; only without
    If-None-Match is If-Modified-Since looked at, and only for GET and HEAD: not modified when the stored
    Last-Modified (or, lacking one, its Date) is no later than the given date; an invalid date is ignored.
    Preconditions only apply to a 2xx stored response (RFC 9110 section 13.2.1).
    """
    if method not in ("GET", "HEAD") or not 200 <= stored.status < 300:
        return Conditional.NONE
    if_none_match: list[bytes] = []
    if_modified_since: bytes | None = None
    for name, value in request_headers:  # one pass: this runs on every hit
        name = name.lower()
        if name in _CLIENT_PRECONDITIONS:
            if name in _ORIGIN_ONLY:
                return Conditional.FORWARD
            if name == b"if-none-match":
                if_none_match.append(value)
            elif if_modified_since is None:
                if_modified_since = value.strip(b" \t")
    if if_none_match:
        tags = [tag for line in if_none_match for tag in split_list(line)]
        if stored.etag is not None and (b"*" in tags or any(weak_match(tag, stored.etag) for tag in tags)):
            return Conditional.NOT_MODIFIED
        return Conditional.NONE
    if if_modified_since is None:
        return Conditional.NONE
    since = parse_http_date(if_modified_since, now=stored.response_time)
    if since is None:
        return Conditional.NONE
    modified = stored.last_modified_time if stored.last_modified_time is not None else stored.date
    return Conditional.NOT_MODIFIED if modified <= since else Conditional.NONE


def not_modified_headers(stored: StoredResponse) -> HeaderList:
    """The stored header lines a 304 from the cache carries (RFC 9110 section 15.4.5); add Age to them."""
    fields = _NOT_MODIFIED_FIELDS if stored.etag is not None else _NOT_MODIFIED_FIELDS | {b"last-modified"}
    return [(name, value) for name, value in stored.headers if name.lower() in fields]
