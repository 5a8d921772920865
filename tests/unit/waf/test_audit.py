"""The audit record: which rule matched where (field, element name), on what (redacted snippet)."""

from __future__ import annotations

from edge.waf import RequestView, WafState, build_ruleset, evaluate
from edge.waf.audit import SNIPPET, findings, record

RULES = """\
[[rule]]
id = "script"
expr = 'any(lower(url_decode(concat(http.request.uri.args.values, http.request.body.form.values)[*])) matches "<script")'
action = "score"
score = 5

[[rule]]
id = "agent"
expr = 'lower(http.user_agent) contains "sqlmap"'
action = "score"
score = 5

[[rule]]
id = "secret"
expr = 'any(http.request.body.form.values[*] contains "DROP")'
action = "log"
"""


def run(line: str, headers: dict[str, str] | None = None, body: str | None = None) -> tuple[WafState, object]:
    ruleset = build_ruleset([("rules/10.toml", RULES)])
    view = RequestView.from_request_line(line, headers={"Host": "a.test", **(headers or {})}, body=body)
    state = WafState()
    verdict = evaluate(ruleset, view, phase="head", state=state)
    if verdict.needs_body:
        evaluate(ruleset, view, phase="body", state=state)
    return state, ruleset


def test_a_finding_names_the_field_the_element_and_shows_the_match() -> None:
    state, ruleset = run("GET /?q=shoes&x=%3Cscript%3Ealert(1)%3C/script%3E")
    (found,) = findings(ruleset, state)  # type: ignore[arg-type]
    assert (found.rule_id, found.field, found.name) == ("script", "http.request.uri.args.values", "x")
    assert found.snippet == "<script>alert(1)</script>"


def test_a_snippet_is_a_window_around_the_match_with_long_tokens_cut() -> None:
    text = "a" * 300 + " <script> " + "b" * 300
    state, ruleset = run("POST /c", {"Content-Type": "application/x-www-form-urlencoded"}, f"m={text}")
    (found,) = findings(ruleset, state)  # type: ignore[arg-type]
    assert found.name == "m" and "<script>" in found.snippet
    assert found.snippet.startswith("…") and found.snippet.endswith("…") and len(found.snippet) < SNIPPET


def test_values_of_secret_names_are_hidden() -> None:
    body = "user=anna&password=DROP+TABLE+x"
    state, ruleset = run("POST /login", {"Content-Type": "application/x-www-form-urlencoded"}, body)
    (found,) = findings(ruleset, state)  # type: ignore[arg-type]
    assert found.name == "password" and found.snippet == "[redacted: 12 characters]"


def test_the_record_holds_the_verdict_and_every_match() -> None:
    state, ruleset = run("GET /?x=%3Cscript%3E", {"User-Agent": "sqlmap/1.7"})
    line = record(
        ruleset,  # type: ignore[arg-type]
        state,
        request_id="r1",
        host="a.test",
        method="GET",
        path="/",
        client="192.0.2.1",
        status=403,
        mode="block",
        paranoia=1,
        threshold=5,
    )
    assert line["score"] == 10 and line["status"] == 403 and line["request_id"] == "r1"
    assert [m["rule"] for m in line["matches"]] == ["agent", "script"]  # head rules first, then body rules
    assert line["matches"][0] == {
        "rule": "agent",
        "action": "score",
        "score": 5,
        "field": "http.user_agent",
        "value": "sqlmap/1.7",
    }
