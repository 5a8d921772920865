"""A pooled HTTP/1.1 client for origins: asyncio protocols parsing with httptools.

Written here rather than taken from httpx or aiohttp because it is the hot path: httpx's pool polls every
idle connection per request and aiohttp's streaming layers cost about half of the proxy's throughput (see
README, "Choosing the upstream client"). This client does only what a reverse proxy needs: send a head
that the caller built, stream a body out with back-pressure, and hand the response head and body chunks
back as they arrive, pausing the origin socket while the client is slower than the origin.

Errors are `UpstreamError` (connect failed, connection lost, protocol error) or `UpstreamTimeout`; their
text is for the log only and never reaches a client.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any

import httptools

from edge.config import Origin
from edge.proxy.health import HealthPolicy, OriginHealth

_HIGH_WATER = 256 * 1024  # response bytes buffered before the origin socket is paused
_MAX_IDLE = 256  # idle keep-alive connections kept per origin


class UpstreamError(Exception):
    """The origin could not be reached or broke the exchange.

    `sent`: the origin sent some byte of an answer; `written`: some byte of the request went out (a request
    never written can go again whatever its method; one written, only when it is idempotent)."""

    def __init__(self, message: str, *, sent: bool = True, written: bool = True) -> None:
        super().__init__(message)
        self.sent = sent
        self.written = written
        self.origin: str | None = None  # the origin's URL, for the log


class UpstreamTimeout(UpstreamError):
    """The origin did not answer (or stopped sending) within the read timeout."""


class NoOrigin(UpstreamError):
    """Every origin of the site is down and one probe request is already out: 503 at once."""


class UpstreamConnection(asyncio.Protocol):
    """One connection to one origin, used for one exchange at a time and returned to its pool after it."""

    loop: asyncio.AbstractEventLoop  # set when the connection is made

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.error: Exception | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = True
        self.head_done = False
        self.complete = False
        self.no_body = False
        self.received_any = False
        self.unsolicited = False  # the origin sent bytes after a complete response: never reused
        self.until_close = False  # the response's body ends when the origin closes the connection
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.reading_paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.deadline = 0.0  # when the current wait times out (loop time)
        self.in_use = False  # handed out by the pool and not yet released
        self.write_paused = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self.switched: bytearray | None = None  # after a 101 head: the new protocol's bytes, kept for the tunnel

    # --- asyncio.Protocol ------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()  # once per connection, not per wait (3.11 asks getpid() each time)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete:
            if self.head_done and self.until_close and exc is None:
                # A response without Content-Length or chunked framing ends when the origin closes
                # (RFC 9112 section 6.3, rule 8); httptools has no way to tell llhttp about the EOF.
                self.keep_alive = False
                self._finish()
            else:
                self.error = self.error or exc or ConnectionResetError("origin closed the connection")
        self._wake()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self.switched is not None:
            self.switched += data
            if len(self.switched) > _HIGH_WATER and self.transport is not None:
                self.transport.pause_reading()  # the tunnel resumes it
            return
        if self.complete:
            # Bytes after a complete response (or while idle in the pool) belong to no request: an origin
            # that sends them is out of step, and the next request on this connection would read them.
            self._unsolicited()
            return
        self.received_any = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            if self.status == 101:
                # Switching Protocols: what follows the head is no longer HTTP (RFC 9110 section 15.2.2), and
                # this connection never goes back to the pool.
                self.keep_alive = False
                self.switched = bytearray(data[exc.args[0] :])
        except httptools.HttpParserError as exc:
            if not self.complete:  # junk after a complete response is `_unsolicited`, not this one's error
                self.error = exc
            self.keep_alive = False
            if self.transport is not None:
                self.transport.close()
            self._wake()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    # --- httptools callbacks -----------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second response in the same read as the first one's end
            self._unsolicited()

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.unsolicited:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.unsolicited:
            return
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.headers = []  # interim response (100 Continue, 103 Early Hints): wait for the final one
            return
        if status > 599:
            # HTTP has no such status (RFC 9110 section 15: 100-599): what a client would make of it is
            # anyone's guess, so it is the origin's failure (502), like nginx's "upstream sent invalid status".
            self.error = ValueError(f"origin sent status {status}, outside 100-599")
            self.keep_alive = False
            if self.transport is not None:
                self.transport.close()
            self._wake()
            return
        self.status = status
        self.keep_alive = self.parser.should_keep_alive()
        self.head_done = True
        self.until_close = not self.no_body and status not in (204, 304) and _close_delimited(self.headers)
        if self.no_body:
            self._finish()
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self.complete or self.unsolicited:
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake()

    def on_message_complete(self) -> None:
        if self.head_done and not self.complete:
            self._finish()
            self._wake()

    def _unsolicited(self) -> None:
        self.unsolicited = True
        self.keep_alive = False
        if self.transport is not None and not self.closed:
            self.transport.close()

    # --- exchange API ----------------------------------------------------------------------------------------

    def _finish(self) -> None:
        self.complete = True
        if self.no_body:
            # httptools does not know the request was HEAD; a fresh parser keeps the connection reusable.
            self.parser = httptools.HttpResponseParser(self)

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, timeout: float) -> None:
        """Until the origin sends something or closes; TimeoutError after `timeout`.

        No timer per wait: the connection carries a deadline and one sweep per worker expires the waiters
        whose deadline passed (`Deadlines`), to within SWEEP seconds."""
        loop = self.loop
        waiter = self.waiter = loop.create_future()
        self.deadline = loop.time() + timeout
        waiting = DEADLINES.waiting
        waiting.add(self)
        if DEADLINES.loop is not loop:
            DEADLINES.start(loop)
        try:
            await waiter
        finally:
            waiting.discard(self)
            self.waiter = None

    def start(self, head: bytes, *, no_body: bool) -> None:
        """Write a request head; `no_body` says the response will carry none (HEAD)."""
        self.status = 0
        self.headers = []
        self.head_done = False
        self.complete = False
        self.no_body = no_body
        self.received_any = False
        self.error = None
        assert self.transport is not None
        if self.closed or self.transport.is_closing():
            raise UpstreamError("origin closed the kept-alive connection before the request", sent=False, written=False)
        self.transport.write(head)

    def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise UpstreamError("origin closed the connection while the request body was sent")
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the origin's socket buffer is full, so a fast client cannot fill our memory."""
        if self.write_paused and not self.closed:
            self.drain_waiter = self.loop.create_future()
            await self.drain_waiter
            self.drain_waiter = None

    async def read_head(self, timeout: float) -> tuple[int, list[tuple[bytes, bytes]]]:
        """The final response's status and headers (raw, as the origin sent them)."""
        while not self.head_done:
            if self.error is not None or self.closed:
                raise UpstreamError(f"origin failed before answering: {self.error!r}", sent=self.received_any)
            try:
                await self._wait(timeout)
            except TimeoutError:
                raise UpstreamTimeout(f"origin sent no response within {timeout}s") from None
        return self.status, self.headers

    async def read_chunk(self, timeout: float) -> bytes | None:
        """Next body bytes (possibly several chunks joined), or None at the end of the response."""
        while True:
            if self.chunks:
                data = self.chunks.popleft() if len(self.chunks) == 1 else b"".join(self.chunks)
                self.chunks.clear()
                self.buffered = 0
                if self.reading_paused and self.transport is not None:
                    self.reading_paused = False
                    self.transport.resume_reading()
                return data
            if self.complete:
                return None
            if self.error is not None:
                raise UpstreamError(f"origin broke off the response: {self.error!r}")
            try:
                await self._wait(timeout)
            except TimeoutError:
                raise UpstreamTimeout(f"origin stalled for {timeout}s mid-response") from None

    def release(self) -> None:
        """Give the connection back: pooled when the exchange ended cleanly and both sides keep it alive.

        Once per exchange: a second call is ignored, because a connection put in the idle list twice would
        be handed to two requests at once (the second's wait orphans the first's, which then never ends)."""
        if not self.in_use:
            return
        self.in_use = False
        if (
            self.complete
            and self.keep_alive
            and not self.closed
            and self.error is None
            and not self.chunks
            and not self.unsolicited
        ):
            self.pool.put(self)
        else:
            self.close()
            self.pool.discard()

    def detach(self) -> tuple[asyncio.Transport, bytes]:
        """After a 101: the transport and the bytes that followed the head, for a tunnel (proxy/tunnel.py), which
        then owns the transport; `release()` at the tunnel's end closes it and counts it out of the pool."""
        assert self.transport is not None
        early, self.switched = bytes(self.switched or b""), bytearray()
        return self.transport, early

    def close(self) -> None:
        self.keep_alive = False
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True


def _close_delimited(headers: list[tuple[bytes, bytes]]) -> bool:
    """True when a response head states no length: no Content-Length, and no Transfer-Encoding ending in
    chunked (RFC 9112 section 6.3)."""
    for name, value in headers:
        if len(name) not in (14, 17):  # neither content-length nor transfer-encoding: most headers
            continue
        lower = name.lower()
        if lower == b"content-length":
            return False
        if lower == b"transfer-encoding" and value.lower().rstrip(b" \t").endswith(b"chunked"):
            return False
    return True


class Deadlines:
    """The origin connections waiting for bytes, and one sweep that times out those past their deadline."""

    SWEEP = 0.1

    def __init__(self) -> None:
        self.waiting: set[UpstreamConnection] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """The sweep of `loop` (a worker has one loop; tests may run several in turn)."""
        self.loop = loop
        self.waiting = {conn for conn in self.waiting if conn.loop is loop}
        self.task = loop.create_task(self._sweep())

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.SWEEP)
            now = loop.time()
            for conn in [c for c in self.waiting if c.deadline <= now]:
                waiter = conn.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_exception(TimeoutError())


DEADLINES = Deadlines()  # per process: each worker has its own after fork


class Pool:
    """Idle keep-alive connections to one origin (LIFO, so the warmest connection is reused first)."""

    def __init__(
        self, origin: Origin, *, ssl_context: ssl.SSLContext | None = None, health: OriginHealth | None = None
    ) -> None:
        self.origin = origin
        self.ssl_context = ssl_context
        self.health = health or OriginHealth(HealthPolicy())
        self.idle: list[UpstreamConnection] = []
        self.active = 0
        self.closed = False  # retired by a config reload: connections coming back are closed, not kept

    async def acquire(self, connect_timeout: float, *, fresh: bool = False) -> tuple[UpstreamConnection, bool]:
        """A connection and whether it is fresh (a reused one may have been closed by the origin meanwhile).

        `fresh=True` skips the idle ones: the retry after a stale keep-alive connection must not meet another.
        """
        idle = self.idle
        while idle and not fresh:
            conn = idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                self.active += 1
                conn.in_use = True
                return conn, False
            conn.close()
        loop = asyncio.get_running_loop()
        kwargs: dict[str, Any] = {}
        if self.ssl_context is not None:
            kwargs = {"ssl": self.ssl_context, "server_hostname": self.origin.host}
        try:
            async with asyncio.timeout(connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: UpstreamConnection(self), self.origin.host, self.origin.port, **kwargs
                )
        except TimeoutError:
            raise UpstreamError(
                f"connect to {self.origin.url} timed out after {connect_timeout}s", sent=False
            ) from None
        except OSError as exc:
            raise UpstreamError(f"connect to {self.origin.url} failed: {exc}", sent=False) from None
        self.active += 1
        protocol.in_use = True
        return protocol, True

    def put(self, conn: UpstreamConnection) -> None:
        self.active -= 1
        if len(self.idle) < _MAX_IDLE and not self.closed:
            self.idle.append(conn)
        else:
            conn.close()

    def discard(self) -> None:
        self.active -= 1

    def close(self) -> None:
        self.closed = True
        for conn in self.idle:
            conn.close()
        self.idle.clear()
