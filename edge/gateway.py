"""The ASGI app of the https listener: every request's road through the gateway, phase after phase.

    head        Host, framing and target read strictly, the path normalised (framing.py, urlnorm.py), or 400/501
    site        Host (and the TLS server name) -> Site, or 421; mTLS per site, or 403
    client      peer address, trusted proxies, request id
    limits      Content-Length over the site's max_body, or 413
    ratelimit   [[ratelimit]] rules with `limits`, or 429 (503 when the storage fails closed)
    waf head    rules that need no body, before a byte of it is read
    waf body    rules that read the body, on its first waf.max_body bytes
    static      [site.static] folders answered by the gateway itself, never forwarded (static.py)
    cache       a stored response that may answer (RFC 9111), or a revalidation / collapsed miss (cachephase.py)
    forward     balancer -> pooled upstream connection -> request head and body streamed out (proxy/transfer.py)
    tunnel      a WebSocket handshake the origin accepted (101): bytes both ways until a side closes (proxy/tunnel.py)
    response    header hygiene (Server, Location rewrite, HSTS, request id) and the body streamed back;
                for the cache: 304 freshening, stale-if-error, invalidation, and the body kept for the store
    store       a complete storable response into the cache (cachephase.py)
    log         the access-log line and metrics

Phases do not call each other: `handle` calls them in order, so this one screen is the whole flow.
A phase that answers the request itself returns the status to answer with; `None` lets the request go on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from edge.cachephase import CachePhases, forwarded_status
from edge.clients import new_request_id
from edge.exchange import ConnectionInfo, Exchange
from edge.framing import Head, scan_head
from edge.inspection import attach_body, read_prefix, request_view
from edge.pages import error_page
from edge.proxy.compress import negotiate
from edge.proxy.forward import request_head
from edge.proxy.transfer import BodyTooLarge, ClientGone, Opened, RequestBody, open_exchange
from edge.proxy.tunnel import (
    UPGRADE_HEADERS,
    WEBSOCKET,
    Tunnel,
    handshake_problem,
    requested_upgrade,
    switch_problem,
    switching_head,
)
from edge.proxy.upstream import NoOrigin, UpstreamError, UpstreamTimeout
from edge.ratelimit import StorageDown
from edge.rules import RulesState
from edge.runtime import ConfigState, Runtime
from edge.urlnorm import BadPath, normalize_path
from edge.waf import RequestView, Verdict, WafState, evaluate, match_ratelimits

Scope = dict[str, Any]
Receive = Any
Send = Any

_NO_CONNECTION = ConnectionInfo()


class Gateway:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.cache = CachePhases(runtime)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.runtime.state
        rules = self.runtime.rules
        conn_info: ConnectionInfo = scope.get("extensions", {}).get("edge", _NO_CONNECTION)
        peer = scope["client"][0] if scope.get("client") else "-"
        head = scan_head(scope["headers"], scope["http_version"], scope.get("edge.authority"))
        host = head.name if head.host is not None else (conn_info.sni or "")
        request_id = scope.get("edge.request_id") or new_request_id()
        ex = Exchange(request_id, time.perf_counter(), scope["method"], scope["path"], host, peer)
        ex.body_length, ex.chunked, ex.has_length = head.body_length, head.chunked, head.has_length
        ex.scope = scope
        try:
            status = self.head_phase(ex, head, scope)
            if status is None:
                status = self.site_phase(ex, state, conn_info)
            if status is None:
                ex.client_ip = state.clients.client_ip(peer, head.forwarded_for)
                status = self.limits_phase(ex, head.body_length)
            view = request_view(scope, ex, conn_info) if status is None and rules.active else None
            if view is not None:
                waf = WafState()
                ex.waf_trace = (rules.ruleset, waf)
                status = await self.ratelimit_phase(ex, rules, view, waf)
                if status is None and rules.ruleset.rules:  # rate limits alone: no rule to evaluate
                    status = self.waf_phase(ex, rules, view, waf, "head")
                if status is None and ex.needs_body:
                    status = await self.waf_body_phase(ex, rules, view, waf, receive, conn_info)
            if status is None:
                status = await self.static_phase(ex, scope, send, conn_info)
            if status is None:
                status = await self.cache.lookup(ex, scope, send, head.host or host.encode())
            if status is None:
                await self.forward_phase(ex, state, scope, receive, send, head.host or host.encode(), conn_info)
            elif status:
                await self.respond_error(ex, send, status)
        except asyncio.CancelledError:
            # The grace period of a stop ran out: answer 503 ourselves (uvicorn would send a bare 500 and a
            # traceback) or, once the response has started, cut the connection; the request still gets its log line.
            ex.error = "cancelled: the stop's grace period ran out"
            if ex.response_started:
                conn_info.abort()
            else:
                await self.respond_error(ex, send, 503)
        finally:
            if ex.ticket is not None and ex.ticket.leader:
                self.runtime.cache.release(ex.ticket.key)
            self.log_phase(ex)

    # --- phases ------------------------------------------------------------------------------------------------

    def head_phase(self, ex: Exchange, head: Head, scope: Scope) -> int | None:
        """400/501 for a head whose framing, Host or target edge cannot state exactly; else the target to forward.

        The path is normalised here, once: rules, rate limits, the log and the origin all see this form.
        """
        if head.status:
            ex.error = head.error
            return head.status
        raw_path: bytes = scope["raw_path"] or b"/"
        try:
            path = normalize_path(raw_path)
        except BadPath as exc:
            ex.error = str(exc)
            return 400
        query: bytes = scope["query_string"]
        raw = raw_path + b"?" + query if query else raw_path
        ex.raw_target = raw
        ex.target = raw if path is raw_path else (path + b"?" + query if query else path)
        ex.path = path.decode("latin-1")
        if scope.get("edge.upgrade"):
            ex.upgrade = requested_upgrade(scope["headers"])
            if ex.upgrade == WEBSOCKET:
                ex.error = handshake_problem(
                    ex.method, scope["http_version"], scope["headers"], body_length=ex.body_length, chunked=ex.chunked
                )
                return 400 if ex.error else None
        return None

    def site_phase(self, ex: Exchange, state: ConfigState, conn_info: ConnectionInfo) -> int | None:
        """421 for a host no site serves, or one whose site is not the site of the TLS server name."""
        site = state.sites.match(ex.host)
        if site is None:
            return 421
        if conn_info.sni is not None and conn_info.sni != ex.host and state.sites.match(conn_info.sni) is not site:
            return 421
        ex.site = site
        if not site.accepts_client(conn_info.client_cert):
            ex.error = "client certificate missing or not issued by the site's client_ca"
            return 403
        return None

    def limits_phase(self, ex: Exchange, body_length: int) -> int | None:
        """413 before a byte of an oversized body is read, when Content-Length already tells."""
        assert ex.site is not None
        if body_length > ex.site.config.max_body:
            return 413
        return None

    async def ratelimit_phase(self, ex: Exchange, rules: RulesState, view: RequestView, waf: WafState) -> int | None:
        """Count the request against every matching [[ratelimit]] rule; 429 when one is exhausted."""
        matched = match_ratelimits(rules.ruleset, view, waf)
        if not matched:
            return None
        tightest = None
        try:  # all the rules in one call: one round trip to a shared storage
            outcomes = await self.runtime.limiter.check_all([(limit.policy, key) for limit, key in matched])
        except StorageDown as exc:
            ex.error = f"rate-limit storage failed: {exc}"
            ex.ratelimit = {"rule": matched[0][0].id, "error": "storage"}
            return 503
        for (limit, _), outcome in zip(matched, outcomes, strict=False):
            if outcome is None:
                continue
            if not outcome.allowed:
                ex.ratelimit = outcome.as_log()
                ex.response_headers += [
                    (b"retry-after", str(max(1, outcome.reset)).encode()),
                    (b"ratelimit-policy", outcome.policy_header()),
                    (b"ratelimit", outcome.state_header()),
                ]
                self.runtime.metrics.inc("edge_ratelimit_limited_total", (("rule", limit.id),))
                return 429
            if tightest is None or outcome.remaining < tightest.remaining:
                tightest = outcome
        if tightest is not None:
            ex.ratelimit = tightest.as_log()
            ex.response_headers += [
                (b"ratelimit-policy", tightest.policy_header()),
                (b"ratelimit", tightest.state_header()),
            ]
        return None

    def waf_phase(self, ex: Exchange, rules: RulesState, view: RequestView, waf: WafState, phase: str) -> int | None:
        """Evaluate the rules of one phase; the block status, or None to go on (`ex.needs_body` after head)."""
        return self.waf_verdict(ex, self._evaluate(rules, view, waf, phase))

    def _evaluate(self, rules: RulesState, view: RequestView, waf: WafState, phase: str) -> Verdict:
        settings = self.runtime.state.config.waf
        return evaluate(
            rules.ruleset,
            view,
            phase="head" if phase == "head" else "body",
            state=waf,
            mode="detect" if settings.mode == "detect" else "block",
            paranoia=settings.paranoia,
            threshold=settings.anomaly_threshold,
        )

    def waf_verdict(self, ex: Exchange, verdict: Verdict) -> int | None:
        """Record a verdict on the exchange; its block status, or None to go on."""
        ex.needs_body = verdict.needs_body
        if verdict.matches or verdict.would_block:
            ex.waf = {
                "action": verdict.action,
                "rules": [match.rule_id for match in verdict.matches],
                "score": verdict.score,
            }
            if verdict.would_block and verdict.action != "block":
                ex.waf["would_block"] = True
            if not verdict.needs_body:
                for match in verdict.matches:
                    self.runtime.metrics.inc(
                        "edge_waf_matches_total", (("action", match.action), ("rule", match.rule_id))
                    )
        return verdict.status if verdict.action == "block" else None

    async def waf_body_phase(
        self,
        ex: Exchange,
        rules: RulesState,
        view: RequestView,
        waf: WafState,
        receive: Receive,
        conn_info: ConnectionInfo,
    ) -> int | None:
        """Read the first waf.max_body bytes of the body, then run the body rules on them."""
        assert ex.site is not None
        limit = self.runtime.state.config.waf.max_body
        prefix = await read_prefix(receive, limit)
        if prefix.disconnected:
            _client_gone(ex, conn_info)
            return 0
        if len(prefix.data) > ex.site.config.max_body:
            return 413
        ex.body_prefix = prefix
        attach_body(view, prefix, limit, ex.body_length)
        if len(prefix.data) < INSPECT_IN_THREAD:
            return self.waf_phase(ex, rules, view, waf, "body")
        # A big body costs milliseconds to inspect: in the worker's inspection thread, so that the event loop
        # keeps serving other clients meanwhile (Python switches threads every few ms even in pure Python).
        loop = asyncio.get_running_loop()
        verdict = await loop.run_in_executor(self.runtime.inspector, self._evaluate, rules, view, waf, "body")
        return self.waf_verdict(ex, verdict)

    async def static_phase(self, ex: Exchange, scope: Scope, send: Send, conn_info: ConnectionInfo) -> int | None:
        """A path under one of the site's static prefixes is answered from its folder (static.py), 404 included;
        None lets any other request go on. 0 means the response was sent."""
        assert ex.site is not None
        static = ex.site.static
        return await static.serve(ex, scope["headers"], send, conn_info) if static.mounts else None

    async def forward_phase(
        self,
        ex: Exchange,
        state: ConfigState,
        scope: Scope,
        receive: Receive,
        send: Send,
        host: bytes,
        conn_info: ConnectionInfo,
    ) -> None:
        """Send the request to an origin and stream its answer back; 502/504 when the origin fails us
        (or the stored response, when `stale-if-error` allows it)."""
        site = ex.site
        assert site is not None
        ticket = ex.ticket
        chunked = ex.chunked
        edge_extra = site.forward_headers(ex.method, host, ex.target, conn_info.client_subject)
        head = request_head(
            ex.method,
            ex.target,
            ticket.forward_headers if ticket is not None and ticket.forward_headers is not None else scope["headers"],
            client_ip=ex.peer,  # the hop that connected to us: X-Forwarded-For and Forwarded append it
            trusted_peer=state.clients.is_trusted(ex.peer),
            host=host,
            length=ex.body_length if ex.has_length else None,
            chunked=chunked,
            extra=(*edge_extra, *UPGRADE_HEADERS) if ex.upgrade == WEBSOCKET else edge_extra,
        )
        body = RequestBody(receive, chunked, ex.body_prefix) if chunked or ex.body_length > 0 else None
        try:
            opened = await open_exchange(site, ex.client_ip, ex.method, head, body)
        except UpstreamError as exc:
            ex.error, ex.origin = str(exc), exc.origin
            status = 504 if isinstance(exc, UpstreamTimeout) else 503 if isinstance(exc, NoOrigin) else 502
            if not await self.cache.stale_if_error(ex, send, scope, status, disconnected=True):
                await self.respond_error(ex, send, status)
            return
        except BodyTooLarge:
            await self.respond_error(ex, send, 413)
            return
        except ClientGone:
            _client_gone(ex, conn_info)
            return
        ex.origin, ex.upstream = opened.origin, opened.upstream
        base = site.client_headers(opened.headers, host)
        if opened.status == 101:
            await self.tunnel_phase(ex, send, scope, opened, base, conn_info)
            return
        if ticket is not None and await self.cache.on_response(ex, send, scope, opened, base, host):
            return
        await self.response_phase(ex, send, scope, opened, base, conn_info)

    async def response_phase(
        self,
        ex: Exchange,
        send: Send,
        scope: Scope,
        opened: Opened,
        base: list[tuple[bytes, bytes]],
        conn_info: ConnectionInfo,
    ) -> None:
        """Stream the origin's response to the client (and into the store's ticket when it is storable); a
        failure mid-body aborts the client connection and leaves nothing in the store."""
        site = ex.site
        assert site is not None
        conn, status = opened.conn, opened.status
        headers, encoder = negotiate(site.config.compress, ex.method, status, base, scope["headers"])
        ticket = ex.ticket
        if ticket is not None:
            headers.append((b"cache-status", forwarded_status(ticket)))
        headers += ex.own_headers()
        ex.status = status
        read_timeout = site.config.read_timeout
        deadline = ex.started + site.config.total_timeout
        collect = ticket.collect if ticket is not None and ticket.parts is not None else None
        try:
            ex.response_started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise UpstreamTimeout(f"the exchange outlived timeouts.total ({site.config.total_timeout}s)")
                chunk = await conn.read_chunk(read_timeout if read_timeout < left else left)
                if chunk is None:
                    tail = encoder.finish() if encoder is not None else b""
                    ex.bytes_sent += len(tail)
                    await send({"type": "http.response.body", "body": tail, "more_body": False})
                    break
                if collect is not None:
                    collect(chunk)  # the store keeps the body as the origin sent it
                last = conn.complete and not conn.chunks
                if encoder is not None:
                    chunk = encoder.feed(chunk, more_coming=last)
                    if last:
                        chunk += encoder.finish()
                ex.bytes_sent += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                if last:
                    break
                if conn_info.closed:
                    ex.error = "client disconnected mid-response"
                    conn.close()
                    break
            if collect is not None and conn.complete and not conn.chunks and conn.error is None:
                self.cache.store(ex, opened, base, scope)
        except UpstreamError as exc:
            ex.error = str(exc)
            conn.close()
            conn_info.abort()
        finally:
            conn.release()

    async def tunnel_phase(
        self,
        ex: Exchange,
        send: Send,
        scope: Scope,
        opened: Opened,
        base: list[tuple[bytes, bytes]],
        conn_info: ConnectionInfo,
    ) -> None:
        """The origin switched protocols. For a WebSocket handshake whose 101 checks out, the client gets the
        101 and the connection becomes a byte tunnel to the origin (proxy/tunnel.py) until a side closes or no
        byte passed for the site's read timeout; the log line is written then. Any other 101 is a 502."""
        site = ex.site
        assert site is not None
        problem: str | None = "origin switched protocols unasked"
        if ex.upgrade == WEBSOCKET and conn_info.hand_over is not None:
            problem = switch_problem(scope["headers"], opened.headers)
        if problem is not None or conn_info.closed:
            opened.conn.close()
            opened.conn.release()
            if conn_info.closed:
                ex.status = 499
            else:
                ex.error = problem
                await self.respond_error(ex, send, 502)
            return
        assert conn_info.hand_over is not None
        headers = [*base, *UPGRADE_HEADERS, *ex.own_headers()]
        ex.status, ex.response_started = 101, True
        tunnel = Tunnel(conn_info.hand_over(), opened.conn, idle=site.config.read_timeout)
        try:
            ex.error = await tunnel.run(switching_head(headers))
        finally:
            ex.bytes_sent, ex.bytes_in = tunnel.to_client, tunnel.to_origin

    async def respond_error(self, ex: Exchange, send: Send, status: int) -> None:
        ex.status = status
        headers, body = error_page(status, ex.request_id)
        headers += ex.response_headers
        if ex.site is not None and ex.site.hsts:
            headers.append((b"strict-transport-security", ex.site.hsts))
        ex.bytes_sent = len(body)
        ex.response_started = True
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def log_phase(self, ex: Exchange) -> None:
        self.runtime.record(ex)


# --- small pure pieces of the phases ----------------------------------------------------------------------------


def _client_gone(ex: Exchange, conn_info: ConnectionInfo) -> None:
    """The body never completed: 408 when client_body_timeout closed the connection (the protocol answered
    the client), 499 (nginx's code) when the client went away by itself."""
    if conn_info.timed_out:
        ex.status, ex.error = 408, "client_body_timeout: the request body stalled"
    else:
        ex.status = 499


INSPECT_IN_THREAD = 64 * 1024  # bodies from this size are inspected off the event loop


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
