"""Asking a running gateway's admin API from the command line (`edge certs`): what it serves now.

A running gateway keeps serving the last good version of a certificate file that turned broken, which a
fresh scan of the folder cannot know; so `edge certs` shows the gateway's own table when the gateway of
this very config answers on its admin listener, and scans the folder otherwise. "This very config" is
checked with `/status` (its config path), so a gateway of another config on the same port is never read.
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any

from edge.config import Config


def get_json(config: Config, path: str, timeout: float = 2.0) -> Any:
    """GET `path` from the admin listener of `config`'s running gateway; None when there is none (or another's)."""
    listen = config.server.admin
    if listen is None:
        return None
    headers = {"Host": "localhost"}
    if config.server.admin_token_env:
        headers["Authorization"] = f"Bearer {os.environ.get(config.server.admin_token_env, '')}"
    host = "127.0.0.1" if listen.host in ("0.0.0.0", "") else "::1" if listen.host == "::" else listen.host
    try:
        status = _get(host, listen.port, "/status", headers, timeout)
        if status is None or status.get("config", {}).get("path") != str(config.path):
            return None
        return _get(host, listen.port, path, headers, timeout)
    except (OSError, ValueError, http.client.HTTPException):
        return None


def _get(host: str, port: int, path: str, headers: dict[str, str], timeout: float) -> Any:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        return json.loads(body) if response.status == 200 else None
    finally:
        conn.close()
