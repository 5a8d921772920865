"""WebSocket tunnels: after the origin's 101, the client's connection and the origin's carry bytes both ways, untouched.

The handshake is an ordinary request on its way through the gateway (site, rate limits, WAF), forwarded by
`open_exchange` with `Connection: upgrade` and `Upgrade: websocket` restated by edge (UPGRADE_HEADERS). When
the origin answers 101 and the answer checks out (`switch_problem`), edge sends the 101 to the client and
joins the two transports (`Tunnel`): what one side reads is written to the other, frames are never parsed,
so close frames and codes, pings, extensions (permessage-deflate) and subprotocols pass as they are. Any
other answer is forwarded as a normal response, after which the connection closes (protocol.py).

Only `websocket` is tunnelled (what nginx does with the usual `Upgrade`/`Connection` recipe): another
Upgrade (`h2c`...) is forwarded as a plain request without it, and never switches.

Back-pressure both ways: when one side's write buffer passes its high-water mark, the other side's reading
pauses until it drains (asyncio's pause_writing / resume_writing). The tunnel ends when either side closes
(the other is closed once its pending bytes are written), or when no byte went either way for `idle`
seconds (the site's `timeouts.read`: nginx's proxy_read_timeout plays the same part for its tunnels).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Callable, Iterable, Sequence

from edge.cache.fields import connection_tokens
from edge.exchange import Handover
from edge.proxy.upstream import UpstreamConnection

WEBSOCKET = b"websocket"
UPGRADE_HEADERS = ((b"connection", b"upgrade"), (b"upgrade", WEBSOCKET))
_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
CLOSE_WAIT = 5.0  # seconds a closing tunnel may take to flush before both connections are cut


def requested_upgrade(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The protocol an upgrade request asks for: its Upgrade value(s), lower case (b"websocket", b"h2c", ...)."""
    return b", ".join(value.strip(b" \t").lower() for name, value in headers if name == b"upgrade")


def handshake_problem(
    method: str, http_version: str, headers: Iterable[tuple[bytes, bytes]], *, body_length: int, chunked: bool
) -> str | None:
    """Why a WebSocket handshake request is refused (400), or None (RFC 6455 section 4.2.1).

    A body is refused: nothing may follow the head of a request that switches protocols, or the bytes read
    as its body by one party would be frames (or a smuggled request) to the other.
    """
    if method != "GET" or http_version != "1.1":
        return f"WebSocket handshake must be GET over HTTP/1.1, not {method} over HTTP/{http_version}"
    if chunked or body_length > 0:
        return "WebSocket handshake with a body"
    keys = [value for name, value in headers if name == b"sec-websocket-key"]
    if len(keys) != 1 or _key_length(keys[0]) != 16:
        return "WebSocket handshake without exactly one Sec-WebSocket-Key of 16 bytes in base64"
    return None


def _key_length(key: bytes) -> int:
    try:
        return len(base64.b64decode(key.strip(b" \t"), validate=True))
    except (binascii.Error, ValueError):
        return -1


def accept_value(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.strip(b" \t") + _ACCEPT_GUID).digest())


def switch_problem(request: Iterable[tuple[bytes, bytes]], response: Sequence[tuple[bytes, bytes]]) -> str | None:
    """Why an origin's 101 is not a WebSocket accept of this request (502), or None.

    Tunnelling on a 101 that is not one would let a client talk raw bytes to an origin that never agreed
    to WebSocket (the "WebSocket smuggling" of proxies that trust the status or the request alone).
    """
    key = next((value for name, value in request if name == b"sec-websocket-key"), b"")
    upgrade: list[bytes] = []
    accept: list[bytes] = []
    for name, value in response:
        lower = name.lower()
        if lower == b"upgrade":
            upgrade.append(value.strip(b" \t").lower())
        elif lower == b"sec-websocket-accept":
            accept.append(value.strip(b" \t"))
    if upgrade != [WEBSOCKET]:
        return f"origin switched protocols to {b', '.join(upgrade)!r}, not to websocket"
    if b"upgrade" not in connection_tokens(response):
        return "origin's 101 has no Connection: upgrade"  # RFC 6455 section 4.1 has a client fail it too
    if accept != [accept_value(key)]:
        return "origin's 101 has no valid Sec-WebSocket-Accept for the request's key"
    return None


def switching_head(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The 101 response head sent to the client."""
    return b"HTTP/1.1 101 Switching Protocols\r\n" + b"".join(b"%s: %s\r\n" % pair for pair in headers) + b"\r\n"


class _End(asyncio.Protocol):
    """One side of a tunnel: what its transport reads goes to the other side's transport."""

    def __init__(self, tunnel: Tunnel, transport: asyncio.Transport) -> None:
        self.tunnel = tunnel
        self.transport = transport
        self.other: _End = self
        self.received = 0
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.received += len(data)
        self.tunnel.last = self.tunnel.clock()
        other = self.other.transport
        if not other.is_closing():
            other.write(data)

    def eof_received(self) -> bool:
        return False  # the transport closes, connection_lost follows: the tunnel ends

    def pause_writing(self) -> None:
        if not self.other.transport.is_closing():
            self.other.transport.pause_reading()  # the other side is read no faster than this one is written

    def resume_writing(self) -> None:
        if not self.other.transport.is_closing():
            self.other.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.tunnel.side_lost(self)


class Tunnel:
    """The client's connection (handed over by the protocol) and the origin's (after its 101), joined.

    `run` returns when both are closed; `to_client` and `to_origin` count the bytes after the 101 head.
    """

    def __init__(self, client: Handover, origin: UpstreamConnection, *, idle: float) -> None:
        loop = asyncio.get_running_loop()
        self.clock: Callable[[], float] = loop.time
        self.last = loop.time()
        self.idle = idle
        self.done: asyncio.Future[None] = loop.create_future()
        self.closing_since: float | None = None
        self.handover = client
        self.origin = origin
        origin_transport, self.origin_early = origin.detach()
        self.client = _End(self, client.transport)
        self.server = _End(self, origin_transport)
        self.client.other, self.server.other = self.server, self.client
        self.server.lost = origin.closed
        self.early_to_client = len(self.origin_early)
        self.early_to_origin = len(client.early)

    @property
    def to_client(self) -> int:
        return self.early_to_client + self.server.received

    @property
    def to_origin(self) -> int:
        return self.early_to_origin + self.client.received

    def start(self, head: bytes) -> None:
        """Write the 101 and what each side sent early, then let bytes flow. Runs with the hand-over, before
        the event loop can deliver another read to the HTTP protocol."""
        client, server = self.client.transport, self.server.transport
        client.set_protocol(self.client)
        server.set_protocol(self.server)
        client.write(head + self.origin_early)
        if self.server.lost:
            self.close()  # the origin said its piece and closed (e.g. 101 then a close frame)
            return
        if self.handover.early:
            server.write(self.handover.early)  # a client that did not wait for the 101 (RFC 6455 section 4.1)
        if not client.is_reading():
            client.resume_reading()
        if not server.is_reading():
            server.resume_reading()

    async def run(self, head: bytes) -> str | None:
        """Start, then wait for the end; the reason when it was not one side closing (for the log)."""
        error: str | None = None
        try:
            self.start(head)
            while not self.done.done():
                closing = self.closing_since
                left = (closing + CLOSE_WAIT if closing is not None else self.last + self.idle) - self.clock()
                if left > 0:
                    await asyncio.wait((self.done,), timeout=left)
                elif closing is not None:
                    self.abort()  # a side that reads nothing does not get to hold the tunnel open
                    break
                else:
                    error = f"no byte either way for {self.idle:g}s: tunnel closed"
                    self.close()
        except BaseException:
            self.abort()  # cancelled (a stop's grace period ran out): cut both sides
            raise
        finally:
            self.origin.release()  # closed, and counted out of its pool
        return error

    def side_lost(self, end: _End) -> None:
        if end is self.client:
            self.handover.ended()
        if self.client.lost and self.server.lost:
            if not self.done.done():
                self.done.set_result(None)
        else:
            self.close()

    def close(self) -> None:
        """Close both sides, each once what is pending for it has been written."""
        if self.closing_since is None:
            self.closing_since = self.clock()
        for end in (self.client, self.server):
            if not end.lost:
                end.transport.close()

    def abort(self) -> None:
        for end in (self.client, self.server):
            if not end.lost:
                end.transport.abort()
