"""The PROXY protocol (HAProxy's v1 text and v2 binary headers) in front of TLS, from trusted proxies only.

A load balancer that passes TCP through (AWS NLB, HAProxy in tcp mode) can only tell edge the client's
address by prefixing the connection with a PROXY header, before the TLS ClientHello. With
`server.proxy_protocol = true` the https listener works as nginx's `listen ... proxy_protocol`: every
connection must start with a PROXY header, read exactly (not a byte of the ClientHello is consumed), then
TLS starts on the same socket; the announced address is believed only when the peer is in
`server.trusted_proxies`, otherwise the peer's own address stays the client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("edge.proxyproto")

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_PREFIX = b"PROXY "
V1_MAX = 107  # the longest v1 line, CRLF included (the spec's figure)
HEADER_TIMEOUT = 5.0


class ProxyHeaderError(ValueError):
    """The bytes are not a valid PROXY header."""


@dataclass(frozen=True, slots=True)
class ProxiedAddress:
    """The client as the proxy saw it; None fields for `UNKNOWN` / `LOCAL` (health checks)."""

    source: str | None
    port: int | None


def parse_v1(line: bytes) -> ProxiedAddress:
    """`PROXY TCP4 203.0.113.7 198.51.100.1 51000 443\\r\\n` -> ProxiedAddress("203.0.113.7", 51000)."""
    if not line.startswith(V1_PREFIX) or not line.endswith(b"\r\n") or len(line) > V1_MAX:
        raise ProxyHeaderError("not a PROXY v1 line")
    parts = line[:-2].decode("ascii", "replace").split(" ")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return ProxiedAddress(None, None)
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise ProxyHeaderError(f"bad PROXY v1 line: {line[:60]!r}")
    try:
        source = ipaddress.ip_address(parts[2])
        port = int(parts[4])
    except ValueError as exc:
        raise ProxyHeaderError(f"bad address in PROXY v1 line: {exc}") from None
    if (source.version == 4) != (parts[1] == "TCP4") or not 0 <= port <= 65535:
        raise ProxyHeaderError("PROXY v1 family and address disagree")
    return ProxiedAddress(str(source), port)


def v2_length(head: bytes) -> int:
    """The total size of a v2 header from its first 16 bytes."""
    if head[:12] != V2_SIGNATURE or head[12] >> 4 != 2:
        raise ProxyHeaderError("not a PROXY v2 header")
    return 16 + int(struct.unpack("!H", head[14:16])[0])


def parse_v2(header: bytes) -> ProxiedAddress:
    """A whole v2 header (16 bytes + addresses + TLVs); LOCAL and non-TCP families give no address."""
    command, family = header[12] & 0x0F, header[13]
    if command == 0:  # LOCAL: the proxy's own health check
        return ProxiedAddress(None, None)
    if command != 1:
        raise ProxyHeaderError("bad PROXY v2 command")
    body = header[16:]
    if family == 0x11 and len(body) >= 12:  # TCP over IPv4
        return ProxiedAddress(str(ipaddress.IPv4Address(body[0:4])), struct.unpack("!H", body[8:10])[0])
    if family == 0x21 and len(body) >= 36:  # TCP over IPv6
        return ProxiedAddress(str(ipaddress.IPv6Address(body[0:16])), struct.unpack("!H", body[32:34])[0])
    return ProxiedAddress(None, None)


class ProxyThenTls(asyncio.BufferedProtocol):
    """One accepted TCP connection: a PROXY header, then TLS, then HTTP.

    The header is read byte-exactly through buffers sized to what is still missing (never empty, even
    before `connection_made`), so the ClientHello after it stays in the socket for TLS. `make_http` builds
    the HTTP protocol that takes over after the handshake; it learns the proxied client through
    `set_proxied_client`, only when the peer is trusted.
    """

    def __init__(
        self,
        make_http: Callable[[], Any],
        context: ssl.SSLContext,
        is_trusted: Callable[[str], bool],
        *,
        handshake_timeout: float = 10.0,
    ) -> None:
        self.make_http = make_http
        self.handshake_timeout = handshake_timeout
        self.context = context
        self.is_trusted = is_trusted
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray(PEEK_SIZE)
        self.filled = 0
        self.wanted = len(V1_PREFIX)  # the shortest prefix that tells v1 from v2 from neither
        self.trusted = False
        self.timer: asyncio.TimerHandle | None = None
        self.handshake: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.trusted = bool(peer) and self.is_trusted(peer[0])
        self.timer = asyncio.get_running_loop().call_later(HEADER_TIMEOUT, self._give_up)

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self.buffer)[self.filled : self.wanted]

    def buffer_updated(self, nbytes: int) -> None:
        self.filled += nbytes
        if self.filled < self.wanted:
            return
        try:
            size, proxied = header_in(bytes(self.buffer[: self.filled]))
            if size == 0:
                raise ProxyHeaderError("no PROXY header (server.proxy_protocol is on: every connection needs one)")
        except ProxyHeaderError as exc:
            log.warning("closing a connection from %s: %s", self._peer(), exc)
            self._close()
            return
        if size is None:
            self.wanted = self._next_size()
            return
        self._start_tls(proxied if self.trusted else None)

    def _next_size(self) -> int:
        """How many bytes to hold next: the whole v2 header once its length is known, else one more byte."""
        data = bytes(self.buffer[: self.filled])
        if data.startswith(V2_SIGNATURE[:6]):
            return v2_length(data[:16]) if len(data) >= 16 else 16
        return self.filled + 1

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        return str(peer[0]) if peer else "?"

    def _give_up(self) -> None:
        log.warning("closing a connection from %s: no complete PROXY header within %ss", self._peer(), HEADER_TIMEOUT)
        self._close()

    def _start_tls(self, proxied: ProxiedAddress | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        assert self.transport is not None
        self.transport.pause_reading()  # start_tls must find the ClientHello still unread
        http = self.make_http()
        if proxied is not None and proxied.source is not None:
            http.set_proxied_client(proxied.source, proxied.port or 0)
        # Keep a reference: the loop holds tasks weakly, and a collected task would drop the connection.
        self.handshake = asyncio.get_running_loop().create_task(self._handshake(http))

    async def _handshake(self, http: Any) -> None:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        holder = _Holding()
        try:
            tls = await loop.start_tls(
                self.transport, holder, self.context, server_side=True, ssl_handshake_timeout=self.handshake_timeout
            )
        except (OSError, ssl.SSLError, ConnectionError, TimeoutError, RuntimeError) as exc:
            log.debug("TLS handshake failed: %r", exc)
            self._close()
            return
        if tls is None or holder.lost:
            self._close()
            return
        # start_tls does not call connection_made: hand the TLS transport to the HTTP protocol, then whatever
        # arrived while this task waited to resume.
        tls.set_protocol(http)
        http.connection_made(tls)
        for data in holder.pending:
            http.data_received(data)
        if holder.eof:
            http.eof_received()

    def _close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()


class _Holding(asyncio.Protocol):
    """Stands in for the HTTP protocol between the end of the handshake and its hand-over."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.eof = False
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.pending.append(data)

    def eof_received(self) -> bool | None:
        self.eof = True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


PEEK_SIZE = 4096


def header_in(data: bytes) -> tuple[int | None, ProxiedAddress | None]:
    """What the first bytes of a connection hold: (0, None) no PROXY header; (None, None) one has begun but is
    incomplete; (size, address) a complete header of `size` bytes."""
    if data.startswith(V2_SIGNATURE):
        if len(data) < 16:
            return None, None
        size = v2_length(data[:16])
        if size > PEEK_SIZE:
            raise ProxyHeaderError("PROXY v2 header longer than 4 KiB")
        return (size, parse_v2(data[:size])) if len(data) >= size else (None, None)
    if V2_SIGNATURE.startswith(data):
        return None, None
    if data.startswith(V1_PREFIX):
        end = data.find(b"\r\n", 0, V1_MAX)
        if end == -1:
            if len(data) >= V1_MAX:
                raise ProxyHeaderError("PROXY v1 line too long")
            return None, None
        return end + 2, parse_v1(data[: end + 2])
    if V1_PREFIX.startswith(data):
        return None, None
    return 0, None
