"""One exchange with an origin: send the request head and body, get the response head, fail over safely.

The gateway's forward phase (and the cache's background revalidation) call `open_exchange`; the response
body is then read from the returned connection. Errors are `UpstreamError` / `UpstreamTimeout` (their text
is for the log only), `BodyTooLarge` and `ClientGone`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge.proxy.upstream import NoOrigin, UpstreamConnection, UpstreamError, UpstreamTimeout

if TYPE_CHECKING:
    from edge.sites import Site

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
REPLAY_LIMIT = 64 * 1024  # request bodies up to this size are kept until the origin answers, for one retry


class BodyTooLarge(Exception):
    """A chunked request body grew past the site's max_body while it streamed."""


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


@dataclass(slots=True)
class RequestBody:
    """Where the request body comes from: the ASGI `receive`, after the `prefix` the WAF already read."""

    receive: Any
    chunked: bool
    prefix: Any = None  # inspection.BodyPrefix


@dataclass(slots=True)
class Opened:
    """An exchange whose response head arrived: read the body from `conn`, then `conn.release()`."""

    conn: UpstreamConnection
    status: int
    headers: list[tuple[bytes, bytes]]
    origin: str
    upstream: float  # seconds from the request head written to the response head, for the access log


async def open_exchange(site: Site, client_ip: str, method: str, head: bytes, body: RequestBody | None) -> Opened:
    """Send the request and wait for the response head, failing over where that is safe.

    The origins are tried in the balancer's order among those the health state allows (proxy/health.py:
    an ejected origin whose back-off is over takes one probe request at a time); when none is, NoOrigin
    (503 at once, not a wait for timeouts). An origin that refuses the connection never saw the request, so
    the next origin is tried (like nginx's `proxy_next_upstream error`); refusals and timeouts count
    against the origin's health, an answer for it. An idempotent request whose fresh connection closed
    before a byte of answer moves once to the next origin. A reused keep-alive connection that the origin closed without
    a byte of answer is retried once on a fresh connection (with the body when it was small enough to
    keep, REPLAY_LIMIT), but only when the request cannot have been processed: nothing of it was
    written, or its method is idempotent (RFC 9110 section 9.2.2; nginx's `non_idempotent` default, Go's
    transport). A POST the origin may have acted on is never sent twice. Anything else is a 502/504.
    """
    config = site.config
    has_body = body is not None
    now = time.monotonic()
    order = site.balancer.order(client_ip, lambda pool: pool.health.usable(now))
    if not order:
        raise NoOrigin("every origin of the site is down (held out by health checks or back-off)", sent=False)
    last_error: UpstreamError | None = None
    moved = False  # the one move to another origin after an idempotent request found its connection closed
    for pool in order:
        replay: bytes | None = None
        pool.health.record_attempt(now)
        for attempt in (0, 1):
            try:
                conn, fresh = await pool.acquire(config.connect_timeout, fresh=attempt > 0)
            except UpstreamError as exc:
                exc.origin = pool.origin.url
                pool.health.record_failure(time.monotonic(), str(exc))
                last_error = exc
                break
            if not fresh and method not in IDEMPOTENT:
                # A request that must not go twice takes a reused connection only after one turn of the event
                # loop: an origin's close that already arrived is seen then, before anything is written.
                await asyncio.sleep(0)
                if conn.closed:
                    conn.release()
                    conn, fresh = await pool.acquire(config.connect_timeout, fresh=True)
            try:
                conn.start(head, no_body=method == "HEAD")
                sent = time.perf_counter()
                if replay is not None:
                    conn.write(replay)
                elif body is not None:
                    replay = await stream_request_body(body, conn, config.max_body)
                status, raw_headers = await conn.read_head(config.read_timeout)
                answered = time.perf_counter()
                pool.health.record_success(time.monotonic())
                return Opened(conn, status, raw_headers, pool.origin.url, answered - sent)
            except UpstreamError as exc:
                conn.release()
                # A reused keep-alive connection that the origin closed without a byte of answer: again on
                # a fresh one when the request cannot have been acted on (see the docstring).
                if (
                    attempt == 0
                    and not fresh
                    and not exc.sent
                    and (not exc.written or (method in IDEMPOTENT and (not has_body or replay is not None)))
                ):
                    continue
                exc.origin = pool.origin.url
                if isinstance(exc, UpstreamTimeout):
                    pool.health.record_failure(time.monotonic(), str(exc))
                elif not moved and not exc.sent and method in IDEMPOTENT and (not has_body or replay is not None):
                    moved = True  # closed before a byte of answer: once more, on the next origin
                    last_error = exc
                    break
                raise
            except (BodyTooLarge, ClientGone):
                conn.close()
                conn.release()
                raise
    assert last_error is not None
    raise last_error


async def stream_request_body(body: RequestBody, conn: UpstreamConnection, limit: int) -> bytes | None:
    """Copy the client's body to the origin as it arrives, waiting whenever the origin's socket is full.

    `body.prefix` is what the WAF already read: it goes first, and the rest is received after it. Returns the
    bytes written (framing included) when they fit REPLAY_LIMIT, so that a reused connection the origin had
    already closed can be retried with the same body; None for a larger body.
    """
    receive, chunked, prefix = body.receive, body.chunked, body.prefix
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
        data: bytes = message.get("body", b"")
        if data:
            total += len(data)
            if total > limit:
                raise BodyTooLarge()
            write(frame(data))
            if conn.write_paused and not dead:
                await conn.drain()
        more = message.get("more_body", False)
    if chunked:
        write(b"0\r\n\r\n")
    return b"".join(sent) if sent is not None else None
