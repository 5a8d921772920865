"""WafAudit: the audit-log file and the bounded ring of recent matched requests."""

from __future__ import annotations

import json
from pathlib import Path

from edge.config import WafConfig
from edge.exchange import Exchange
from edge.waf import RequestView, WafState, build_ruleset, evaluate
from edge.waf_audit import RING_BODY, RING_SIZE, WafAudit

RULES = """\
[[rule]]
id = "probe"
expr = 'any(http.request.uri.args.names[*] eq "probe")'
action = "score"
score = 2
"""
WAF = WafConfig(rules=Path("rules"))


def exchange(request_id: str, target: str, body: bytes | None = None) -> Exchange:
    ruleset = build_ruleset([("rules/10.toml", RULES)])
    view = RequestView.from_request_line(
        f"POST {target}", headers={"Host": "a.test", "Content-Type": "text/plain"}, body=body
    )
    state = WafState()
    evaluate(ruleset, view, phase="head", state=state)
    ex = Exchange(request_id, 0.0, "POST", target.partition("?")[0], "a.test", "192.0.2.1")
    ex.status, ex.waf_trace = 200, (ruleset, state)
    return ex


def test_matched_requests_are_written_and_remembered(tmp_path: Path) -> None:
    audit = WafAudit(tmp_path / "logs" / "audit.jsonl")
    audit.observe(exchange("r1", "/?probe=1", b"hello"), WAF)
    audit.observe(exchange("r2", "/?q=1"), WAF)  # no rule matched: nothing
    audit.close()
    (line,) = [json.loads(x) for x in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()]
    assert line["request_id"] == "r1" and line["matches"][0]["rule"] == "probe" and "ts" in line
    entry = audit.recent("r1")
    assert (
        entry is not None and entry["request"]["target"] == "/?probe=1" and entry["request"]["body_b64"] == "aGVsbG8="
    )
    assert audit.recent("r2") is None


def test_the_ring_is_bounded_in_entries_and_body_bytes() -> None:
    audit = WafAudit(None)
    for i in range(RING_SIZE + 5):
        audit.observe(exchange(f"r{i}", "/?probe=1", b"x" * (RING_BODY + 10) if i == RING_SIZE + 4 else None), WAF)
    assert len(audit.ring) == RING_SIZE and audit.recent("r0") is None and audit.recent("r5") is not None
    last = audit.recent(f"r{RING_SIZE + 4}")
    assert last is not None and last["request"]["body_truncated"] is True
    assert len(last["request"]["body_b64"]) == 4 * ((RING_BODY + 2) // 3)


def test_an_unwritable_audit_log_is_skipped_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    audit = WafAudit(tmp_path / "file" / "audit.jsonl")  # a file where a folder should be
    audit.observe(exchange("r1", "/?probe=1"), WAF)
    assert audit.stream is None and audit.recent("r1") is not None
