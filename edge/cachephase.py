"""The cache's phases of a request (RFC 9111), kept out of `gateway.py`, which calls them in order:

    lookup        a stored response that may answer (fresh, stale within its allowance, a client's 304 or
                  range), or the ticket for forward and store: a revalidation, the stale fallback, a
                  collapsed miss (`edge/cache/cache.py`)
    on_response   the origin's answer as the cache sees it: a 304 that freshens the stored response, a 5xx
                  that stale-if-error covers, invalidation after an unsafe method, whether to keep the body
    store         a complete, storable response into the store

The decisions are the pure modules' of `edge/cache/`; this module does the I/O around them (sending, the
background revalidation of stale-while-revalidate).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from edge.cache.answer import Answer, answer
from edge.cache.cache import TARGETED, Ticket
from edge.cache.directives import request_directives, response_directives
from edge.cache.entry import StoredResponse, stored_response
from edge.cache.invalidation import invalidated_keys
from edge.cache.keys import primary_key
from edge.cache.policy import ERROR_STATUSES, Reuse, reuse, stale_on_error
from edge.cache.status import HIT, HIT_STALE, CacheStatus
from edge.cache.storability import is_storable
from edge.cache.store import MemoryStore
from edge.cache.validation import freshen, revalidation_headers, select_for_update, variant_request_headers
from edge.exchange import Exchange
from edge.proxy.compress import negotiate
from edge.proxy.forward import request_head
from edge.proxy.transfer import Opened, open_exchange
from edge.proxy.tunnel import WEBSOCKET
from edge.proxy.upstream import UpstreamError
from edge.runtime import Runtime
from edge.sites import Site

Scope = dict[str, Any]
Send = Any

_SERVE = frozenset({Reuse.FRESH, Reuse.STALE, Reuse.STALE_WHILE_REVALIDATE})


class CachePhases:
    """The cache phases of one worker's gateway; `background` holds the revalidations no client waits for."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.background: set[asyncio.Task[None]] = set()

    async def lookup(self, ex: Exchange, scope: Scope, send: Send, host: bytes) -> int | None:
        """Answer from the cache when the stored response may serve (RFC 9111 section 4), else prepare the
        ticket that forward and store use: a revalidation, the stale fallback, a collapsed miss."""
        site = ex.site
        assert site is not None
        config = site.config.cache
        if not config.enabled or ex.upgrade == WEBSOCKET:  # a handshake is never answered from the cache
            return None
        cache = self.runtime.cache
        key = primary_key("https", ex.host, ex.target.decode("latin-1"))
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        now = time.time()
        ticket = ex.ticket = Ticket(key, request_directives(headers), now, max_entry=config.max_entry)
        if ex.method not in ("GET", "HEAD"):
            ticket.reason = "method"
            return None
        entry = cache.store.get(key, headers)
        if entry is None and ex.method == "GET" and not cache.lead(key):
            ticket.collapsed = await cache.wait(key)
            now = time.time()
            entry = cache.store.get(key, headers)
        elif entry is None and ex.method == "GET":
            ticket.leader = True
        decision = reuse(entry, ticket.request, now)
        if entry is not None and decision in _SERVE:
            served = answer(entry, ex.method, headers, now, HIT if decision is Reuse.FRESH else HIT_STALE)
            if served is not None:
                ex.cache = "hit" if decision is Reuse.FRESH else "stale"
                if decision is Reuse.STALE_WHILE_REVALIDATE:
                    self._refresh_later(ex, entry, host)
                await self.send_stored(ex, send, scope, served)
                return 0
        if decision is Reuse.GATEWAY_TIMEOUT:
            ex.cache = "miss"
            return 504
        ticket.stored = entry
        if entry is None:
            ticket.reason = "uri-miss" if not cache.store.variants(key) else "vary-miss"
        elif decision is Reuse.REVALIDATE:
            ticket.reason = "stale"
            ticket.forward_headers = revalidation_headers(headers, [entry])
        return None

    async def on_response(
        self, ex: Exchange, send: Send, scope: Scope, opened: Opened, base: list[tuple[bytes, bytes]], host: bytes
    ) -> bool:
        """The origin's answer as the cache sees it: a 304 that freshens the stored response (which then
        answers), a 5xx that `stale-if-error` covers, invalidation after an unsafe method (RFC 9111 section
        4.4), and whether the body is collected for the store. True when the client was answered here."""
        ticket = ex.ticket
        site = ex.site
        assert ticket is not None and site is not None
        cache = self.runtime.cache
        status = opened.status
        if ticket.reason == "method":
            for key in invalidated_keys(ex.method, status, ticket.key, base):
                cache.store.delete(key)
            return False
        stored = ticket.stored
        if status == 304 and stored is not None and ticket.forward_headers is not None:
            # A 304 has no body: the connection is complete, and stays with this exchange until response_phase
            # (or the answer from the store below) releases it.
            now = time.time()
            fresh = _freshen_stored(cache.store, ticket.key, stored, base, scope["headers"], ticket.request_time, now)
            if fresh is not None:
                member = CacheStatus(fwd="stale", fwd_status=304, stored=True).value()
                served = answer(fresh, ex.method, scope["headers"], now, member)
                if served is not None:
                    ex.cache = "revalidated"
                    opened.conn.release()
                    await self.send_stored(ex, send, scope, served)
                    return True
            return False
        if status in ERROR_STATUSES and await self.stale_if_error(ex, send, scope, status, disconnected=False):
            opened.conn.close()
            opened.conn.release()
            return True
        directives = response_directives(base, targeted=TARGETED)
        ticket.storable = ex.method == "GET" and bool(
            is_storable(
                "GET",
                scope["headers"],
                status,
                base,
                response=directives,
                request=ticket.request,
                store_set_cookie=site.config.cache.store_set_cookie,
            )
        )
        if ticket.storable:
            ticket.parts = []
        elif ticket.leader:
            cache.release(ticket.key)  # the waiters go to the origin themselves
        ex.cache = "miss" if ticket.storable else "bypass"
        return False

    async def stale_if_error(self, ex: Exchange, send: Send, scope: Scope, status: int, *, disconnected: bool) -> bool:
        """Serve the stored response instead of an origin failure when RFC 5861's stale-if-error allows it, or
        (`disconnected`: the origin could not be reached) the site's `stale_if_error` allowance."""
        ticket = ex.ticket
        site = ex.site
        stored = ticket.stored if ticket is not None else None
        if stored is None or ticket is None or site is None:
            return False
        now = time.time()
        allowance = site.config.cache.stale_if_error if disconnected else 0.0
        if not stale_on_error(stored, ticket.request, now, default_stale_if_error=allowance):
            return False
        member = CacheStatus(fwd="stale", fwd_status=status, detail="stale-if-error").value()
        served = answer(stored, ex.method, scope["headers"], now, member)
        if served is None:
            return False
        ex.cache = "stale"
        await self.send_stored(ex, send, scope, served)
        return True

    def store(self, ex: Exchange, opened: Opened, headers: list[tuple[bytes, bytes]], scope: Scope) -> None:
        """Keep a complete, storable response (never one cut short: the caller only calls this at its end)."""
        ticket = ex.ticket
        if ticket is None or ticket.parts is None:
            return
        entry = stored_response(
            opened.status,
            headers,
            b"".join(ticket.parts),
            request_headers=scope["headers"],
            request_time=ticket.request_time,
            response_time=time.time(),
            targeted=TARGETED,
        )
        self.runtime.cache.store.put(ticket.key, entry)

    def _refresh_later(self, ex: Exchange, entry: StoredResponse, host: bytes) -> None:
        """stale-while-revalidate: one background revalidation per key (RFC 5861 section 3)."""
        cache = self.runtime.cache
        ticket = ex.ticket
        site = ex.site
        assert ticket is not None and site is not None
        if ticket.key in cache.refreshing:
            return
        cache.refreshing.add(ticket.key)
        request = revalidation_headers(variant_request_headers(entry), [entry])
        head = request_head(
            "GET",
            ex.target,
            request,
            client_ip=ex.peer,
            trusted_peer=False,
            host=host,
            length=None,
            chunked=False,
            extra=site.forward_headers("GET", host, ex.target),
        )
        task = asyncio.get_running_loop().create_task(self._refresh(site, ticket.key, entry, head, request, host))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _refresh(
        self,
        site: Site,
        key: str,
        entry: StoredResponse,
        head: bytes,
        request: list[tuple[bytes, bytes]],
        host: bytes,
    ) -> None:
        cache = self.runtime.cache
        started = time.time()
        try:
            opened = await open_exchange(site, "-", "GET", head, None)
            headers = site.client_headers(opened.headers, host)
            if opened.status == 304:
                await _drain(opened, site.config.read_timeout)
                _freshen_stored(cache.store, key, entry, headers, request, started, time.time())
                return
            body = await _drain(opened, site.config.read_timeout, keep=site.config.cache.max_entry)
            directives = response_directives(headers, targeted=TARGETED)
            if body is not None and is_storable(
                "GET",
                request,
                opened.status,
                headers,
                response=directives,
                store_set_cookie=site.config.cache.store_set_cookie,
            ):
                cache.store.put(
                    key,
                    stored_response(
                        opened.status,
                        headers,
                        body,
                        request_headers=request,
                        request_time=started,
                        response_time=time.time(),
                        targeted=TARGETED,
                    ),
                )
        except (UpstreamError, OSError):
            pass  # the stale entry stays; the next request revalidates in the foreground
        finally:
            cache.refreshing.discard(key)

    async def send_stored(self, ex: Exchange, send: Send, scope: Scope, served: Answer) -> None:
        """A response answered from the cache, with edge's own headers."""
        site = ex.site
        assert site is not None
        headers, encoder = negotiate(site.config.compress, ex.method, served.status, served.headers, scope["headers"])
        headers += ex.own_headers()  # negotiate's list is ours: the stored entry's stays as it is
        body = served.body if encoder is None else encoder.feed(served.body, more_coming=True) + encoder.finish()
        ex.status = served.status
        ex.bytes_sent = len(body)
        ex.response_started = True
        await send({"type": "http.response.start", "status": served.status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _freshen_stored(
    store: MemoryStore,
    key: str,
    entry: StoredResponse,
    headers: list[tuple[bytes, bytes]],
    request_headers: list[tuple[bytes, bytes]],
    request_time: float,
    response_time: float,
) -> StoredResponse | None:
    """A 304's headers merged into the stored response it selects and put back (RFC 9111 section 4.3.4): the
    revalidation in the foreground and the one in the background alike. None when it selects nothing."""
    if select_for_update([entry], headers) != [0]:
        return None
    fresh = freshen(
        entry,
        headers,
        request_headers=request_headers,
        request_time=request_time,
        response_time=response_time,
        targeted=TARGETED,
    )
    store.put(key, fresh)
    return fresh


def forwarded_status(ticket: Ticket) -> bytes:
    """The Cache-Status member of a forwarded response (RFC 9211 section 2.2)."""
    return CacheStatus(fwd=ticket.reason, stored=ticket.parts is not None, collapsed=ticket.collapsed).value()


async def _drain(opened: Opened, timeout: float, keep: int | None = None) -> bytes | None:
    """Read a response body to its end and give the connection back; the body when it fits `keep` bytes."""
    parts: list[bytes] | None = []
    size = 0
    try:
        while (chunk := await opened.conn.read_chunk(timeout)) is not None:
            size += len(chunk)
            if parts is not None:
                parts.append(chunk)
                if keep is not None and size > keep:
                    parts = None
    finally:
        opened.conn.release()
    return b"".join(parts) if parts is not None and keep is not None else None
