"""One worker's cache at run time: the store, the misses in flight, the background revalidations.

The decisions are the pure modules' (`policy`, `storability`, `validation`, ...); this module holds the
little state they need across requests and the objects the gateway's lookup and store phases pass along:

- **collapsing** (nginx's `proxy_cache_lock`): the first miss for a key leads; later misses for the same
  key wait for it, at most COLLAPSE_WAIT seconds, then look again. A leader whose response turns out not
  storable releases them at once, and they go to the origin themselves;
- **one background revalidation per key** for `stale-while-revalidate` (RFC 5861 section 3);
- the **ticket** a request carries from lookup to forward and store: what it may fall back to (a stale
  entry for `stale-if-error`), what it sends instead of the client's preconditions (a revalidation), and
  the body it collects for the store (only while it stays under the site's `max_entry`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from edge.cache.directives import Directives
from edge.cache.entry import StoredResponse
from edge.cache.keys import primary_key
from edge.cache.store import MemoryStore
from edge.urlnorm import BadPath, normalize_target

COLLAPSE_WAIT = 5.0  # nginx's proxy_cache_lock_timeout default
TARGETED = (b"edge-cache-control", b"cdn-cache-control")  # RFC 9213 fields this cache obeys, first wins


@dataclass(slots=True)
class Ticket:
    """What the lookup phase hands forward and store for one request of a site with a cache."""

    key: str
    request: Directives
    request_time: float
    stored: StoredResponse | None = None  # the entry being revalidated, or the stale fallback
    forward_headers: list[tuple[bytes, bytes]] | None = None  # sent instead of the client's (revalidation)
    reason: str = "miss"  # Cache-Status fwd= (RFC 9211 section 2.2)
    leader: bool = False  # this request leads a collapsed miss: it must release the waiters
    collapsed: bool = False  # this request waited for another one's answer
    storable: bool = False
    max_entry: int = 0
    parts: list[bytes] | None = field(default=None)  # the body collected for the store, None when not storing
    size: int = 0

    def collect(self, chunk: bytes) -> None:
        """Keep a body chunk for the store; past `max_entry` the response streams through uncached."""
        if self.parts is not None:
            self.size += len(chunk)
            if self.size > self.max_entry:
                self.parts = None
            else:
                self.parts.append(chunk)


class EdgeCache:
    """The cache of one worker (it outlives config reloads; a new `[cache] memory` starts a new store)."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.store = MemoryStore(memory)
        self.inflight: dict[str, asyncio.Future[None]] = {}
        self.refreshing: set[str] = set()

    def lead(self, key: str) -> bool:
        """True when this request leads the miss for `key` (no one else is fetching it)."""
        if key in self.inflight:
            return False
        self.inflight[key] = asyncio.get_running_loop().create_future()
        return True

    def release(self, key: str) -> None:
        """Wake the requests waiting for `key` (they look in the store again)."""
        future = self.inflight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(None)

    async def wait(self, key: str) -> bool:
        """Wait for the leader of `key`, at most COLLAPSE_WAIT; False when there was none to wait for."""
        future = self.inflight.get(key)
        if future is None:
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(future), COLLAPSE_WAIT)
        return True

    def purge(self, url: str | None = None, prefix: str | None = None, host: str | None = None) -> int:
        """Delete the entry of one URL (all its variants) or every entry under a path prefix."""
        if url is not None:
            return self.store.delete(url)
        if prefix is not None:
            return self.store.purge_prefix(prefix, host)
        return 0


def key_for_url(url: str) -> str | None:
    """The key of a purge request's `url` (`https://host[:port]/path?query`), as the lookup phase makes them:
    https, the host without port, the normalised path and the query. None when it is not such a URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    try:
        target = normalize_target(target.encode("latin-1")).decode("latin-1")
    except (BadPath, UnicodeEncodeError):
        return None
    return primary_key("https", parts.hostname, target)
