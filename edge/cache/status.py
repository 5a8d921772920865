"""What a response says about the cache that handled it: `Age` (RFC 9111 section 5.1) and `Cache-Status`
(RFC 9211).

`served_headers` is the header list of a response answered from a stored one: the stored lines with the
stored Age replaced by the current age, Date left alone (the suite's other-date-update), and this cache's
Cache-Status member appended after any the origin's caches put there (RFC 9211 section 2: members are
ordered from the origin outwards).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge.cache.directives import MAX_DELTA
from edge.cache.entry import StoredResponse
from edge.cache.fields import HeaderList, Headers

CACHE_NAME = "edge"
# RFC 9211 section 2.2: the reasons a cache forwarded a request.
FORWARD_REASONS = frozenset({"bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial"})
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")


def age_value(age: float) -> bytes:
    """The Age field value: whole seconds, rounded down, saturating at 2^31 (RFC 9111 sections 5.1, 1.2.2)."""
    return str(min(int(max(0.0, age)), MAX_DELTA)).encode("ascii")


@dataclass(frozen=True, slots=True)
class CacheStatus:
    """One Cache-Status list member (RFC 9211 section 2): `edge; hit` or `edge; fwd=miss; stored` ...

    `hit`: answered from the cache without going forward. `fwd`: why it went forward (FORWARD_REASONS).
    `fwd_status`: the status the next hop answered (e.g. 304 to a revalidation). `ttl`: seconds of freshness
    left, negative when stale. `stored`: the forwarded response was stored. `collapsed`: it was shared with
    other requests in flight. `key`: the cache key. `detail`: free text (`stale`, a refusal reason).
    """

    hit: bool = False
    fwd: str | None = None
    fwd_status: int | None = None
    ttl: int | None = None
    stored: bool = False
    collapsed: bool = False
    key: str | None = None
    detail: str | None = None
    cache: str = CACHE_NAME

    def __post_init__(self) -> None:
        if self.fwd is not None and self.fwd not in FORWARD_REASONS:
            raise ValueError(f"Cache-Status fwd={self.fwd!r} is not one of RFC 9211's: {sorted(FORWARD_REASONS)}")

    def value(self) -> bytes:
        """The member serialised as a Structured Field item with parameters (RFC 8941 section 4.1)."""
        parts = [_item(self.cache)]
        if self.hit:
            parts.append("hit")
        if self.fwd is not None:
            parts.append(f"fwd={self.fwd}")
        if self.fwd_status is not None:
            parts.append(f"fwd-status={self.fwd_status}")
        if self.ttl is not None:
            parts.append(f"ttl={self.ttl}")
        if self.stored:
            parts.append("stored")
        if self.collapsed:
            parts.append("collapsed")
        if self.key is not None:
            parts.append(f"key={_string(self.key)}")
        if self.detail is not None:
            parts.append(f"detail={_item(self.detail)}")
        return "; ".join(parts).encode("ascii", "replace")


def _item(text: str) -> str:
    return text if _TOKEN.fullmatch(text) else _string(text)


def _string(text: str) -> str:
    printable = "".join(c if " " <= c <= "~" else "?" for c in text)
    return '"' + printable.replace("\\", "\\\\").replace('"', '\\"') + '"'


HIT = CacheStatus(hit=True).value()
HIT_STALE = CacheStatus(hit=True, detail="stale").value()


def with_cache_status(headers: Headers, status: bytes) -> HeaderList:
    """`headers` with this cache's member (`CacheStatus(...).value()`) appended (RFC 9211 section 2)."""
    return [*headers, (b"cache-status", status)]


def served_headers(stored: StoredResponse, now: float, status: bytes = HIT) -> HeaderList:
    """The headers of a response served from `stored` at `now`: stored Age replaced, Cache-Status appended.

    `status` is a serialised member, e.g. the HIT and HIT_STALE constants or `CacheStatus(...).value()`.
    """
    return [*stored.headers_without_age, (b"age", age_value(stored.age(now))), (b"cache-status", status)]
