"""May a shared cache store this response? (RFC 9111 section 3, with 3.5 for Authorization.)

The rules are a table, checked in order; the first that refuses gives the reason, which names the RFC
section so that a log line or a test failure explains itself. Edge's own choices, beyond the RFC:

- only responses to GET are stored. HEAD requests are answered from them (RFC 9110 section 9.3.2) but a
  response to HEAD has no body to give a later GET, so storing it would only displace the GET's entry;
- 206 is not stored (section 3.3 allows storing partial content; this store keeps only whole bodies, and
  serves ranges out of stored 200s, see `ranges.py`);
- a response with Set-Cookie is not stored unless the operator says `store_set_cookie`: the RFC allows
  storing it, but replaying one visitor's cookie to the next is the classic CDN leak. (Set-Cookie2 does
  not count: RFC 6265 obsoleted it in 2011 and no browser acts on it, so replaying it leaks nothing; nginx
  stores it too.)
- a response with neither explicit freshness (s-maxage, max-age, Expires) nor a validator (ETag,
  Last-Modified) is not stored: it would be stale at once with nothing to revalidate it by;
- `Vary: *` is not stored: it can never match a request (section 4.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edge.cache.directives import EMPTY, Directives
from edge.cache.fields import Headers
from edge.cache.freshness import HEURISTIC_STATUSES
from edge.cache.vary import VARY_STAR, vary_names

STORED_METHODS = frozenset({"GET"})
# Final status codes whose semantics RFC 9110 defines and that this cache stores as they are; what
# `must-understand` (section 5.2.2.3) asks of a cache. 206 and 304 are excluded: neither is stored whole.
UNDERSTOOD_STATUSES = frozenset(
    {200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 305, 307, 308}
    | set(range(400, 418))
    | {421, 422, 426}
    | set(range(500, 506))
)


@dataclass(frozen=True, slots=True)
class Storability:
    """The verdict: truthy when the response may be stored; `reason` says why not (with its RFC section)."""

    storable: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.storable


STORABLE = Storability(True)


@dataclass(frozen=True, slots=True)
class _Exchange:
    method: str
    status: int
    request_headers: Headers
    response_headers: Headers
    request: Directives
    response: Directives
    shared: bool
    store_set_cookie: bool

    def has(self, names: frozenset[bytes], response: bool = True) -> bool:
        headers = self.response_headers if response else self.request_headers
        return any(name.lower() in names for name, _ in headers)


def _must_understand_applies(x: _Exchange) -> bool:
    return x.response.must_understand and x.status in UNDERSTOOD_STATUSES


def _explicitly_shareable(x: _Exchange) -> bool:
    # Section 3.5: with Authorization, only public, must-revalidate or s-maxage let a shared cache store it.
    return x.response.public or x.response.must_revalidate or x.response.s_maxage is not None


def _explicit_freshness(x: _Exchange) -> bool:
    return (
        x.response.max_age is not None
        or (x.shared and x.response.s_maxage is not None)
        or x.has(frozenset({b"expires"}))
    )


_RULES: tuple[tuple[str, Callable[[_Exchange], bool]], ...] = (
    ("method is not GET (RFC 9111 section 3)", lambda x: x.method not in STORED_METHODS),
    ("status is not final (RFC 9111 section 3)", lambda x: not 200 <= x.status <= 599),
    ("304 updates a stored response, it is not one (RFC 9111 section 4.3.4)", lambda x: x.status == 304),
    ("206: partial content is not stored (RFC 9111 section 3.3)", lambda x: x.status == 206),
    ("request has no-store (RFC 9111 section 5.2.1.5)", lambda x: x.request.no_store),
    (
        "must-understand with a status this cache does not implement (RFC 9111 section 5.2.2.3)",
        lambda x: x.response.must_understand and x.status not in UNDERSTOOD_STATUSES,
    ),
    (
        "response has no-store (RFC 9111 section 5.2.2.5)",
        lambda x: x.response.no_store and not _must_understand_applies(x),
    ),
    ("response is private (RFC 9111 section 5.2.2.7)", lambda x: x.shared and x.response.private),
    (
        "request has Authorization and the response does not allow sharing (RFC 9111 section 3.5)",
        lambda x: x.shared and x.has(frozenset({b"authorization"}), response=False) and not _explicitly_shareable(x),
    ),
    (
        "response sets a cookie (edge: store_set_cookie is off)",
        lambda x: not x.store_set_cookie and x.has(frozenset({b"set-cookie"})),
    ),
    ("Vary: * never matches (RFC 9111 section 4.1)", lambda x: vary_names(x.response_headers) == VARY_STAR),
    (
        "no public, Expires, max-age, s-maxage or heuristically cacheable status (RFC 9111 section 3)",
        lambda x: not (x.response.public or _explicit_freshness(x) or x.status in HEURISTIC_STATUSES),
    ),
    (
        "no explicit freshness and no validator: nothing to reuse (edge)",
        lambda x: not _explicit_freshness(x) and not x.has(frozenset({b"etag", b"last-modified"})),
    ),
)


def is_storable(
    method: str,
    request_headers: Headers,
    status: int,
    response_headers: Headers,
    *,
    store_set_cookie: bool,
    response: Directives,
    request: Directives = EMPTY,
    shared: bool = True,
) -> Storability:
    """Whether a shared cache may store this response, and if not, why (RFC 9111 section 3).

    `response` are the response's effective directives (`directives.response_directives`, which applies
    targeted fields such as CDN-Cache-Control), `request` the request's (`directives.request_directives`).
    A response with `no-cache` is storable: it is revalidated on every use (section 5.2.2.4).
    """
    exchange = _Exchange(
        method=method.upper(),
        status=status,
        request_headers=request_headers,
        response_headers=response_headers,
        request=request,
        response=response,
        shared=shared,
        store_set_cookie=store_set_cookie,
    )
    for reason, refuses in _RULES:
        if refuses(exchange):
            return Storability(False, reason)
    return STORABLE
