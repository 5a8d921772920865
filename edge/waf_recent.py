"""The client side of `edge rules explain --id`: one request from the running gateway's ring (admin API).

`fetch_recent(config, request_id)` asks the admin listener of `config` (`server.admin`, with the bearer token of
`server.admin_token_env` when one is set) for `GET /waf/recent/<request_id>` and returns the entry (the audit
record and the request, see edge/waf_audit.py). Every failure is a `RecentError` whose message says what to do.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.parse
from typing import Any

from edge.config import Config

TIMEOUT = 5.0


class RecentError(Exception):
    """The entry could not be fetched; the message names the cause and the fix."""


def fetch_recent(config: Config, request_id: str) -> dict[str, Any]:
    admin = config.server.admin
    if admin is None:
        raise RecentError(f'{config.path}: no [server] admin listener; add admin = "127.0.0.1:9901" and restart')
    host = "127.0.0.1" if admin.host in ("0.0.0.0", "") else "::1" if admin.host == "::" else admin.host
    headers = {"Host": "localhost", "Accept": "application/json"}
    if config.server.admin_token_env:
        token = os.environ.get(config.server.admin_token_env, "")
        if not token:
            raise RecentError(f"the admin API needs a token: export {config.server.admin_token_env}=...")
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(host, admin.port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/waf/recent/" + urllib.parse.quote(request_id, safe=""), headers=headers)
        response = connection.getresponse()
        payload = response.read()
    except OSError as exc:
        raise RecentError(f"cannot reach the admin API at {admin}: {exc} (is the gateway running?)") from None
    finally:
        connection.close()
    try:
        data = json.loads(payload or b"{}")
    except ValueError:
        data = {}
    if response.status != 200:
        raise RecentError(str(data.get("error") or f"the admin API answered {response.status}"))
    if not isinstance(data, dict) or "request" not in data or "audit" not in data:
        raise RecentError("the admin API answered something that is not a recorded request")
    return data
