"""The access log (one JSON object per request on stdout) and the Prometheus metrics.

Both sit on the hot path, so they are plain dict increments and one `write` per request into a buffered
stream that is flushed a few times a second, not once per line. Metrics are rendered in the Prometheus text
format by hand: a dozen metric families do not justify a client library's locking on every increment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections import defaultdict
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from edge.exchange import Exchange

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class AccessLog:
    """Collects log lines in memory and writes them in one call a few times a second (`start_flusher`).

    A `write` to a text stream per request costs more than formatting the line; one joined write per
    flush is cheap. `stop` (and a full buffer) flushes at once, so a clean stop loses nothing.
    """

    MAX_PENDING = 4096  # lines held before a write is forced

    def __init__(self, stream: IO[str] | None = None, flush_interval: float = 0.25) -> None:
        self.stream = stream or sys.stdout
        self.flush_interval = flush_interval
        self.pending: list[str] = []
        self._task: asyncio.Task[None] | None = None

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
        with contextlib.suppress(OSError, ValueError):
            if pending:
                self.stream.write("".join(pending))
            self.stream.flush()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self.flush()


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_quote = json.encoder.encode_basestring  # the C string escaper


def access_line(ex: Exchange, duration: float) -> str:
    """The access-log JSON line of CONTRACT section 8, formatted directly: a third of json.dumps' cost."""
    tail = f',"error":{_quote(ex.error)}' if ex.error else ""
    if ex.bytes_in is not None:  # a tunnel (WebSocket): bytes from the client; `bytes` went to it
        tail = f',"bytes_in":{ex.bytes_in}{tail}'
    origin, cache, waf, ratelimit = ex.origin, ex.cache, ex.waf, ex.ratelimit
    return (
        f'{{"ts":"{utc_timestamp()}","request_id":"{ex.request_id}","client":{_quote(ex.client_ip or ex.peer)},'
        f'"host":{_quote(ex.host)},"method":{_quote(ex.method)},"path":{_quote(ex.path)},"status":{ex.status},'
        f'"bytes":{ex.bytes_sent},"duration_ms":{round(duration * 1000, 3)},'
        f'"origin":{_quote(origin) if origin else "null"},"cache":{_quote(cache) if cache else "null"},'
        f'"waf":{_dumps(waf) if waf else "null"},"ratelimit":{_dumps(ratelimit) if ratelimit else "null"}{tail}}}\n'
    )


class Metrics:
    """Counters, gauges and one latency histogram, keyed by (metric, sorted label pairs)."""

    def __init__(self) -> None:
        self.counters: defaultdict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self.help: dict[str, tuple[str, str]] = {}
        self.duration_counts = [0] * (len(_BUCKETS) + 1)
        self.duration_sum = 0.0
        self.describe("edge_requests_total", "counter", "Requests answered, by site and status class.")
        self.describe("edge_request_duration_seconds", "histogram", "Time from request head to last byte sent.")
        self.describe("edge_reload_errors_total", "counter", "Reloads of config, certificates or rules that failed.")
        self.describe("edge_origin_up", "gauge", "1 when the origin takes requests, 0 while it is held out.")
        self.describe("edge_cache_requests_total", "counter", "Requests to cached sites, by cache result.")
        self.describe("edge_cache_bytes", "gauge", "Bytes held by this worker's cache (bodies, headers, overhead).")
        self.describe("edge_cache_entries", "gauge", "Responses (variants) held by this worker's cache.")

    def describe(self, name: str, kind: str, text: str) -> None:
        self.help[name] = (kind, text)

    def inc(self, name: str, labels: tuple[tuple[str, str], ...] = (), value: float = 1.0) -> None:
        self.counters[(name, labels)] += value

    def set(self, name: str, labels: tuple[tuple[str, str], ...], value: float) -> None:
        self.gauges[(name, labels)] = value

    def clear(self, name: str) -> None:
        """Drop every labelled value of a gauge, before setting the ones that still exist."""
        for key in [key for key in self.gauges if key[0] == name]:
            del self.gauges[key]

    def observe_duration(self, seconds: float) -> None:
        self.duration_sum += seconds
        for index, bound in enumerate(_BUCKETS):
            if seconds <= bound:
                self.duration_counts[index] += 1
                return
        self.duration_counts[-1] += 1

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        families: defaultdict[str, list[str]] = defaultdict(list)
        for (name, labels), value in sorted(self.counters.items()):
            families[name].append(f"{name}{_labels(labels)} {_number(value)}")
        for (name, labels), value in sorted(self.gauges.items()):
            families[name].append(f"{name}{_labels(labels)} {_number(value)}")
        cumulative = 0
        histogram = families["edge_request_duration_seconds"]
        for bound, count in zip((*_BUCKETS, float("inf")), self.duration_counts, strict=True):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            histogram.append(f'edge_request_duration_seconds_bucket{{le="{le}"}} {cumulative}')
        histogram.append(f"edge_request_duration_seconds_sum {self.duration_sum!r}")
        histogram.append(f"edge_request_duration_seconds_count {cumulative}")
        for name in sorted(set(families) | set(self.help)):
            kind, text = self.help.get(name, ("untyped", ""))
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(families.get(name, []))
        return "\n".join(lines) + "\n"


def _labels(labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


_second_cache: list[object] = [-1, ""]


def utc_timestamp(now: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds, the `ts` field of the access log (the date part formatted once a second)."""
    now = time.time() if now is None else now
    seconds = int(now)
    if _second_cache[0] != seconds:
        _second_cache[0] = seconds
        _second_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{_second_cache[1]}.{int((now - seconds) * 1000):03d}Z"
