"""What the access log needs of a request beyond the `Exchange`: its scope and the origin's timing.

The gateway's phases fill the `Exchange`; a few facts sit elsewhere (the query, user agent and referer in the
ASGI scope, the moment the origin answered inside the upstream client). Rather than thread them through
every phase, `CollectFacts` wraps the app and puts one `RequestFacts` per request in a context variable:
uvicorn runs each request in its own task, so the variable is that request's alone, and the upstream client
and `Runtime.record` read it without a reference being passed. Imports nothing from edge (any layer may use it).
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any


class RequestFacts:
    """The scope of the current request and when its last upstream attempt sent the head and got the answer."""

    __slots__ = ("scope", "upstream_head", "upstream_sent")

    def __init__(self, scope: dict[str, Any]) -> None:
        self.scope = scope
        self.upstream_sent = 0.0
        self.upstream_head = 0.0

    def upstream_ms(self) -> float | None:
        """Milliseconds from the request head written to the origin to its response head; None if none came."""
        if self.upstream_head and self.upstream_sent:
            return round((self.upstream_head - self.upstream_sent) * 1000, 3)
        return None


CURRENT: ContextVar[RequestFacts | None] = ContextVar("edge_request_facts", default=None)


def upstream_sent() -> None:
    """The upstream client wrote a request head (a retry overwrites: the log shows the attempt that answered)."""
    facts = CURRENT.get()
    if facts is not None:
        facts.upstream_sent = time.perf_counter()
        facts.upstream_head = 0.0


def upstream_answered() -> None:
    """The upstream client read the origin's response head."""
    facts = CURRENT.get()
    if facts is not None:
        facts.upstream_head = time.perf_counter()


class CollectFacts:
    """ASGI wrapper: a fresh `RequestFacts` for each HTTP request, then the wrapped app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            CURRENT.set(RequestFacts(scope))
        await self.app(scope, receive, send)
