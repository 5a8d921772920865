"""The plain-HTTP listener: every request to a served host gets 308 to the same URL on https."""

from __future__ import annotations

import time
from typing import Any

from edge.clients import new_request_id
from edge.exchange import Exchange
from edge.framing import scan_head
from edge.pages import error_page
from edge.runtime import Runtime


class HttpsRedirect:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        state = self.runtime.state
        head = scan_head(scope["headers"], scope["http_version"], scope.get("edge.authority"))
        name = head.name
        peer = scope["client"][0] if scope.get("client") else "-"
        request_id = scope.get("edge.request_id") or new_request_id()
        ex = Exchange(request_id, time.perf_counter(), scope["method"], scope["path"], name, peer)
        ex.client_ip = state.clients.client_ip(peer, None)
        ex.scope = scope
        try:
            if head.status or state.sites.match(name) is None:
                # an invalid or doubled Host would end up in Location: an open redirect to another host
                status = head.status or 421
                ex.error = head.error
                headers, body = error_page(status, ex.request_id)
                ex.status, ex.bytes_sent = status, len(body)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            authority = f"[{name}]" if ":" in name else name
            if state.https_port != 443:
                authority += f":{state.https_port}"
            target = (scope["raw_path"] or scope["path"].encode()).decode("latin-1")
            if scope["query_string"]:
                target += "?" + scope["query_string"].decode("latin-1")
            location = f"https://{authority}{target}".encode("latin-1")
            ex.status = 308
            headers = [(b"location", location), (b"content-length", b"0"), (b"edge-request-id", ex.request_id.encode())]
            await send({"type": "http.response.start", "status": 308, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
        finally:
            self.runtime.record(ex)
