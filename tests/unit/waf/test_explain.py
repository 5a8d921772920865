"""The explain report."""

from __future__ import annotations

from pathlib import Path

from edge.waf import explain_request, load_ruleset

RULESET = load_ruleset(Path(__file__).parent / "data")


def test_explain_lists_matches_values_score_and_verdict() -> None:
    report = explain_request(RULESET, "GET /items?id=1%20OR%201=1", ["Host: shop.test"])
    assert "request: GET /items?id=1%20OR%201=1 (host shop.test, client 127.0.0.1)" in report
    assert "matched sqli-tautology: score +5 [sqli, attack]" in report
    assert "    lower(url_decode(http.request.uri.args.values[*])) = '1 or 1=1'" in report
    assert "score: 5 (threshold 5)" in report
    assert report.endswith("verdict: block 403\n")


def test_explain_runs_the_body_phase_and_detect_mode() -> None:
    report = explain_request(
        RULESET,
        "POST /comment",
        ["Content-Type: application/x-www-form-urlencoded"],
        "text=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        mode="detect",
    )
    assert "matched xss-body: block [xss]" in report
    assert "expr: any(xss(url_decode(http.request.body.form.values[*])))" in report
    assert report.endswith("verdict: pass (detect mode: block mode would block)\n")


def test_explain_benign() -> None:
    report = explain_request(RULESET, "GET /", threshold=10)
    assert "no rule matched" in report and report.endswith("verdict: pass\n")
