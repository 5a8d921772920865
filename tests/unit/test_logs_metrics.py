"""Log lines (JSON and text, redaction, atomic blocks) and the metric families' bounded labels."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from edge import metrics
from edge.config import LogConfig
from edge.exchange import Exchange
from edge.logs import PIPE_BUF, JsonFormatter, Sink, TextFormatter
from edge.observe import AccessLog, access_line, redact_query, text_line, utc_timestamp

REDACT = frozenset({"token", "password", "code"})


def test_query_values_of_named_parameters_are_redacted() -> None:
    assert (
        redact_query(b"q=1&token=abc&Password=x&code=", REDACT) == "q=1&token=REDACTED&Password=REDACTED&code=REDACTED"
    )
    assert redact_query(b"to%6Ben=abc&tokens=1&token", REDACT) == "to%6Ben=REDACTED&tokens=1&token"
    assert redact_query(b"a=1", frozenset()) == "a=1"


def _exchange() -> Exchange:
    ex = Exchange("0123456789abcdef", 0.0, "GET", "/p", "localhost", "127.0.0.1")
    ex.status, ex.bytes_sent, ex.origin = 200, 12, "http://127.0.0.1:9000"
    scope = {
        "query_string": b"token=s3&x=1",
        "headers": [(b"user-agent", b'agent "quoted"'), (b"referer", b"https://r.test/")],
        "extensions": {"tls": {"tls_version": "TLSv1.3", "server_name": "localhost"}},
        "edge.bytes_in": 99,
    }
    ex.scope, ex.upstream = scope, 0.0125
    return ex


def test_access_line_is_json_with_the_new_fields() -> None:
    ex = _exchange()
    line = json.loads(access_line(ex, 0.02, REDACT, pid=42))
    assert line["query"] == "token=REDACTED&x=1"
    assert (line["user_agent"], line["referer"]) == ('agent "quoted"', "https://r.test/")
    assert (line["tls_version"], line["sni"], line["bytes_in"], line["pid"]) == ("TLSv1.3", "localhost", 99, 42)
    assert line["upstream_ms"] == 12.5
    ex.scope = ex.upstream = None
    bare = json.loads(access_line(ex, 0.02, REDACT))  # answers edge gives before the app (400, 408)
    assert bare["query"] is None and bare["upstream_ms"] is None and bare["bytes_in"] == 0


def test_text_line_for_people() -> None:
    ex = _exchange()
    line = text_line(ex, 0.02, REDACT, pid=42)
    assert '127.0.0.1 "GET localhost/p?token=REDACTED&x=1" 200 12B 20.0ms "agent \\"quoted\\""' in line
    assert "id=0123456789abcdef pid=42" in line and line.endswith("upstream_ms=12.5\n")


def test_sink_writes_blocks_that_end_at_line_ends(tmp_path: Path) -> None:
    """Each write(2) is at most PIPE_BUF bytes and ends with a newline, so workers sharing a pipe never
    interleave inside a line."""
    read, write = os.pipe()
    sink = Sink("stdout")
    sink.fd = write
    lines = [json.dumps({"n": n, "pad": "x" * 300}) + "\n" for n in range(40)]
    sink.write_lines("".join(lines))
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    assert data.decode() == "".join(lines)
    assert len(data) > 3 * PIPE_BUF


def test_access_log_to_a_file_reopens_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    log = AccessLog(str(path))
    log.write("one\n")
    log.flush()
    path.rename(tmp_path / "access.log.1")
    assert log.sink is not None
    log.sink.reopen()
    log.write("two\n")
    log.flush()
    assert path.read_text() == "two\n" and (tmp_path / "access.log.1").read_text() == "one\n"
    assert AccessLog("off").sink is None


def test_lifecycle_formats() -> None:
    record = logging.LogRecord("edge", logging.INFO, __file__, 1, "edge %s serving", ("x",), None)
    out = json.loads(JsonFormatter("worker 1").format(record))
    assert (out["level"], out["logger"], out["msg"], out["process"]) == ("info", "edge", "edge x serving", "worker 1")
    assert TextFormatter("master").format(record).endswith(f" INFO edge[{os.getpid()} master]: edge x serving")
    assert LogConfig().format == "json"


def test_label_values_are_bounded() -> None:
    assert [metrics.method_class(m) for m in ("GET", "HEAD", "POST", "DELETE", "PROPFIND", "get")] == [
        "read",
        "read",
        "write",
        "write",
        "other",
        "other",
    ]
    assert [metrics.status_class(s) for s in (200, 404, 503, 0, 999)] == ["2xx", "4xx", "5xx", "none", "none"]
    assert metrics.child(metrics.CACHE_REQUESTS, "hit") is metrics.child(metrics.CACHE_REQUESTS, "hit")


def test_render_is_valid_exposition_with_every_family_documented() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    metrics.child(metrics.CACHE_REQUESTS, "miss").inc()
    metrics.CACHE_BYTES.set(1024)
    gauge = metrics.StateGauge("edge_cert_not_after_seconds", "Expiry.", "name", lambda: {"a.test": 1.5e9})
    families = {f.name: f for f in text_string_to_metric_families(metrics.render(extra=[gauge]).decode())}
    assert families["edge_cache_requests"].type == "counter"
    assert families["edge_cert_not_after_seconds"].samples[0].value == 1.5e9
    assert all(f.documentation and f.type != "unknown" for f in families.values())


def test_timestamps_are_utc_milliseconds_and_the_memo_follows_the_clock() -> None:
    base = 1_790_000_000.0  # 2026-09-21T14:13:20Z
    assert utc_timestamp(base + 0.0004) == "2026-09-21T14:13:20.000Z"
    assert utc_timestamp(base + 0.0009) == "2026-09-21T14:13:20.000Z"  # the same millisecond, remembered
    assert utc_timestamp(base + 0.0012) == "2026-09-21T14:13:20.001Z"
    assert utc_timestamp(base + 0.999) == "2026-09-21T14:13:20.999Z"
    assert utc_timestamp(base + 1.0004) == "2026-09-21T14:13:21.000Z"
    assert utc_timestamp(base - 86_400 + 0.5) == "2026-09-20T14:13:20.500Z"  # back in time: no stale date
    assert utc_timestamp().endswith("Z") and len(utc_timestamp()) == 24
