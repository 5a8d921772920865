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
    assert "verdict: block 403\n" in report


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
    assert "verdict: pass (detect mode: block mode would block)\n" in report


def test_explain_benign() -> None:
    report = explain_request(RULESET, "GET /", threshold=10)
    assert "no rule matched" in report and "verdict: pass\n" in report


def test_explain_shows_the_rate_limits_a_request_counts_against_and_the_client_address() -> None:
    from edge.waf import build_ruleset

    text = """
[[rule]]
id = "office"
expr = 'ip.src in {192.0.2.0/24}'
action = "allow"

[[ratelimit]]
id = "login"
expr = 'http.request.uri.path eq "/login"'
limit = "5/minute"
key = 'ip.src'

[[ratelimit]]
id = "api"
expr = 'starts_with(http.request.uri.path, "/api/")'
limit = "100/minute"
"""
    ruleset = build_ruleset([("t.toml", text)])
    report = explain_request(ruleset, "POST /login", client_ip="192.0.2.7")
    assert "(host localhost, client 192.0.2.7)" in report
    assert "matched office: allow" in report
    assert report.endswith(
        "rate limits: counted by 1 of 2\n  login: 5/minute per key '192.0.2.7' (key = ip.src)  (t.toml:7)\n"
    )
    assert explain_request(ruleset, "GET /").endswith("rate limits: none of 2 counts this request\n")
