"""Per-request state: what the request is, who sent it, and every decision taken on its way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge.sites import Site


@dataclass(slots=True)
class ConnectionInfo:
    """Per-connection facts that uvicorn's scope lacks, put in `scope["extensions"]["edge"]` by our protocol.

    `closed` turns true when the client goes away, so a streaming response stops reading its origin; `abort`
    closes the client connection when a response cannot be finished (the only honest signal once the
    status line is out).
    """

    sni: str | None = None
    tls_version: str | None = None
    client_subject: str = ""
    client_cert: Any = None  # the verified client leaf (cryptography x509.Certificate) when mTLS is on
    closed: bool = False
    timed_out: bool = False  # client_body_timeout closed the connection (the gateway logs 408)
    transport: Any = None
    hand_over: Callable[[], Handover] | None = None  # set by the protocol when the request asked for an Upgrade

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.close()


@dataclass(frozen=True, slots=True)
class Handover:
    """The client connection of an upgrade request, handed from the HTTP protocol to a tunnel (proxy/tunnel.py).

    `early` is what the client sent after the request head and before edge answered: never parsed as HTTP.
    `ended` must be called when the tunnel is over, so the connection leaves the worker's table.
    """

    transport: Any
    early: bytes
    ended: Callable[[], None]


@dataclass(slots=True)
class Exchange:
    """One request's way through the phases of `gateway.py`; becomes the access-log line at the end."""

    request_id: str
    started: float
    method: str
    path: str
    host: str
    peer: str
    client_ip: str = ""
    site: Site | None = None
    status: int = 0
    bytes_sent: int = 0
    origin: str | None = None
    cache: str | None = None
    waf: dict[str, Any] | None = None
    ratelimit: dict[str, Any] | None = None
    error: str | None = None
    target: bytes = b"/"  # the normalised path and the query: what rules judge and the origin receives
    raw_target: bytes = b"/"  # the target as received
    body_length: int = 0  # Content-Length, 0 when absent
    has_length: bool = False  # the client sent Content-Length (edge restates it to the origin)
    chunked: bool = False  # the body comes with Transfer-Encoding (length unknown)
    needs_body: bool = False
    response_started: bool = False  # the WAF's head phase asked for the body phase
    body_prefix: Any = None  # the part of the body the WAF read (`inspection.BodyPrefix`), forwarded first
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # edge's own, for any response
    ticket: Any = None  # cache.cache.Ticket when the site has a cache
    upgrade: bytes | None = None  # the protocol an Upgrade request asked for (lower case), e.g. b"websocket"
    bytes_in: int | None = None  # a tunnel's bytes from the client to the origin (`bytes_sent`: the other way)
    waf_trace: Any = None  # (RuleSet, WafState) of the request once the WAF ran, for the audit log (waf_audit.py)
    scope: Any = None  # the ASGI scope, for the log's query, user agent, referer, TLS; None: refused early
    upstream: float | None = None  # seconds from the request head written to the origin to its response head

    def own_headers(self) -> list[tuple[bytes, bytes]]:
        """What edge adds to every response it sends: the request id, its own fields so far (rate limits,
        Allow, ...), and the site's HSTS."""
        out = [(b"edge-request-id", self.request_id.encode("ascii")), *self.response_headers]
        if self.site is not None and self.site.hsts:
            out.append((b"strict-transport-security", self.site.hsts))
        return out
