"""The WAF audit log, the admin API's ring of recent matched requests and `edge rules explain --id`.

A real `edge run` with `[waf] audit_log` and its own rule files: a blocked request and a scored one each leave
one JSON line (request id, rules, field, element name, redacted snippet, score), a clean request none; the
admin API returns a recorded request by id (404 for others, bearer token when configured); `edge rules explain
--id` replays it against the rules on disk from another process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from .harness import EDGE_CMD, DemoOrigin, Gateway, GatewayFactory

RULES = {
    "10-test.toml": """\
[[rule]]
id = "ua-sqlmap"
expr = 'lower(http.user_agent) contains "sqlmap"'
action = "block"
tags = ["scanner"]

[[rule]]
id = "comment-script"
expr = 'any(lower(url_decode(http.request.body.form.values[*])) matches "<script")'
action = "score"
score = 5
tags = ["xss"]

[[rule]]
id = "probe"
expr = 'any(http.request.uri.args.names[*] eq "probe")'
action = "score"
score = 2
""",
}


@pytest.fixture(scope="module")
def audited(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return module_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}],
        tables={"waf": {"rules": "rules", "audit_log": "logs/waf-audit.jsonl"}},
        rules=RULES,
    )


def audit_lines(gateway: Gateway, request_id: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    path = gateway.folder / "logs" / "waf-audit.jsonl"
    deadline = time.monotonic() + timeout
    while True:
        lines = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
        found = [x for x in lines if x["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_blocked_request_leaves_one_audit_line(audited: Gateway) -> None:
    r = audited.request("GET", "/search?q=1", headers={"User-Agent": "sqlmap/1.7.2#stable"})
    assert r.status == 403
    (line,) = audit_lines(audited, r.request_id or "")
    assert line["action"] == "block" and line["status"] == 403 and line["method"] == "GET"
    assert line["path"] == "/search" and line["paranoia"] == 1 and line["threshold"] == 5
    (match,) = line["matches"]
    assert match["rule"] == "ua-sqlmap" and match["action"] == "block"
    assert match["field"] == "http.user_agent" and "sqlmap" in match["value"]


def test_the_audit_line_names_the_field_and_the_element_and_redacts(audited: Gateway) -> None:
    body = "title=hello&comment=%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=%3Cscript%3Ehunter2"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    r = audited.request("POST", "/comments?probe=1", headers=headers, body=body.encode())
    assert r.status == 403
    (line,) = audit_lines(audited, r.request_id or "")
    assert line["score"] == 7
    by_rule = {m["rule"]: m for m in line["matches"]}
    assert by_rule["comment-script"]["field"] == "http.request.body.form.values"
    assert by_rule["comment-script"]["name"] == "comment"
    assert "<script>" in by_rule["comment-script"]["value"]
    assert by_rule["probe"]["field"] == "http.request.uri.args.names"
    assert "hunter2" not in json.dumps(line)


def test_a_clean_request_leaves_no_audit_line(audited: Gateway) -> None:
    r = audited.request("GET", "/search?q=shoes")
    assert r.status == 200
    assert audit_lines(audited, r.request_id or "", timeout=0.5) == []


def test_the_admin_api_returns_a_recorded_request_by_id(audited: Gateway) -> None:
    r = audited.request("GET", "/search?probe=1&q=x", headers={"X-Trace": "abc"})
    assert r.status == 200  # scored under the threshold: passes, still recorded
    entry = audited.admin(f"/waf/recent/{r.request_id}").json()
    assert entry["audit"]["request_id"] == r.request_id
    assert entry["audit"]["matches"][0]["rule"] == "probe"
    assert entry["request"]["method"] == "GET" and entry["request"]["target"] == "/search?probe=1&q=x"
    assert ["x-trace", "abc"] in entry["request"]["headers"]
    assert audited.admin("/waf/recent/no-such-request").status == 404


def test_explain_by_id_replays_a_recorded_request(audited: Gateway) -> None:
    import subprocess

    r = audited.request("GET", "/search?q=1", headers={"User-Agent": "sqlmap/1.7.2#stable"})
    assert r.status == 403
    done = subprocess.run(
        [*EDGE_CMD, "rules", "explain", "-c", str(audited.config_path), "--id", r.request_id or ""],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "recorded" in out and "rules: ua-sqlmap" in out
    assert "matched ua-sqlmap: block" in out and "verdict: block 403" in out
    missing = subprocess.run(
        [*EDGE_CMD, "rules", "explain", "-c", str(audited.config_path), "--id", "not-a-request"],
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert missing.returncode == 1 and "audit-log line" in missing.stderr.decode()


def test_the_audit_log_path_is_relative_to_the_config(audited: Gateway) -> None:
    assert (Path(audited.folder) / "logs" / "waf-audit.jsonl").is_file()


def test_recent_requests_are_found_in_every_worker(module_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gateway = module_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}],
        server={"workers": 2},
        tables={"waf": {"rules": "rules", "audit_log": "logs/waf-audit.jsonl"}},
        rules=RULES,
    )
    ids = [gateway.request("GET", f"/search?probe={i}").request_id for i in range(10)]  # new connections: both workers
    pids = {gateway.log_for(request_id)["pid"] for request_id in ids if request_id}
    assert len(pids) == 2, "the requests did not reach both workers"
    for request_id in ids:
        assert gateway.admin(f"/waf/recent/{request_id}").status == 200
