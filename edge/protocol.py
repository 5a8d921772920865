"""The HTTP/1.1 protocol of every listener: uvicorn's httptools protocol plus what a gateway at the edge needs.

- TLS facts (server name, version, client certificate) in `scope["extensions"]`, which uvicorn lacks;
- a request id per request (`scope["edge.request_id"]`), so that even answers edge gives before the app
  runs (400, 408, 431) carry one and get an access-log line;
- the authority of an absolute-form target (`scope["edge.authority"]`), which uvicorn drops, so that the
  gateway can refuse one that disagrees with Host;
- request trailers are dropped: llhttp reports them through `on_header` after the head, and uvicorn would
  append them to the headers the app already judged (a late `Host` or `Content-Length` would reach the
  origin without having been seen by a rule);
- a bound on the request head (431) and the timeouts nginx users know: `client_header_timeout` for the
  TLS handshake and the head (from the connection's start, or the first byte of a keep-alive request),
  `client_body_timeout` between two reads of a body, `keepalive_timeout` for idle connections;
- a bound on open connections per worker (`server.max_connections`), with a log line when it bites;
- the scope and the request's cycle built here rather than by uvicorn (one Python call per header instead of
  two): the cycle is edge's (`cycle.py`, a response head checked in one pass) and writes through a `Cork`;
- upgrade requests (`Connection: upgrade` with `Upgrade`): nothing after the head is ever parsed as HTTP. It
  is held (up to EARLY_LIMIT, then reading stops) for a tunnel, and the connection closes after any answer
  but the 101 that hands it over to a tunnel (`edge_hand_over`, proxy/tunnel.py).

Timeouts cost no timer per request: each connection carries a deadline (a float set as its state changes)
and one sweep per worker checks them all twice a second (`Connections`), as nginx checks its timer tree
once per event-loop turn. A deadline is thus kept to within half a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from urllib.parse import unquote

import httptools
from cryptography import x509
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from edge.clients import new_request_id
from edge.cycle import EdgeCycle
from edge.exchange import ConnectionInfo, Exchange, Handover
from edge.pages import error_page
from edge.runtime import Runtime

log = logging.getLogger("edge")

MAX_REQUEST_HEAD = 64 * 1024  # request line + headers; nginx's large_client_header_buffers default is 4 x 8k
EARLY_LIMIT = 64 * 1024  # bytes held after an upgrade request's head before reading stops until the tunnel
SWEEP_INTERVAL = 0.5

# What a connection is waiting for, and so which deadline applies.
_NEW = 0  # a fresh connection before its first byte: client_header_timeout, silent close
_HEAD = 1  # part of a request head: client_header_timeout, 408
_BODY = 2  # the rest of a request body: client_body_timeout, 408
_APP = 3  # the gateway is answering: the origin's timeouts apply, not the client's
_IDLE = 4  # keep-alive between requests: keepalive_timeout, silent close


class Connections:
    """The open client connections of one worker (every listener), their deadlines and their bound."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.open: set[EdgeHttpProtocol] = set()
        self._task: asyncio.Task[None] | None = None
        self._warned = 0.0
        self.refused = 0

    def admit(self, protocol: EdgeHttpProtocol) -> bool:
        limit = self.runtime.state.config.server.max_connections
        if len(self.open) >= limit:
            self.refused += 1
            now = time.monotonic()
            if now - self._warned > 10:
                self._warned = now
                log.warning(
                    "server.max_connections (%d) reached in this worker: new connections are closed at once "
                    "(%d so far); raise it or add workers",
                    limit,
                    self.refused,
                )
            return False
        self.open.add(protocol)
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sweep_forever())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _sweep_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = loop.time()
            for protocol in [p for p in self.open if p.edge_deadline <= now]:
                protocol.edge_expired(now)


class Cork:
    """The transport uvicorn's response cycle writes to: writes made in one turn of the event loop leave in one
    `write`, so a response whose head and body are ready together is one TLS record and one system call, not
    two (uvicorn writes the head as soon as `http.response.start` is sent). One `call_soon` per response."""

    __slots__ = ("loop", "pending", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        pending = self.pending
        if not pending:
            self.loop.call_soon(self.flush)
        pending.append(data)

    def flush(self) -> None:
        pending = self.pending
        if pending:
            self.pending = []
            if not self.transport.is_closing():
                self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self.transport.get_extra_info(name, default)


class EdgeHttpProtocol(HttpToolsProtocol):
    """One client connection on any listener; `edge_connections` is set per worker by `protocol_class`."""

    edge_connections: Connections
    edge_info: ConnectionInfo
    edge_in_head = True
    edge_head_bytes = 0  # bytes of reads that ended inside the head (a head that never ends is cut by this)
    edge_head_size = 0  # the request line and header fields as parsed (a head that does end is cut by this)
    edge_events = 0  # heads and messages completed so far: a chunk without one lies inside a single part
    edge_rejected = False
    edge_waiting = _NEW
    edge_deadline = float("inf")
    edge_proxied: tuple[str, int] | None = None
    edge_cork: Cork | None = None
    edge_held: bytearray | None = None  # after an upgrade request's head: what came next, never parsed

    # --- connection ---------------------------------------------------------------------------------------

    def set_proxied_client(self, address: str, port: int) -> None:
        """The client address a trusted proxy announced in a PROXY header (see proxyproto.py)."""
        self.edge_proxied = (address, port)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.edge_proxied is not None:
            self.client = self.edge_proxied
        info = ConnectionInfo(transport=transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            info.sni = getattr(ssl_object, "edge_sni", None)
            info.tls_version = ssl_object.version()
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                info.client_cert = x509.load_der_x509_certificate(der)
                info.client_subject = info.client_cert.subject.rfc4514_string()
        self.edge_info = info
        self.edge_extensions: dict[str, object] = {
            "edge": info,
            "tls": {"server_name": info.sni, "tls_version": info.tls_version, "client_subject": info.client_subject},
        }
        if not self.edge_connections.admit(self):
            self.edge_rejected = True
            transport.abort()
            return
        self.edge_settings = self.edge_connections.runtime.state.config.server
        self.edge_deadline = self.loop.time() + self.edge_settings.client_header_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        if hasattr(self, "edge_info"):
            self.edge_info.closed = True
        self.edge_connections.open.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.edge_rejected:
            return
        if self.edge_held is not None:
            self._edge_hold(data)
            return
        events = self.edge_events
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")  # as uvicorn's data_received, which this replaces
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade as exc:
            # llhttp stops after the head of a request with `Connection: upgrade` (and after CONNECT): the rest
            # is another protocol's, or pipelined requests that must not pass unjudged (WebSocket smuggling).
            self.edge_held = bytearray()
            self._edge_hold(data[exc.args[0] :])
            return
        if self.edge_in_head and self.edge_events == events and self.parser is not None:
            # The whole chunk went into a request head that is still not complete.
            self.edge_head_bytes += len(data)
            if self.edge_head_bytes > MAX_REQUEST_HEAD:
                self.edge_refuse(431)

    def shutdown(self) -> None:
        """On stop, idle keep-alive connections go at once: a TLS close waits for the client's close_notify,
        which an idle client never sends, and that would hold the stop for the whole grace period."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()

    # --- parser callbacks ---------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self.scope = {  # uvicorn's scope, with the connection's TLS facts
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,  # type: ignore[typeddict-item]
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
            "extensions": self.edge_extensions,  # type: ignore[typeddict-item]
        }
        if self.edge_waiting != _NEW:  # a fresh connection's first head keeps the deadline set at its start
            self.edge_deadline = self.loop.time() + self.edge_settings.client_header_timeout
        self.edge_waiting = _HEAD

    def on_url(self, url: bytes) -> None:
        self.edge_head_size += len(url)
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.edge_in_head:  # after the head, llhttp reports trailers here: dropped (see the module docstring)
            self.edge_head_size += len(name) + len(value) + 4
            name = name.lower()
            value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace, which is not part of a value
            if name == b"expect" and value.lower() == b"100-continue":
                self.expect_100_continue = True
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.edge_head_size > MAX_REQUEST_HEAD:
            self.edge_refuse(431)
            return
        self.edge_in_head = False
        self.edge_head_bytes = 0
        self.edge_events += 1
        self.edge_waiting = _BODY
        self.edge_deadline = self.loop.time() + self.edge_settings.client_body_timeout
        scope: Any = self.scope
        scope["edge.request_id"] = new_request_id()
        scope["edge.bytes_in"] = self.edge_head_size  # the request line and headers; the body adds to it
        self.edge_head_size = 0
        url = self.url
        parsed_url = httptools.parse_url(url)  # an error here is llhttp's 400, as for any bad target
        if url[:1] != b"/" and url != b"*" and parsed_url.host is not None:  # absolute form: kept for the Host check
            scope["edge.authority"] = parsed_url.host + (b":%d" % parsed_url.port if parsed_url.port else b"")
        cork = self.edge_cork
        if cork is None:
            cork = self.edge_cork = Cork(self.transport, self.loop)
        parser = self.parser
        upgrade = parser.should_upgrade()
        if upgrade:
            scope["edge.upgrade"] = True
            self.edge_info.hand_over = self.edge_hand_over
        # uvicorn's on_headers_complete (with no WebSocket library: edge tunnels upgrades itself), edge's cycle
        # writing through the cork; limit_concurrency is never set (server.max_connections bounds connections).
        scope["method"] = parser.get_method().decode("ascii")
        http_version = parser.get_http_version()
        if http_version != "1.1":
            scope["http_version"] = http_version
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        scope["path"] = self.root_path + path
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path
        scope["query_string"] = parsed_url.query or b""
        existing = self.cycle
        cycle = self.cycle = EdgeCycle(
            scope=scope,
            transport=cork,  # type: ignore[arg-type]
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=self.expect_100_continue,
            # an upgrade request is the last of its connection, whatever the answer
            keep_alive=http_version != "1.0" and parser.should_keep_alive() and not upgrade,
            on_response=self.on_response_complete,
        )
        if existing is None or existing.response_complete:
            self._start_asgi_task(cycle, self.app)
        else:  # pipelined: queued until the one before has answered
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, self.app))

    def on_body(self, body: bytes) -> None:
        if self.edge_rejected:
            return
        self.edge_deadline = self.loop.time() + self.edge_settings.client_body_timeout
        scope: Any = self.scope
        scope["edge.bytes_in"] += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self.edge_rejected:
            return
        super().on_message_complete()
        self.edge_in_head = True
        self.edge_events += 1
        if self.cycle is not None and self.cycle.response_complete and not self.pipeline:
            # answered before the body ended (403, 413): the connection is idle from now on
            self.edge_waiting = _IDLE
            self.edge_deadline = self.loop.time() + self.edge_settings.keepalive_timeout
        else:
            self.edge_waiting = _APP
            self.edge_deadline = float("inf")

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive timer replaced by this connection's deadline."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self.edge_waiting == _APP:
            self.edge_waiting = _IDLE
            self.edge_deadline = self.loop.time() + self.edge_settings.keepalive_timeout

    # --- upgrades -----------------------------------------------------------------------------------------------

    def _edge_hold(self, data: bytes) -> None:
        assert self.edge_held is not None
        self.edge_held += data
        if len(self.edge_held) > EARLY_LIMIT:
            self.flow.pause_reading()

    def edge_hand_over(self) -> Handover:
        """The connection of an upgrade request whose 101 is about to be sent, for a tunnel that calls
        `transport.set_protocol` at once: uvicorn's cycle is told the client left (so it neither answers nor
        closes when the app returns), the connection leaves uvicorn's table (a stop waits for the gateway's
        task instead) and stays in edge's until the tunnel calls `ended`."""
        self.cycle.disconnected = True
        self.connections.discard(self)
        self.edge_waiting, self.edge_deadline = _APP, float("inf")
        early = bytes(self.edge_held or b"")
        self.edge_held = bytearray()
        return Handover(self.transport, early, self._edge_tunnel_ended)

    def _edge_tunnel_ended(self) -> None:
        self.edge_info.closed = True
        self.edge_connections.open.discard(self)

    # --- refusals and timeouts ----------------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """llhttp could not parse the request: edge's 400 page (with a request id and a log line), then close."""
        self.edge_refuse(400, f"unparsable request: {msg}")

    def edge_expired(self, now: float) -> None:
        """Called by the sweep when the deadline passed: close, with a 408 when part of a request came."""
        if self.transport.is_closing():
            self.edge_deadline = float("inf")
            return
        waiting = self.edge_waiting
        if waiting == _BODY and self.flow.read_paused:
            # edge itself stopped reading (the origin is slower than the client): not the client's pause.
            self.edge_deadline = now + self.edge_settings.client_body_timeout
            return
        self.edge_deadline = float("inf")
        if waiting == _HEAD:
            self.edge_refuse(408, "client_header_timeout: the request head did not arrive in time")
        elif waiting == _BODY:
            self.edge_info.timed_out = True
            if self.cycle is not None and not self.cycle.response_started:
                request_id = self.scope.get("edge.request_id") if self.scope else None
                self._write_page(408, str(request_id or new_request_id()))
            self.transport.close()
        else:  # a new connection that never sent a byte, or an idle keep-alive one
            self.transport.close()

    def edge_refuse(self, status: int, error: str = "request head larger than 64 KiB") -> None:
        """Answer `status` with edge's page and close: for what never reaches the gateway (400, 408, 431)."""
        self.edge_rejected = True
        request_id = new_request_id()
        body_size = self._write_page(status, request_id)
        self.transport.close()
        peer = self.client[0] if self.client else "-"
        method = ""
        with contextlib.suppress(Exception):
            method = self.parser.get_method().decode("ascii", "replace") if self.parser is not None else ""
        ex = Exchange(request_id, time.perf_counter(), method or "-", "-", "", peer)
        ex.client_ip, ex.status, ex.bytes_sent, ex.error = peer, status, body_size, error
        self.edge_connections.runtime.record(ex)

    def _write_page(self, status: int, request_id: str) -> int:
        headers, body = error_page(status, request_id)
        head = b"".join(b"%s: %s\r\n" % pair for pair in headers)
        reason = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(b"HTTP/1.1 %d %s\r\n%sconnection: close\r\n\r\n%s" % (status, reason, head, body))
        return len(body)


def protocol_class(connections: Connections) -> type[EdgeHttpProtocol]:
    """The protocol class uvicorn instantiates per connection, bound to this worker's connection table."""
    return type("EdgeHttp", (EdgeHttpProtocol,), {"edge_connections": connections})
