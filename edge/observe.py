"""The access log: one line per request (JSON by default, `[log] format = "text"` for people), on stdout or a file.

It sits on the hot path, so a line is formatted directly (a third of `json.dumps`' cost) and lines are
written in one `write(2)` a few times a second (every 0.25 s), not once per line: a SIGKILL loses at most
the lines of the last quarter second. A clean stop and a full buffer flush at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from edge.config import DEFAULT_REDACT
from edge.logs import Sink, open_sink

if TYPE_CHECKING:
    from edge.exchange import Exchange

FLUSH_INTERVAL = 0.25


class AccessLog:
    """Collects log lines in memory and writes them in one call a few times a second (`start_flusher`).

    `target` is "stdout", "off" or a file path (appended to, reopened by `logs.reopen_all` on SIGUSR1).
    """

    MAX_PENDING = 4096  # lines held before a write is forced

    def __init__(
        self,
        target: str = "stdout",
        *,
        text: bool = False,
        redact: Collection[str] = DEFAULT_REDACT,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.sink: Sink | None = open_sink(target) if target != "off" else None
        self.format = text_line if text else access_line
        self.redact = frozenset(name.lower() for name in redact)
        self.pid = os.getpid()  # the worker that served: lines of all workers share one stream
        self.flush_interval = flush_interval
        self.pending: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def record(self, ex: Exchange, duration: float) -> None:
        """Queue the line of one finished request."""
        if self.sink is not None:
            self.write(self.format(ex, duration, self.redact, self.pid))

    def write(self, line: str) -> None:
        """Queue one line (ending in a newline)."""
        self.pending.append(line)
        if len(self.pending) >= self.MAX_PENDING:
            self.flush()

    def start_flusher(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending and self.sink is not None:
            self.sink.write_lines("".join(pending))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.flush()


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_quote = json.encoder.encode_basestring  # the C string escaper


def redact_query(query: bytes, names: frozenset[str]) -> str:
    """The query string as received, with the values of parameters named in `names` replaced by REDACTED."""
    text = query.decode("latin-1")
    if not names or not text:
        return text
    parts = text.split("&")
    for index, part in enumerate(parts):
        name, sep, _ = part.partition("=")
        if sep and unquote_plus(name).lower() in names:
            parts[index] = f"{name}=REDACTED"
    return "&".join(parts)


def request_details(scope: dict[str, Any], redact: frozenset[str]) -> tuple[str | None, ...]:
    """(query, user_agent, referer, tls_version, sni): the fields of a line that come from the scope."""
    user_agent = referer = None
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            user_agent = value.decode("latin-1")
        elif name == b"referer":
            referer = value.decode("latin-1")
    tls = scope.get("extensions", {}).get("tls") or _NO_TLS
    query = scope.get("query_string", b"")
    return (
        redact_query(query, redact) if query else None,
        user_agent,
        referer,
        tls.get("tls_version"),
        tls.get("server_name"),
    )


_NO_TLS: dict[str, Any] = {}
_NONE = (None, None, None, None, None)


def _opt(value: str | None) -> str:
    return _quote(value) if value is not None else "null"


def access_line(ex: Exchange, duration: float, redact: frozenset[str], pid: int = 0) -> str:
    """The JSON access-log line: the fields of the README's "Operating it" section, formatted directly."""
    scope, upstream = ex.scope, ex.upstream
    query, agent, referer, version, sni = request_details(scope, redact) if scope is not None else _NONE
    bytes_in = scope.get("edge.bytes_in", 0) if scope is not None else 0
    if ex.bytes_in is not None:  # a tunnel (WebSocket): its bytes from the client too; `bytes` went to it
        bytes_in += ex.bytes_in
    tail = f',"error":{_quote(ex.error)}' if ex.error else ""
    origin, cache, waf, ratelimit = ex.origin, ex.cache, ex.waf, ex.ratelimit
    return (
        f'{{"ts":"{utc_timestamp()}","request_id":"{ex.request_id}","client":{_quote(ex.client_ip or ex.peer)},'
        f'"host":{_quote(ex.host)},"method":{_quote(ex.method)},"path":{_quote(ex.path)},'
        f'"query":{_opt(query)},"status":{ex.status},'
        f'"bytes":{ex.bytes_sent},"bytes_in":{bytes_in},"duration_ms":{duration * 1000:.3f},'
        f'"upstream_ms":{"null" if upstream is None else f"{upstream * 1000:.3f}"},'
        f'"origin":{_opt(origin)},"cache":{_opt(cache)},'
        f'"waf":{_dumps(waf) if waf else "null"},"ratelimit":{_dumps(ratelimit) if ratelimit else "null"},'
        f'"user_agent":{_opt(agent)},"referer":{_opt(referer)},'
        f'"tls_version":{_opt(version)},"sni":{_opt(sni)},"pid":{pid}{tail}}}\n'
    )


def text_line(ex: Exchange, duration: float, redact: frozenset[str], pid: int = 0) -> str:
    """The same facts for a person: `ts client "METHOD host/path?query" status bytes duration key=value...`."""
    upstream = ex.upstream
    query, agent, _, _, _ = request_details(ex.scope, redact) if ex.scope is not None else _NONE
    target = ex.path + (f"?{query}" if query else "")
    extra = [f"id={ex.request_id}", f"pid={pid}"]
    for key in ("origin", "cache", "error"):
        value = getattr(ex, key)
        if value:
            extra.append(f"{key}={json.dumps(value)}")
    if ex.waf:
        extra.append(f"waf={ex.waf.get('action')}:{','.join(ex.waf.get('rules', []))}:{ex.waf.get('score')}")
    if ex.ratelimit:
        extra.append(f"ratelimit={ex.ratelimit.get('rule')}")
    if upstream is not None:
        extra.append(f"upstream_ms={upstream * 1000:.1f}")
    return (
        f'{utc_timestamp()} {ex.client_ip or ex.peer} "{ex.method} {ex.host}{target}" {ex.status} '
        f"{ex.bytes_sent}B {duration * 1000:.1f}ms {json.dumps(agent or '-')} {' '.join(extra)}\n"
    )


_stamps: list[Any] = [-1, "", -1, ""]  # a second and its date part, a millisecond and its whole stamp


def utc_timestamp(now: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds, the `ts` field of the access log: the date part formatted once a
    second, the whole stamp once a millisecond (a busy worker logs several requests in each)."""
    millis = int((time.time() if now is None else now) * 1000)
    stamps = _stamps
    if stamps[2] == millis:
        return stamps[3]  # type: ignore[no-any-return]
    seconds = millis // 1000
    if stamps[0] != seconds:
        stamps[0], stamps[1] = seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    stamps[2], stamps[3] = millis, f"{stamps[1]}.{millis % 1000:03d}Z"
    return stamps[3]  # type: ignore[no-any-return]
