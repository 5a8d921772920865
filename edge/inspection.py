"""What the WAF and the rate limits look at: the request view built from the ASGI scope, and the body part.

The view is built only when some rule exists, so a gateway without rules pays nothing for it. The body is
read only when a body rule needs it, and only up to `waf.max_body`; what was read is then forwarded first
and the rest streams after it, so inspection never buffers a body whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge.exchange import ConnectionInfo, Exchange
from edge.waf import RequestView


def request_view(scope: dict[str, Any], ex: Exchange, conn: ConnectionInfo) -> RequestView:
    target = ex.target.decode("latin-1")
    site = ex.site.config if ex.site is not None else None
    return RequestView(
        method=scope["method"],
        target=target,
        raw_target=target if ex.raw_target is ex.target else ex.raw_target.decode("latin-1"),
        version="HTTP/" + scope["http_version"],
        host=ex.host,
        headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]],
        client_ip=ex.client_ip,
        scheme="https",
        sni=conn.sni,
        tls_version=conn.tls_version,
        client_subject=conn.client_subject,
        methods=site.methods if site is not None else None,
        content_types=site.content_types if site is not None else None,
    )


@dataclass(slots=True)
class BodyPrefix:
    """The first bytes of a request body, read for inspection; `more` says the client has not finished."""

    data: bytes
    more: bool
    disconnected: bool = False


async def read_prefix(receive: Any, limit: int) -> BodyPrefix:
    """Read body messages until more than `limit` bytes are in hand or the body ends.

    Past the limit, not up to it: a body of exactly `limit` bytes whose end comes as a separate (empty)
    message, as a chunked body's does, must not be taken for a truncated one.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return BodyPrefix(b"".join(parts), False, disconnected=True)
        chunk: bytes = message.get("body", b"")
        if chunk:
            parts.append(chunk)
            size += len(chunk)
        more = bool(message.get("more_body", False))
        if not more or size > limit:
            return BodyPrefix(b"".join(parts), more)


def attach_body(view: RequestView, prefix: BodyPrefix, limit: int, declared: int) -> None:
    """Give the view the inspected part: at most `limit` bytes, truncated when the body was longer."""
    view.body = prefix.data[:limit]
    view.body_truncated = len(prefix.data) > limit
    view.body_size = max(declared, len(prefix.data))
