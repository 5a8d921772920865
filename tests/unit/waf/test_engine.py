"""The evaluator: actions, skips, paranoia, modes, phases, threshold, rate-limit matching, robustness."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.waf import RequestView, RuleSet, WafState, build_ruleset, evaluate, match_ratelimits
from edge.waf.engine import Verdict


def rules(*tables: str) -> RuleSet:
    return build_ruleset([("t.toml", "\n".join(tables))])


def rule(rule_id: str, expr: str, action: str = "block", **extra: Any) -> str:
    lines = [f"[[rule]]\nid = \"{rule_id}\"\nexpr = '''{expr}'''\naction = \"{action}\""]
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def head(ruleset: RuleSet, request: str = "GET /x?q=1", state: WafState | None = None, **kw: Any) -> Verdict:
    view = RequestView.from_request_line(request, headers=kw.pop("headers", ()), body=kw.pop("body", None))
    return evaluate(ruleset, view, phase="head", state=state or WafState(), **kw)


def ids(verdict: Verdict) -> list[str]:
    return [m.rule_id for m in verdict.matches]


ALWAYS = 'http.request.method eq "GET"'


def test_nothing_matches_passes() -> None:
    verdict = head(rules(rule("a", 'http.host eq "nope"')))
    assert (verdict.action, verdict.status, verdict.score, verdict.matches) == ("pass", 0, 0, ())


def test_block_ends_evaluation_with_its_status() -> None:
    verdict = head(rules(rule("a", ALWAYS, status=451), rule("b", ALWAYS)))
    assert (verdict.action, verdict.status, ids(verdict)) == ("block", 451, ["a"])


def test_allow_ends_evaluation_and_passes() -> None:
    verdict = head(rules(rule("ok", ALWAYS, "allow"), rule("b", ALWAYS)))
    assert (verdict.action, ids(verdict)) == ("allow", ["ok"])


def test_log_records_only() -> None:
    verdict = head(rules(rule("l", ALWAYS, "log"), rule("s", ALWAYS, "score", score=2)))
    assert (verdict.action, verdict.score, ids(verdict)) == ("pass", 2, ["l", "s"])


def test_scores_add_up_to_the_threshold() -> None:
    ruleset = rules(rule("s1", ALWAYS, "score", score=3), rule("s2", ALWAYS, "score", score=2))
    assert head(ruleset, threshold=6).action == "pass"
    verdict = head(ruleset, threshold=5)
    assert (verdict.action, verdict.status, verdict.score) == ("block", 403, 5)


def test_skip_by_id_and_by_tag() -> None:
    ruleset = rules(
        rule("skipper", 'http.request.uri.path eq "/upload"', "skip", skip=["b", "sqli"]),
        rule("a", ALWAYS, "log", tags=["sqli"]),
        rule("b", ALWAYS, "log"),
        rule("c", ALWAYS, "log", tags=["xss"]),
    )
    assert ids(head(ruleset, "GET /upload")) == ["skipper", "c"]
    assert ids(head(ruleset, "GET /other")) == ["a", "b", "c"]


def test_skip_only_affects_later_rules() -> None:
    ruleset = rules(rule("a", ALWAYS, "log"), rule("skipper", ALWAYS, "skip", skip=["a"]))
    assert ids(head(ruleset)) == ["a", "skipper"]


def test_paranoia_turns_higher_rules_off() -> None:
    ruleset = rules(
        rule("p1", ALWAYS, "log"), rule("p2", ALWAYS, "log", paranoia=2), rule("p4", ALWAYS, "log", paranoia=4)
    )
    assert ids(head(ruleset, paranoia=1)) == ["p1"]
    assert ids(head(ruleset, paranoia=2)) == ["p1", "p2"]
    assert ids(head(ruleset, paranoia=4)) == ["p1", "p2", "p4"]


def test_detect_mode_blocks_nothing_and_records_everything() -> None:
    ruleset = rules(rule("a", ALWAYS), rule("s", ALWAYS, "score", score=9))
    verdict = head(ruleset, mode="detect")
    assert (verdict.action, verdict.status, ids(verdict), verdict.would_block) == ("pass", 0, ["a", "s"], True)
    assert not head(rules(rule("l", ALWAYS, "log")), mode="detect").would_block


def test_body_rules_wait_for_the_body() -> None:
    ruleset = rules(
        rule("h", ALWAYS.replace("GET", "POST"), "score", score=3),
        rule("b", 'http.request.body.raw contains "evil"', "score", score=3),
    )
    state = WafState()
    view = RequestView.from_request_line("POST /", body="evil")
    body = view.body
    view.body = None
    first = evaluate(ruleset, view, phase="head", state=state)
    assert (first.action, first.needs_body, first.score) == ("pass", True, 3)
    view.body = body
    second = evaluate(ruleset, view, phase="body", state=state)
    assert (second.action, second.score, ids(second)) == ("block", 6, ["h", "b"])


def test_without_a_body_the_head_phase_is_final() -> None:
    ruleset = rules(
        rule("h", ALWAYS, "score", score=3),
        rule("b", "http.request.body.size eq 0", "score", score=3),
    )
    verdict = head(ruleset)
    assert (verdict.action, verdict.needs_body, verdict.score) == ("block", False, 6)


def test_no_body_rules_means_no_body_phase() -> None:
    verdict = head(rules(rule("h", ALWAYS, "log")), "POST /", body="x")
    assert not verdict.needs_body


def test_a_blocked_or_allowed_head_needs_no_body() -> None:
    body_rule = rule("b", 'http.request.body.raw contains "x"', "log")
    assert not head(
        rules(rule("a", 'http.request.method eq "POST"', "allow"), body_rule), "POST /", body="x"
    ).needs_body
    assert not head(rules(rule("a", 'http.request.method eq "POST"'), body_rule), "POST /", body="x").needs_body


def test_trace_records_field_and_transformed_value() -> None:
    ruleset = rules(rule("t", 'any(lower(url_decode(http.request.uri.args.values[*])) contains "<script")'))
    verdict = head(ruleset, "GET /?a=1&b=%253CSCRIPT%253E", trace=True)
    (match,) = verdict.matches
    assert match.field == "lower(url_decode(http.request.uri.args.values[*]))"
    assert match.value == "<script>"
    assert head(ruleset, "GET /?b=%3Cscript").matches[0].field == ""


def test_ratelimits_match_with_their_keys() -> None:
    ruleset = rules(
        '[[ratelimit]]\nid = "login"\nexpr = \'http.request.uri.path eq "/login"\'\nlimit = "5/minute"\n'
        '[[ratelimit]]\nid = "api"\nexpr = \'starts_with(http.request.uri.path, "/api")\'\nlimit = "10/second;300/hour"\n'
        "key = 'http.request.headers[\"x-key\"][0]'\n"
    )
    view = RequestView.from_request_line("GET /login", client_ip="10.1.2.3")
    found = match_ratelimits(ruleset, view, WafState())
    assert [(limit.id, key) for limit, key in found] == [("login", "10.1.2.3")]
    api = match_ratelimits(ruleset, RequestView.from_request_line("GET /api/x", headers={"X-Key": "k"}), WafState())
    assert [(limit.id, key, len(limit.items)) for limit, key in api] == [("api", "k", 2)]


MANY = rules(
    rule("r1", r'any(lower(url_decode(http.request.uri.args.values[*])) matches r"<script|union\s+select")', "score",
         score=5),
    rule("r2", "any(sqli(http.request.body.form.values[*])) or any(xss(http.request.headers.values[*]))", "log"),
    rule("r3", 'http.request.headers["x"][3] matches "a" or normalize_path(http.request.uri.path) contains "/../"'),
    rule("r4", r'any(base64_decode(http.request.headers.values[*]) contains "\x00")', "log"),
    rule("r5", "ip.src in {10.0.0.0/8} or http.request.body.size gt 10", "log"),
    rule("r6", 'any(html_decode(remove_comments(http.request.body.form.values[*])) wildcard "*<*>*")', "log"),
    rule("r7", 'any(http.request.cookies["a"][*] matches "b") and http.request.body.mime eq "text/xml"', "log"),
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.text(max_size=8),
    target=st.text(max_size=60),
    headers=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=6),
    body=st.one_of(st.none(), st.binary(max_size=200)),
    client=st.text(max_size=20),
    content_type=st.sampled_from(["", "application/json", "multipart/form-data; boundary=b",
                                  "application/x-www-form-urlencoded", "text/xml"]),
)  # fmt: skip
def test_evaluate_never_raises(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes | None, client: str, content_type: str
) -> None:
    pairs = [(k.lower(), v) for k, v in headers] + [("content-type", content_type), ("cookie", "a=b; =;")]
    view = RequestView(method, target, "HTTP/1.1", "h", pairs, client, body=body)
    state = WafState()
    verdict = evaluate(MANY, view, phase="head", state=state, trace=True)
    if verdict.needs_body:
        verdict = evaluate(MANY, view, phase="body", state=state, trace=True)
    assert verdict.action in ("pass", "block", "allow")
