"""The admin listener: health, what is loaded, certificates and metrics, for operators and monitoring.

Off the hot path, so it is an ordinary Starlette app. When `server.admin_token_env` names a variable,
every endpoint but /healthz requires `Authorization: Bearer <token>` (compared in constant time).

Only requests whose Host is the listener's own address, `localhost` or a loopback address are answered
(421 otherwise): a web page a browser loads from an attacker's site can resolve its own name to 127.0.0.1
(DNS rebinding) and read `/status` or `/metrics` from the operator's machine, but it cannot send a Host
that names the loopback address.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from edge import __version__
from edge.runtime import Runtime
from edge.sites import host_from_header


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
        return JSONResponse(
            {
                "version": __version__,
                "pid": os.getpid(),
                "uptime_seconds": round(time.time() - runtime.started, 3),
                "config": {
                    "path": str(state.config.path),
                    "sites": [
                        {"hosts": list(site.config.hosts), "origins": len(site.config.origins)}
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
        counts: dict[str, float] = {}
        for (name, labels), value in runtime.metrics.counters.items():
            if name == "edge_waf_matches_total":
                rule = dict(labels).get("rule", "")
                counts[rule] = counts.get(rule, 0) + value
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

    async def waf_recent(request: Request) -> Response:
        """A request a WAF rule matched, from this worker's ring of recent ones (edge/waf_audit.py): its audit
        record and the request itself, for `edge rules explain --id`; 404 when it is not (or no longer) there."""
        request_id = request.path_params["request_id"]
        entry = runtime.audit.recent(request_id)
        if entry is None:
            return JSONResponse(
                {
                    "error": f"request {request_id} is not among the last {len(runtime.audit.ring)} requests a WAF "
                    "rule matched in this process (worker 0); triage it from its audit-log line"
                },
                status_code=404,
            )
        return JSONResponse(entry)

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/status", guarded(status)),
            Route("/certs", guarded(certs)),
            Route("/rules", guarded(rules)),
            Route("/metrics", guarded(metrics)),
            Route("/waf/recent/{request_id}", guarded(waf_recent)),
        ]
    )
    listen = config.server.admin
    return AdminHostGuard(app, own_host=listen.host.lower() if listen else "localhost")


class AdminHostGuard:
    """421 for a Host that is not the admin listener's own address, `localhost` or a loopback address."""

    def __init__(self, app: Any, *, own_host: str) -> None:
        self.app = app
        self.own_host = own_host

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = next((value for name, value in scope["headers"] if name == b"host"), b"")
            if not self.allowed(host_from_header(host)):
                body = b"421 Misdirected Request\nThe admin API answers only to its own address or localhost.\n"
                headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 421, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def allowed(self, host: str) -> bool:
        if host in ("localhost", self.own_host):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
