"""The admin listener: health, what is loaded, certificates and metrics, for operators and monitoring.

Off the hot path, so it is an ordinary Starlette app. When `server.admin_token_env` names a variable,
every endpoint but /healthz requires `Authorization: Bearer <token>` (compared in constant time).

Only requests whose Host is the listener's own address, `localhost` or a loopback address are answered
(421 otherwise): a web page a browser loads from an attacker's site can resolve its own name to 127.0.0.1
(DNS rebinding) and read `/status` or `/metrics` from the operator's machine, but it cannot send a Host
that names the loopback address. A POST that a browser sent from another site's page (its `Origin` or
`Sec-Fetch-Site` says so) is refused with 403: without a token, a page could otherwise make the operator's
browser post forms to `/reload`.

The admin API runs in worker 0; what must reach every worker before the answer (`POST /reload`) goes
through the control channel (`control.broadcast`).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from edge import __version__, control, metrics
from edge.cache.cache import key_for_url
from edge.framing import scan_head
from edge.reload import cert_not_after
from edge.runtime import Runtime

RELOAD_TIMEOUT = 60.0
PURGE_TIMEOUT = 10.0


def build_admin(runtime: Runtime) -> AdminHostGuard:
    config = runtime.state.config
    token_env = config.server.admin_token_env
    token = os.environ.get(token_env, "") if token_env else ""

    def authorized(request: Request) -> bool:
        if not token_env:
            return True
        given = request.headers.get("authorization", "")
        return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if not authorized(request):
                return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
            return await handler(request)  # type: ignore[no-any-return]

        return endpoint

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def status(request: Request) -> Response:
        state = runtime.state
        workers = await _workers()
        return JSONResponse(
            {
                "version": __version__,
                "pid": os.getppid() if workers else os.getpid(),  # the master's: the one to signal
                "workers": workers,
                "uptime_seconds": round(time.time() - runtime.started, 3),
                "config": {
                    "path": str(state.config.path),
                    "sites": [
                        {
                            "hosts": list(site.config.hosts),
                            "origins": [
                                {
                                    "origin": pool.origin.url,
                                    "state": pool.health.state,
                                    "reason": pool.health.reason,
                                    "active": pool.active,
                                    "idle": len(pool.idle),
                                }
                                for pool in site.pools
                            ],
                        }
                        for site in state.sites.sites
                    ],
                },
                "reloads": {kind: status.as_dict() for kind, status in runtime.reloads.items()},
            }
        )

    async def certs(request: Request) -> Response:
        store = runtime.certs.state.store if runtime.certs is not None and runtime.certs.state else None
        rows = [row.as_dict() for row in store.rows] if store is not None else []
        return JSONResponse({"folder": str(config.tls.certs), "certificates": rows})

    async def rules(request: Request) -> Response:
        ruleset = runtime.rules.ruleset
        await _flush_workers()
        counts = metrics.totals("edge_waf_matches_total", "rule")  # summed over every worker
        return JSONResponse(
            {
                "fingerprint": ruleset.fingerprint,
                "files": list(ruleset.files),
                "rules": [
                    {
                        "id": rule.id,
                        "action": rule.action,
                        "score": rule.score,
                        "paranoia": rule.paranoia,
                        "tags": list(rule.tags),
                        "file": rule.file,
                        "line": rule.line,
                        "description": rule.description,
                        "matches": int(counts.get(rule.id, 0)),
                    }
                    for rule in ruleset.rules
                ],
                "ratelimits": [
                    {
                        "id": limit.id,
                        "limit": limit.limit,
                        "key": limit.key_expr,
                        "file": limit.file,
                        "line": limit.line,
                    }
                    for limit in ruleset.ratelimits
                ],
            }
        )

    cert_gauge = metrics.StateGauge(
        "edge_cert_not_after_seconds",
        "Expiry (Unix seconds) of the certificate a handshake for the name gets; the earliest when several "
        "key types serve it.",
        "name",
        lambda: cert_not_after(runtime),
    )

    async def prometheus(request: Request) -> Response:
        await _flush_workers()
        body = metrics.render(extra=[cert_gauge])
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def reload(request: Request) -> Response:
        """Every worker reloads edge.toml, certificates and rules, as on SIGHUP; 200 when all took them,
        422 when a file was refused (the last good state keeps serving) or a worker did not answer."""
        replies = await control.broadcast({"cmd": "reload"}, timeout=RELOAD_TIMEOUT)
        ok = all(reply.get("ok") for reply in replies)
        return JSONResponse({"ok": ok, "workers": replies}, status_code=200 if ok else 422)

    async def cache_purge(request: Request) -> Response:
        """Purge in every worker's cache (each worker has its own) before answering; the sum purged."""
        try:
            body = await request.json()
            purge_check(body)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            replies = await control.broadcast({"cmd": "purge", "body": body}, timeout=PURGE_TIMEOUT)
        except RuntimeError:  # outside `edge run`: this process's cache is the only one
            return JSONResponse({"purged": purge(runtime, body)})
        failed = [reply for reply in replies if not reply.get("ok")]
        if failed:
            return JSONResponse({"error": "purge failed in some workers", "workers": failed}, status_code=503)
        return JSONResponse({"purged": sum(int(reply.get("purged", 0)) for reply in replies)})

    async def waf_recent(request: Request) -> Response:
        """A request a WAF rule matched, from this worker's ring of recent ones (edge/waf_audit.py): its audit
        record and the request itself, for `edge rules explain --id`; 404 when it is not (or no longer) there."""
        request_id = request.path_params["request_id"]
        entry = runtime.audit.recent(request_id)
        if entry is None:  # another worker may have served it: each keeps its own ring
            try:
                replies = await control.broadcast({"cmd": "waf-recent", "request_id": request_id}, timeout=5)
            except RuntimeError:  # outside `edge run`: this process is the only one
                replies = []
            entry = next((reply["entry"] for reply in replies if reply.get("entry")), None)
        if entry is None:
            return JSONResponse(
                {
                    "error": f"request {request_id} is not among the last {len(runtime.audit.ring)} requests a WAF "
                    "rule matched in any worker; triage it from its audit-log line"
                },
                status_code=404,
            )
        return JSONResponse(entry)

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/status", guarded(status)),
            Route("/certs", guarded(certs)),
            Route("/rules", guarded(rules)),
            Route("/metrics", guarded(prometheus)),
            Route("/reload", guarded(reload), methods=["POST"]),
            Route("/cache/purge", guarded(cache_purge), methods=["POST"]),
            Route("/waf/recent/{request_id}", guarded(waf_recent)),
        ]
    )
    listen = config.server.admin
    return AdminHostGuard(app, own_host=listen.host.lower() if listen else "localhost")


async def _flush_workers() -> None:
    """Every worker writes its tally of counts (metrics.py) before a scrape reads them; one that does not
    answer within a second is read as it is (its last second of counts comes with the next scrape)."""
    with contextlib.suppress(RuntimeError):  # outside `edge run`: this process's tally is all (render flushes it)
        await control.broadcast({"cmd": "flush-metrics"}, timeout=1.0)


async def _workers() -> list[dict[str, object]]:
    """`[{"worker": 0, "pid": 123, "ok": true}, ...]` from every worker, or [] outside `edge run`."""
    try:
        replies = await control.broadcast({"cmd": "ping"}, timeout=2.0)
    except RuntimeError:
        return []
    return [{key: reply.get(key) for key in ("worker", "pid", "ok", "error") if key in reply} for reply in replies]


def purge_check(body: Any) -> None:
    """ValueError for a purge body `purge` would refuse, checked once before every worker is asked."""
    if not isinstance(body, dict):
        raise ValueError('expected {"url": "https://host/path"} or {"prefix": "/path/", "host": "optional"}')
    if "url" in body:
        if key_for_url(str(body["url"])) is None:
            raise ValueError(f"not an http(s) URL: {body['url']!r}")
        return
    prefix, host = body.get("prefix"), body.get("host")
    if not isinstance(prefix, str) or not prefix.startswith("/") or (host is not None and not isinstance(host, str)):
        raise ValueError('expected {"url": "https://host/path"} or {"prefix": "/path/", "host": "optional"}')


def purge(runtime: Runtime, body: Any) -> int:
    """`{"url": "https://host/path?query"}` (that entry and its variants) or `{"prefix": "/path/", "host": "h"}`
    (every entry whose path starts with the prefix, on one host or all); the number of entries purged in this
    worker's cache (`control` command "purge" in every worker)."""
    if not isinstance(body, dict):
        raise ValueError('expected {"url": "https://host/path"} or {"prefix": "/path/", "host": "optional"}')
    if "url" in body:
        key = key_for_url(str(body["url"]))
        if key is None:
            raise ValueError(f"not an http(s) URL: {body['url']!r}")
        return runtime.cache.purge(url=key)
    prefix = body.get("prefix")
    host = body.get("host")
    if not isinstance(prefix, str) or not prefix.startswith("/") or (host is not None and not isinstance(host, str)):
        raise ValueError('expected {"url": "https://host/path"} or {"prefix": "/path/", "host": "optional"}')
    return runtime.cache.purge(prefix=prefix, host=host)


async def _refuse(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AdminHostGuard:
    """421 for a Host that is not the admin listener's own address, `localhost` or a loopback address."""

    def __init__(self, app: Any, *, own_host: str) -> None:
        self.app = app
        self.own_host = own_host

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            head = scan_head(scope["headers"], scope["http_version"], scope.get("edge.authority"))
            if head.status:
                await _refuse(send, head.status, b"400 Bad Request\nThe request head is not one edge can read.\n")
                return
            if not self.allowed(head.name):
                await _refuse(send, 421, b"421 Misdirected Request\nThe admin API answers only to its own address.\n")
                return
            if scope["method"] not in ("GET", "HEAD") and _cross_site(scope["headers"], self.own_host):
                await _refuse(send, 403, b"403 Forbidden\nThe admin API takes POSTs only from tools, not web pages.\n")
                return
        await self.app(scope, receive, send)

    def allowed(self, host: str) -> bool:
        if host in ("localhost", self.own_host):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def _cross_site(headers: list[tuple[bytes, bytes]], own_host: str) -> bool:
    """True for a request a browser sent from some web page: curl and scripts send neither header."""
    for name, value in headers:
        if name == b"sec-fetch-site" and value not in (b"same-origin", b"none"):
            return True
        if name == b"origin":
            host = value.decode("latin-1").partition("://")[2].rsplit(":", 1)[0].strip("[]").lower()
            if host not in ("localhost", own_host) and not _loopback(host):
                return True
    return False


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
