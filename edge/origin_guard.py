"""Run on an origin: refuse every request that did not come through edge (CONTRACT section 6).

With `origin_auth = { secret_env = "EDGE_ORIGIN_SECRET" }` in a `[[site]]`, edge adds to each request it
forwards

    Edge-Origin-Auth: t=UNIX_SECONDS,sig=HEX

where HEX is HMAC-SHA256, keyed with the shared secret, over "{t}\\n{METHOD}\\n{host}\\n{target}": `host` as
forwarded, lower case and without port; `target` the path and query exactly as forwarded. Someone who
reaches the origin's address directly (a leaked IP, a scan) cannot forge it, and a captured header is
good for at most `max_age` seconds and for that one method, host and target only.

This file imports nothing but the standard library, so an origin can copy it alone (no `edge` install).

Starlette (1.x)::

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from origin_guard import OriginGuard

    app = Starlette(routes=[...], middleware=[Middleware(OriginGuard, secret=os.environ["EDGE_ORIGIN_SECRET"])])

FastAPI::

    app = FastAPI()
    app.add_middleware(OriginGuard, secret=os.environ["EDGE_ORIGIN_SECRET"], max_age=30)

Any ASGI app: `app = OriginGuard(app, secret=...)`. Other frameworks call `verify(...)` per request with
the raw request target (`request_uri` in nginx, `RAW_URI` in gunicorn, `REQUEST_URI` in PHP). With nginx
in front of a non-Python origin, `auth_request` sends a subrequest to a tiny app that runs `verify`:

    location / {
        auth_request /_edge_auth;
        proxy_pass http://app;
    }
    location = /_edge_auth {
        internal;
        proxy_pass http://127.0.0.1:9100;          # the tiny verifier (ORIGINS_NOTES.md has one)
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-Method $request_method;
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header X-Original-Host $host;
        proxy_set_header Edge-Origin-Auth $http_edge_origin_auth;
    }

During a secret rotation, give the guard both secrets, "new,old" (a str, bytes, or a list of them); edge
signs with the first of its own list, so: add the new secret to the guards, then put it first at edge,
then remove the old one from both.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

HEADER = b"edge-origin-auth"
FUTURE_SKEW = 5  # seconds a signature may be ahead of this host's clock: edge's and the origin's clocks differ a little
_FORBIDDEN = b"403 Forbidden: this origin answers only requests forwarded by its edge gateway.\n"

Secret = str | bytes | Sequence[str | bytes]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def bare_host(host: bytes) -> bytes:
    """The host of a Host header, lower case, without port or IPv6 brackets.

    b"Example.COM:8443" -> b"example.com", b"[::1]:8443" -> b"::1"; a bare IPv6 address stays as it is.
    """
    host = host.strip().lower()
    if host.startswith(b"["):
        end = host.find(b"]")
        return host[1:end] if end > 0 else host
    name, colon, port = host.rpartition(b":")
    return name if colon and port.isdigit() and b":" not in name else host


def signed_text(t: int, method: bytes, host: bytes, target: bytes) -> bytes:
    """What the HMAC covers; `host` and `target` as forwarded (the host's port and case are dropped here).

    A target whose query is empty ("/a?") is signed as "/a": an ASGI server hands the origin the path and
    an empty query string, and "/a?" cannot be told apart from "/a" after that.
    """
    if target.endswith(b"?") and target.count(b"?") == 1:
        target = target[:-1]
    return b"%d\n%s\n%s\n%s" % (t, method, bare_host(host), target)


def secret_keys(secret: Secret) -> tuple[bytes, ...]:
    """The keys to accept: "new,old" (str or bytes) or a sequence of secrets; empty parts are dropped."""
    parts: list[str | bytes]
    if isinstance(secret, str):
        parts = list(secret.split(","))
    elif isinstance(secret, bytes | bytearray):
        parts = list(bytes(secret).split(b","))
    else:
        parts = list(secret)
    keys = tuple(p.strip().encode() if isinstance(p, str) else bytes(p).strip() for p in parts)
    return tuple(key for key in keys if key)


def _fields(header: str | bytes | None) -> tuple[int, bytes] | None:
    """(t, sig) from "t=1700000000,sig=9f86..."; None for anything malformed."""
    if header is None:
        return None
    raw = header.encode("latin-1") if isinstance(header, str) else bytes(header)
    t: int | None = None
    sig: bytes | None = None
    for part in raw.split(b","):
        name, eq, value = part.strip().partition(b"=")
        if not eq:
            return None
        if name == b"t" and t is None and value.isdigit() and len(value) <= 12:
            t = int(value)
        elif name == b"sig" and sig is None and len(value) == 64:
            sig = value.lower()
        elif name in (b"t", b"sig"):
            return None
    return (t, sig) if t is not None and sig is not None else None


def _bytes(value: str | bytes) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else value


def verify(
    header: str | bytes | None,
    method: str | bytes,
    host: str | bytes,
    target: str | bytes,
    secret: Secret,
    max_age: int = 30,
    now: float | None = None,
) -> bool:
    """Whether `header` is a valid Edge-Origin-Auth for this request; False for anything malformed.

    `host` may carry a port and upper case (both dropped); `target` is the raw path and query. A signature
    older than `max_age` seconds, or more than FUTURE_SKEW seconds ahead of `now`, is refused; either key
    of a "new,old" secret is accepted. Never raises on bad input.
    """
    try:
        keys = secret_keys(secret)
    except (TypeError, ValueError, UnicodeError):
        return False
    return _verify(header, method, host, target, keys, max_age, now)


def _verify(
    header: str | bytes | None,
    method: str | bytes,
    host: str | bytes,
    target: str | bytes,
    keys: tuple[bytes, ...],
    max_age: int,
    now: float | None,
) -> bool:
    """`verify` with the keys already split; malformed input of any kind is False."""
    try:
        fields = _fields(header)
        if fields is None or not keys:
            return False
        t, sig = fields
        clock = int(time.time() if now is None else now)
        if t > clock + FUTURE_SKEW or clock - t > max_age:
            return False
        text = signed_text(t, _bytes(method), _bytes(host), _bytes(target))
        # Every key is compared (no early exit), each in constant time.
        matches = [hmac.compare_digest(hmac.new(key, text, hashlib.sha256).hexdigest().encode(), sig) for key in keys]
        return any(matches)
    except (TypeError, ValueError, UnicodeError):
        return False


class OriginGuard:
    """ASGI middleware: 403 to an HTTP request or WebSocket handshake without a valid Edge-Origin-Auth.

    Host comes from the Host header and the target from `raw_path` and `query_string`, as the origin
    received them. Other scope types (lifespan) pass straight through, as Starlette's middleware do.
    """

    def __init__(self, app: ASGIApp, *, secret: Secret, max_age: int = 30) -> None:
        self.app = app
        self.keys = secret_keys(secret)
        if not self.keys:
            raise ValueError("OriginGuard needs a non-empty secret (the value of edge's origin_auth.secret_env)")
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allows(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # Closing before accepting makes the server answer the handshake with 403 (ASGI spec).
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(_FORBIDDEN))]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": _FORBIDDEN})

    def allows(self, scope: Scope) -> bool:
        host = auth = None
        for name, value in scope.get("headers", ()):
            name = name.lower()
            if name == b"host":
                host = value
            elif name == HEADER:
                auth = value
        if host is None or auth is None:
            return False
        target = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
        query = scope.get("query_string", b"")
        if query:
            target += b"?" + query
        return _verify(auth, scope.get("method", "GET"), host, target, self.keys, self.max_age, None)
