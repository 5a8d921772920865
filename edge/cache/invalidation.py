"""Which stored responses an unsafe request makes obsolete (RFC 9111 section 4.4).

After a non-error response (2xx or 3xx) to an unsafe method, including one whose safety is unknown
(`M-SEARCH`), the target URI is invalidated, and so are the Location and Content-Location URIs when they
share its origin. The caller deletes every variant under the returned keys (`Store.delete`). A failed
request (4xx, 5xx) invalidates nothing: the state on the origin did not change.
"""

from __future__ import annotations

from edge.cache.fields import Headers, first
from edge.cache.keys import resolve

# RFC 9110 section 9.2.1: the safe methods. Everything else, known or not, is unsafe.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def is_unsafe(method: str) -> bool:
    return method.upper() not in SAFE_METHODS


def invalidated_keys(method: str, status: int, key: str, response_headers: Headers) -> list[str]:
    """The primary keys to delete after this exchange, the target's first; empty when nothing is invalidated.

    `key` is the request's primary key (`keys.primary_key`); Location and Content-Location are resolved
    against it and kept only when same-origin.
    """
    if not is_unsafe(method) or not 200 <= status < 400:
        return []
    found = [key]
    for name in (b"location", b"content-location"):
        value = first(response_headers, name)
        if value is None:
            continue
        try:
            reference = value.decode("ascii")
        except UnicodeDecodeError:
            continue
        resolved = resolve(key, reference)
        if resolved is not None and resolved not in found:
            found.append(resolved)
    return found
