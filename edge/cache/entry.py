"""A stored response and everything a lookup needs to know about it, computed once when it is stored.

`stored_response(...)` is the only way to build one: it keeps the header fields a cache may store (RFC 9111
section 3.1), appends a Date when the origin sent none (RFC 9110 section 6.6.1), parses the directives and
dates, and precomputes the freshness lifetime and the corrected initial age, so that deciding on a fresh hit
is a subtraction and a comparison (`age`, `is_fresh`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from edge.cache.directives import DEFAULT_TARGETED, Directives, response_directives
from edge.cache.fields import Headers, connection_tokens, first, values, without
from edge.cache.freshness import (
    DEFAULT_HEURISTIC,
    Heuristic,
    corrected_initial_age,
    current_age,
    freshness_lifetime,
    parse_age,
)
from edge.cache.httpdate import format_http_date, parse_http_date
from edge.cache.vary import request_values, vary_names

# RFC 9111 section 3.1: hop-by-hop fields (RFC 9110 section 7.6.1) and the proxy's own authentication
# fields are never stored. Trailer goes too: a stored body is served whole, without trailers.
NOT_STORED = frozenset(
    {
        b"connection",
        b"proxy-connection",
        b"keep-alive",
        b"te",
        b"transfer-encoding",
        b"upgrade",
        b"trailer",
        b"proxy-authenticate",
        b"proxy-authentication-info",
        b"proxy-authorization",
    }
)
ENTRY_OVERHEAD = 512  # bytes charged per entry for the Python objects around it, so tiny entries stay bounded


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One stored response (a variant), immutable; a 304 produces a new one (`validation.freshen`)."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # as received, minus the fields section 3.1 forbids
    body: bytes
    request_time: float  # when the request that produced it was sent (seconds)
    response_time: float  # when the response arrived
    vary: tuple[bytes, ...]  # lower-case field names from Vary; vary.VARY_STAR for `*`
    vary_values: tuple[bytes | None, ...]  # the normalised request values of those fields
    directives: Directives  # the policy for this cache (targeted field or Cache-Control)
    lifetime: float  # freshness lifetime, seconds (RFC 9111 section 4.2.1)
    heuristic: bool  # the lifetime is a heuristic one (section 4.2.2)
    initial_age: float  # corrected_initial_age (section 4.2.3)
    date: float  # Date, or response_time when Date was absent or invalid
    etag: bytes | None
    last_modified: bytes | None  # the raw value, for If-Modified-Since
    last_modified_time: float | None
    size: int  # what it costs the store's byte budget
    headers_without_age: tuple[tuple[bytes, bytes], ...]  # `headers` minus Age: the base of a served response

    def age(self, now: float) -> float:
        """current_age (RFC 9111 section 4.2.3), seconds, never negative."""
        return current_age(self.initial_age, self.response_time, now)

    def is_fresh(self, now: float) -> bool:
        """freshness_lifetime > current_age (RFC 9111 section 4.2)."""
        return self.lifetime > current_age(self.initial_age, self.response_time, now)

    def ttl(self, now: float) -> float:
        """Seconds of freshness left; negative once stale (Cache-Status `ttl`, RFC 9211 section 2.5)."""
        return self.lifetime - current_age(self.initial_age, self.response_time, now)


def stored_response(
    status: int,
    headers: Headers,
    body: bytes,
    *,
    request_headers: Headers,
    request_time: float,
    response_time: float,
    targeted: Sequence[bytes] = DEFAULT_TARGETED,
    shared: bool = True,
    heuristic: Heuristic = DEFAULT_HEURISTIC,
) -> StoredResponse:
    """The entry to store for a response (call `storability.is_storable` first; this does not refuse).

    `headers` are the origin's response headers as received, `request_headers` the request that was
    forwarded (for Vary), `request_time` and `response_time` the clock readings around the exchange.
    """
    directives = response_directives(headers, targeted)
    kept = storable_headers(headers, directives)
    date_value = first(kept, b"date")
    date = None if date_value is None else parse_http_date(date_value, now=response_time)
    if date_value is None:
        kept.append((b"date", format_http_date(response_time)))
    if date is None:
        date = response_time
    expires_value = first(kept, b"expires")
    expires = None if expires_value is None else parse_http_date(expires_value, now=response_time)
    last_modified = first(kept, b"last-modified")
    last_modified_time = None if last_modified is None else parse_http_date(last_modified, now=response_time)
    lifetime = freshness_lifetime(
        directives,
        status=status,
        date=date,
        expires=expires,
        has_expires=expires_value is not None,
        last_modified=last_modified_time,
        shared=shared,
        heuristic=heuristic,
    )
    names = vary_names(kept)
    vary_values = request_values(request_headers, names) if names and names != (b"*",) else ()
    return StoredResponse(
        status=status,
        headers=tuple(kept),
        body=body,
        request_time=request_time,
        response_time=response_time,
        vary=names,
        vary_values=vary_values,
        directives=directives,
        lifetime=lifetime.seconds,
        heuristic=lifetime.heuristic,
        initial_age=corrected_initial_age(
            age_value=parse_age(values(kept, b"age")),
            date=date,
            request_time=request_time,
            response_time=response_time,
        ),
        date=date,
        etag=first(kept, b"etag"),
        last_modified=last_modified,
        last_modified_time=last_modified_time,
        size=entry_size(kept, body, vary_values),
        headers_without_age=tuple((name, value) for name, value in kept if name.lower() != b"age"),
    )


def storable_headers(headers: Headers, directives: Directives) -> list[tuple[bytes, bytes]]:
    """The header lines a shared cache may keep (RFC 9111 section 3.1), in order, names as received.

    Drops the fields in NOT_STORED, every field Connection names, and the fields named by a qualified
    `private` (section 5.2.2.7: a shared cache MUST NOT store them) or a qualified `no-cache` (section
    5.2.2.4: they MUST NOT be sent without revalidation; not storing them is the simplest way to obey).
    """
    dropped = set(NOT_STORED) | connection_tokens(headers)
    dropped.update(directives.private_fields)
    dropped.update(directives.no_cache_fields)
    return without(headers, dropped)


def entry_size(headers: Headers, body: bytes, vary_values: Sequence[bytes | None] = ()) -> int:
    """Body plus header bytes plus a fixed overhead: the unit of the store's byte budget."""
    header_bytes = sum(len(name) + len(value) for name, value in headers)
    vary_bytes = sum(len(value) for value in vary_values if value is not None)
    return len(body) + header_bytes + vary_bytes + ENTRY_OVERHEAD
