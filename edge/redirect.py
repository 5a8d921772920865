"""The plain-HTTP listener: every request to a served host gets 308 to the same URL on https."""

from __future__ import annotations

from typing import Any

from edge.clients import new_request_id
from edge.pages import error_page
from edge.runtime import Runtime
from edge.sites import host_from_header


class HttpsRedirect:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        state = self.runtime.state
        request_id = new_request_id()
        host = next((v for n, v in scope["headers"] if n == b"host"), b"")
        name = host_from_header(host) if host else ""
        if not name or state.sites.match(name) is None:
            headers, body = error_page(421, request_id)
            await send({"type": "http.response.start", "status": 421, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        authority = f"[{name}]" if ":" in name else name
        if state.https_port != 443:
            authority += f":{state.https_port}"
        target = (scope["raw_path"] or scope["path"].encode()).decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        location = f"https://{authority}{target}".encode("latin-1")
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [
                    (b"location", location),
                    (b"content-length", b"0"),
                    (b"edge-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})
