"""The ASGI app of the https listener: every request's road through the gateway, phase after phase.

    site       Host (and the TLS server name) -> Site, or 421
    client     peer address, trusted proxies, request id
    limits     request body size against the site's max_body, or 413
    forward    balancer -> pooled upstream connection -> request head and body streamed out
    response   header hygiene (Server, Location rewrite, HSTS, request id) and the body streamed back
    log        the access-log line and metrics

Phases do not call each other: `handle` calls them in order, so this one screen is the whole flow.
Rate limits, the WAF and the cache take their places between `client` and `forward` as they arrive.
A phase that answers the request itself returns the status it sent; `None` lets the request go on.
"""

from __future__ import annotations

import time
from typing import Any

from edge.clients import new_request_id
from edge.exchange import ConnectionInfo, Exchange
from edge.observe import utc_timestamp
from edge.pages import error_page
from edge.proxy.forward import request_head, response_headers
from edge.proxy.upstream import UpstreamConnection, UpstreamError, UpstreamTimeout
from edge.runtime import ConfigState, Runtime
from edge.sites import host_from_header

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
        request_id = new_request_id()
        conn_info: ConnectionInfo = scope.get("extensions", {}).get("edge", _NO_CONNECTION)
        peer = scope["client"][0] if scope.get("client") else "-"
        host_header, forwarded_for, body_length, chunked = _scan_headers(scope["headers"])
        host = host_from_header(host_header) if host_header is not None else (conn_info.sni or "")
        ex = Exchange(request_id, time.perf_counter(), scope["method"], scope["path"], host, peer)
        try:
            status = self.site_phase(ex, state, conn_info)
            if status is None:
                ex.client_ip = state.clients.client_ip(peer, forwarded_for)
                status = self.limits_phase(ex, body_length)
            if status is None:
                await self.forward_phase(ex, state, scope, receive, send, host_header or host.encode(), chunked)
            else:
                await self.respond_error(ex, send, status)
        finally:
            self.log_phase(ex)

    # --- phases ------------------------------------------------------------------------------------------------

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

    async def forward_phase(
        self, ex: Exchange, state: ConfigState, scope: Scope, receive: Receive, send: Send, host: bytes, chunked: bool
    ) -> None:
        """Send the request to an origin and stream its answer back; 502/504 when the origin fails us."""
        site = ex.site
        assert site is not None
        config = site.config
        target = scope["raw_path"] or scope["path"].encode()
        if scope["query_string"]:
            target = target + b"?" + scope["query_string"]
        has_body = chunked or _has_length(scope["headers"])
        conn_info: ConnectionInfo = scope.get("extensions", {}).get("edge", _NO_CONNECTION)
        head = request_head(
            ex.method,
            target,
            scope["headers"],
            client_ip=ex.client_ip,
            trusted_peer=state.clients.is_trusted(ex.peer),
            host=host,
            chunked=chunked,
            extra=((b"x-client-cert-subject", conn_info.client_subject.encode()),) if conn_info.client_subject else (),
        )
        pool = site.balancer.pick(ex.client_ip)
        ex.origin = pool.origin.url
        conn: UpstreamConnection | None = None
        try:
            for attempt in (0, 1):
                conn, fresh = await pool.acquire(config.connect_timeout)
                conn.start(head, no_body=ex.method == "HEAD")
                try:
                    if has_body:
                        await _stream_request_body(receive, conn, chunked, config.max_body)
                    status, raw_headers = await conn.read_head(config.read_timeout)
                    break
                except UpstreamError as exc:
                    conn.release()
                    conn = None
                    # A reused keep-alive connection the origin had closed: retry once on a fresh one.
                    if attempt == 0 and not fresh and not exc.sent and not has_body:
                        continue
                    raise
        except UpstreamTimeout as exc:
            ex.error = str(exc)
            await self.respond_error(ex, send, 504)
            return
        except UpstreamError as exc:
            ex.error = str(exc)
            await self.respond_error(ex, send, 502)
            return
        except BodyTooLarge:
            if conn is not None:
                conn.close()
                conn.release()
            await self.respond_error(ex, send, 413)
            return
        except ClientGone:
            if conn is not None:
                conn.close()
                conn.release()
            ex.status = 499
            return
        assert conn is not None
        await self.response_phase(ex, scope, send, conn, status, raw_headers, host)

    async def response_phase(
        self,
        ex: Exchange,
        scope: Scope,
        send: Send,
        conn: UpstreamConnection,
        status: int,
        raw_headers: list[tuple[bytes, bytes]],
        host: bytes,
    ) -> None:
        """Stream the origin's response to the client; a failure mid-body aborts the client connection."""
        site = ex.site
        assert site is not None
        extra = [(b"edge-request-id", ex.request_id.encode())]
        if site.hsts:
            extra.append((b"strict-transport-security", site.hsts))
        headers = response_headers(
            raw_headers, origin_authorities=site.origin_authorities, public_host=host, extra=extra
        )
        ex.status = status
        conn_info: ConnectionInfo = scope.get("extensions", {}).get("edge", _NO_CONNECTION)
        read_timeout = site.config.read_timeout
        try:
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
        if ex.site is not None and ex.site.hsts:
            headers.append((b"strict-transport-security", ex.site.hsts))
        ex.bytes_sent = len(body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def log_phase(self, ex: Exchange) -> None:
        duration = time.perf_counter() - ex.started
        metrics = self.runtime.metrics
        metrics.observe_duration(duration)
        metrics.inc("edge_requests_total", (("code", _status_class(ex.status)),))
        record: dict[str, Any] = {
            "ts": utc_timestamp(),
            "request_id": ex.request_id,
            "client": ex.client_ip or ex.peer,
            "host": ex.host,
            "method": ex.method,
            "path": ex.path,
            "status": ex.status,
            "bytes": ex.bytes_sent,
            "duration_ms": round(duration * 1000, 3),
            "origin": ex.origin,
            "cache": ex.cache,
            "waf": ex.waf,
            "ratelimit": ex.ratelimit,
        }
        if ex.error:
            record["error"] = ex.error
        self.runtime.log.write(record)


# --- small pure pieces of the phases ----------------------------------------------------------------------------


def _scan_headers(headers: list[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None, int, bool]:
    """One pass over the request headers: Host, X-Forwarded-For, Content-Length, chunked."""
    host = None
    forwarded_for = None
    length = 0
    chunked = False
    for name, value in headers:
        if name == b"host":
            host = value
        elif name == b"x-forwarded-for":
            forwarded_for = value if forwarded_for is None else forwarded_for + b"," + value
        elif name == b"content-length":
            length = int(value) if value.isdigit() else 0
        elif name == b"transfer-encoding":
            chunked = True
    return host, forwarded_for, length, chunked


def _has_length(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"content-length" and value not in (b"0", b"") for name, value in headers)


def _status_class(status: int) -> str:
    return f"{status // 100}xx" if status else "none"


async def _stream_request_body(receive: Receive, conn: UpstreamConnection, chunked: bool, limit: int) -> None:
    """Copy the client's body to the origin as it arrives, waiting whenever the origin's socket is full."""
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        body: bytes = message.get("body", b"")
        if body:
            total += len(body)
            if total > limit:
                raise BodyTooLarge()
            conn.write(b"%x\r\n%b\r\n" % (len(body), body) if chunked else body)
            if conn.write_paused:
                await conn.drain()
        if not message.get("more_body", False):
            break
    if chunked:
        conn.write(b"0\r\n\r\n")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
