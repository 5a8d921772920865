"""The WAF audit log (`[waf] audit_log`) and the ring of recent matched requests behind `edge rules explain --id`.

`WafAudit.observe(ex)` runs in the log phase of every request a WAF rule matched (blocked, scored under the
threshold, logged or allowed): it appends one JSON line to the audit log (request id, host, method, path,
client, status, action, score, threshold, paranoia, and per rule the field, the element's name and a redacted
snippet: see `edge/waf/audit.py`), and keeps the request itself (method, target, headers, the first RING_BODY
bytes of the body) with that record in a bounded in-memory ring of the last RING_SIZE such requests. The admin
API serves the ring (`GET /waf/recent/<request-id>`, edge/admin.py) so that `edge rules explain --id`, which
runs in another process, can replay a request the gateway saw against the rules on disk. The ring is memory
only, per worker process (the admin listener runs in worker 0), and holds request headers and body prefixes:
it is as sensitive as the traffic, and the admin API guards it like `/status`.

Writing never fails a request: an unwritable audit log is reported once on stderr and skipped.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from collections import OrderedDict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from edge.observe import utc_timestamp
from edge.waf import audit

if TYPE_CHECKING:
    from edge.config import WafConfig
    from edge.exchange import Exchange

RING_SIZE = 256
RING_BODY = 64 * 1024


class WafAudit:
    """The audit log file (None: no file) and the ring of recent matched requests."""

    def __init__(self, path: Path | None = None) -> None:
        self.path: Path | None = None
        self.stream: IO[str] | None = None
        self.ring: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.reopen(path)

    def reopen(self, path: Path | None) -> None:
        """Write to `path` from now on (None: no file); called at start and when a config reload changes it."""
        if path == self.path and (path is None or self.stream is not None):
            return
        self.close()
        self.path = path
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.stream = path.open("a", encoding="utf-8", buffering=1)
            except OSError as exc:
                print(f"edge: waf.audit_log {path}: {exc.strerror or exc}; no audit log is written", file=sys.stderr)
                self.stream = None

    def observe(self, ex: Exchange, waf: WafConfig) -> None:
        """Record the request of `ex` when a WAF rule matched it (`ex.waf_trace` is set by the gateway)."""
        trace = ex.waf_trace
        if trace is None:
            return
        ruleset, state = trace
        if not state.matches or state.ctx is None:
            return
        entry = {"ts": utc_timestamp()}
        entry.update(
            audit.record(
                ruleset,
                state,
                request_id=ex.request_id,
                host=ex.host,
                method=ex.method,
                path=ex.path,
                client=ex.client_ip or ex.peer,
                status=ex.status,
                mode=waf.mode,
                paranoia=waf.paranoia,
                threshold=waf.anomaly_threshold,
            )
        )
        if self.stream is not None:
            try:
                self.stream.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
            except (OSError, ValueError) as exc:
                print(f"edge: waf.audit_log {self.path}: {exc}; audit log disabled", file=sys.stderr)
                self.stream = None
        self.remember(ex.request_id, entry, state.ctx.view)

    def remember(self, request_id: str, entry: dict[str, Any], view: Any) -> None:
        body: bytes = view.body or b""
        self.ring[request_id] = {
            "audit": entry,
            "request": {
                "method": view.method,
                "target": view.raw_target or view.target,
                "version": view.version,
                "headers": [[name, value] for name, value in view.headers],
                "body_b64": base64.b64encode(body[:RING_BODY]).decode("ascii"),
                "body_truncated": len(body) > RING_BODY or view.body_truncated,
            },
        }
        self.ring.move_to_end(request_id)
        while len(self.ring) > RING_SIZE:
            self.ring.popitem(last=False)

    def recent(self, request_id: str) -> dict[str, Any] | None:
        """The ring's entry for `request_id` (audit record and request), or None when it is not (or no longer) there."""
        return self.ring.get(request_id)

    def close(self) -> None:
        if self.stream is not None:
            with contextlib.suppress(OSError):
                self.stream.close()
            self.stream = None
