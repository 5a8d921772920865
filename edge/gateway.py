"""The ASGI app of the https listener: every request's road through the gateway, phase after phase.

    head        Host, framing and target read strictly, the path normalised (framing.py, urlnorm.py), or 400/501
    site        Host (and the TLS server name) -> Site, or 421; mTLS per site, or 403
    client      peer address, trusted proxies, request id
    limits      Content-Length over the site's max_body, or 413
    ratelimit   [[ratelimit]] rules with `limits`, or 429 (503 when the storage fails closed)
    waf head    rules that need no body, before a byte of it is read
    waf body    rules that read the body, on its first waf.max_body bytes
    forward     balancer -> pooled upstream connection -> request head and body streamed out
    response    header hygiene (Server, Location rewrite, HSTS, request id) and the body streamed back
    log         the access-log line and metrics

Phases do not call each other: `handle` calls them in order, so this one screen is the whole flow.
A phase that answers the request itself returns the status to answer with; `None` lets the request go on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from edge.clients import new_request_id
from edge.exchange import ConnectionInfo, Exchange
from edge.framing import Head, scan_head
from edge.inspection import BodyPrefix, attach_body, read_prefix, request_view
from edge.pages import error_page
from edge.proxy.forward import request_head, response_headers
from edge.proxy.upstream import UpstreamConnection, UpstreamError, UpstreamTimeout
from edge.ratelimit import StorageDown
from edge.rules import RulesState
from edge.runtime import ConfigState, Runtime
from edge.sites import host_from_header
from edge.urlnorm import BadPath, normalize_path
from edge.waf import RequestView, Verdict, WafState, evaluate, match_ratelimits

Scope = dict[str, Any]
Receive = Any
Send = Any

_NO_CONNECTION = ConnectionInfo()


class BodyTooLarge(Exception):
    """A chunked request body grew past the site's max_body while it streamed."""


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


class Gateway:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

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
        host = host_from_header(head.host) if head.host is not None else (conn_info.sni or "")
        request_id = scope.get("edge.request_id") or new_request_id()
        ex = Exchange(request_id, time.perf_counter(), scope["method"], scope["path"], host, peer)
        ex.body_length, ex.chunked, ex.has_length = head.body_length, head.chunked, head.has_length
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
                if status is None:
                    status = self.waf_phase(ex, rules, view, waf, "head")
                if status is None and ex.needs_body:
                    status = await self.waf_body_phase(ex, rules, view, waf, receive, conn_info)
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
        limiter = self.runtime.limiter
        for limit, key in matched:
            try:
                outcome = await limiter.check(limit.id, limit.items, key)
            except StorageDown as exc:
                ex.error = f"rate-limit storage failed: {exc}"
                ex.ratelimit = {"rule": limit.id, "error": "storage"}
                return 503
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
        """Send the request to an origin and stream its answer back; 502/504 when the origin fails us."""
        chunked = ex.chunked
        has_body = chunked or ex.body_length > 0
        head = request_head(
            ex.method,
            ex.target,
            scope["headers"],
            client_ip=ex.peer,  # the hop that connected to us: X-Forwarded-For and Forwarded append it
            trusted_peer=state.clients.is_trusted(ex.peer),
            host=host,
            length=ex.body_length if ex.has_length else None,
            chunked=chunked,
            extra=((b"x-client-cert-subject", conn_info.client_subject.encode()),) if conn_info.client_subject else (),
        )
        try:
            conn, status, raw_headers = await self._open_exchange(ex, head, has_body, receive)
        except UpstreamTimeout as exc:
            ex.error = str(exc)
            await self.respond_error(ex, send, 504)
            return
        except UpstreamError as exc:
            ex.error = str(exc)
            await self.respond_error(ex, send, 502)
            return
        except BodyTooLarge:
            await self.respond_error(ex, send, 413)
            return
        except ClientGone:
            _client_gone(ex, conn_info)
            return
        await self.response_phase(ex, send, conn, status, raw_headers, host, conn_info)

    async def _open_exchange(
        self, ex: Exchange, head: bytes, has_body: bool, receive: Receive
    ) -> tuple[UpstreamConnection, int, list[tuple[bytes, bytes]]]:
        """Send the request and wait for the response head, failing over where that is safe.

        An origin that refuses the connection never saw the request, so the next origin is tried (like
        nginx's `proxy_next_upstream error`). A reused keep-alive connection that the origin closed without
        a byte of answer is retried once on a fresh connection (with the body when it was small enough to
        keep, REPLAY_LIMIT), but only when the request cannot have been processed: nothing of it was
        written, or its method is idempotent (RFC 9110 section 9.2.2; nginx's `non_idempotent` default, Go's
        transport). A POST the origin may have acted on is never sent twice. Anything else is a 502/504.
        """
        site = ex.site
        assert site is not None
        config = site.config
        first = site.balancer.pick(ex.client_ip)
        last_error: UpstreamError | None = None
        for pool in (first, *(p for p in site.pools if p is not first)):
            ex.origin = pool.origin.url
            replay: bytes | None = None
            for attempt in (0, 1):
                try:
                    conn, fresh = await pool.acquire(config.connect_timeout, fresh=attempt > 0)
                except UpstreamError as exc:
                    last_error = exc
                    break
                try:
                    conn.start(head, no_body=ex.method == "HEAD")
                    if replay is not None:
                        conn.write(replay)
                    elif has_body:
                        replay = await _stream_request_body(receive, conn, ex.chunked, config.max_body, ex.body_prefix)
                    status, raw_headers = await conn.read_head(config.read_timeout)
                    return conn, status, raw_headers
                except UpstreamError as exc:
                    conn.release()
                    # A reused keep-alive connection that the origin closed without a byte of answer: again on
                    # a fresh one when the request cannot have been acted on (see the docstring).
                    if (
                        attempt == 0
                        and not fresh
                        and not exc.sent
                        and (not exc.written or (ex.method in IDEMPOTENT and (not has_body or replay is not None)))
                    ):
                        continue
                    raise
                except (BodyTooLarge, ClientGone):
                    conn.close()
                    conn.release()
                    raise
        assert last_error is not None
        raise last_error

    async def response_phase(
        self,
        ex: Exchange,
        send: Send,
        conn: UpstreamConnection,
        status: int,
        raw_headers: list[tuple[bytes, bytes]],
        host: bytes,
        conn_info: ConnectionInfo,
    ) -> None:
        """Stream the origin's response to the client; a failure mid-body aborts the client connection."""
        site = ex.site
        assert site is not None
        extra = [(b"edge-request-id", ex.request_id.encode()), *ex.response_headers]
        if site.hsts:
            extra.append((b"strict-transport-security", site.hsts))
        headers = response_headers(
            raw_headers,
            origin_authorities=site.origin_authorities,
            public_host=host,
            extra=extra,
            origin_hosts=site.origin_hosts,
        )
        ex.status = status
        read_timeout = site.config.read_timeout
        try:
            ex.response_started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            while True:
                chunk = await conn.read_chunk(read_timeout)
                if chunk is None:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                ex.bytes_sent += len(chunk)
                last = conn.complete and not conn.chunks
                await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                if last:
                    break
                if conn_info.closed:
                    ex.error = "client disconnected mid-response"
                    conn.close()
                    break
        except UpstreamError as exc:
            ex.error = str(exc)
            conn.close()
            conn_info.abort()
        finally:
            conn.release()

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
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
REPLAY_LIMIT = 64 * 1024  # request bodies up to this size are kept until the origin answers, for one retry


async def _stream_request_body(
    receive: Receive, conn: UpstreamConnection, chunked: bool, limit: int, prefix: BodyPrefix | None
) -> bytes | None:
    """Copy the client's body to the origin as it arrives, waiting whenever the origin's socket is full.

    `prefix` is what the WAF already read: it goes first, and the rest is received after it. Returns the
    bytes written (framing included) when they fit REPLAY_LIMIT, so that a reused connection the origin had
    already closed can be retried with the same body; None for a larger body.
    """
    total = 0
    more = True
    sent: list[bytes] | None = []
    dead = False  # the origin closed the connection: keep the (small) body for the retry, stop writing

    def write(framed: bytes) -> None:
        nonlocal sent, dead
        if not dead:
            try:
                conn.write(framed)
            except UpstreamError:
                if sent is None:
                    raise
                dead = True
        if sent is not None:
            sent.append(framed)
            if total > REPLAY_LIMIT:
                sent = None
                if dead:
                    raise UpstreamError("origin closed the connection while the request body was sent")

    def frame(data: bytes) -> bytes:
        return b"%x\r\n%b\r\n" % (len(data), data) if chunked else data

    if prefix is not None:
        more = prefix.more
        if prefix.data:
            total = len(prefix.data)
            write(frame(prefix.data))
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        body: bytes = message.get("body", b"")
        if body:
            total += len(body)
            if total > limit:
                raise BodyTooLarge()
            write(frame(body))
            if conn.write_paused and not dead:
                await conn.drain()
        more = message.get("more_body", False)
    if chunked:
        write(b"0\r\n\r\n")
    return b"".join(sent) if sent is not None else None


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
