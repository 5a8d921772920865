"""The admin listener: health, what is loaded, certificates and metrics, for operators and monitoring.

Off the hot path, so it is an ordinary Starlette app. When `server.admin_token_env` names a variable,
every endpoint but /healthz requires `Authorization: Bearer <token>` (compared in constant time).
"""

from __future__ import annotations

import hmac
import os
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from edge import __version__
from edge.runtime import Runtime


def build_admin(runtime: Runtime) -> Starlette:
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

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/status", guarded(status)),
            Route("/certs", guarded(certs)),
            Route("/rules", guarded(rules)),
            Route("/metrics", guarded(metrics)),
        ]
    )
