"""The shortcuts of the per-value prefilter never change a verdict.

The prefilter keeps atom results per raw value and per set of raw inputs across requests, derives guards
from every comparison (CNF), and the engine runs the head and body rules in one plan when there is no body.
For arbitrary requests, evaluated cold and again from the caches, the verdict must equal that of the engine
as it was before: head plan, then body plan, every rule evaluated (no prefilter).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.waf import RequestView, RuleSet, RuleSetError, WafState, build_ruleset, closures, evaluate, load_ruleset
from edge.waf import prefilter as prefilter_module
from edge.waf.compiler import Compiler
from edge.waf.engine import Mode, Plan, Verdict, _block, _run, context
from edge.waf.fields import Ctx
from edge.waf.prefilter import Prefilter
from edge.waf.transforms import html_decode

MANAGED = Path(__file__).resolve().parents[3] / "rules"

EXPRESSIONS = [
    'not http.request.method in {"GET" "HEAD" "POST"}',
    'len(http.request.headers["host"]) eq 0 and http.request.version ne "HTTP/1.0"',
    'len(http.request.headers["host"]) gt 1',
    'len(http.request.headers["content-length"]) gt 0 and len(http.request.headers["transfer-encoding"]) gt 0',
    'any(lower(http.request.headers["transfer-encoding"][*]) matches r"^(?:[^c]|c[^h]|chunked.)")'
    ' or len(http.request.headers["transfer-encoding"]) gt 1',
    'any(http.request.headers["content-length"][*] matches r"[^0-9]|^$")',
    'http.request.method in {"GET" "HEAD"} and any(http.request.headers["content-length"][*] matches r"^0*[1-9]")',
    "len(http.request.uri.args.names) gt 3",
    "any(len(http.request.uri.args.names[*]) gt 6) or any(len(http.request.uri.args.values[*]) gt 12)",
    'any(http.request.headers.names[*] in {"x-a" "x-b"})',
    "any(sqli(lower(html_decode(concat(http.request.uri.args.values, http.request.body.form.values)[*]))))"
    ' and any(lower(concat(http.request.uri.args.values, http.request.body.form.values)[*]) matches "[\'=]")',
    'any(xss(lower(html_decode(url_decode(concat(http.request.uri.args.values, http.request.headers["cookie"])[*])))))',
    'not http.request.body.mime in {"application/json"} and lower(http.request.body.raw) contains "<a"',
    'http.request.uri.path wildcard "/A*b" xor http.request.uri.query contains "x"',
    'not http.request.uri.path contains "a" or http.host eq "h"',
    'to_string(len(http.request.uri.args.values)) eq "2"',
    'any(to_string(len(http.request.uri.args.values[*])) eq "1")',
    'ends_with(http.request.uri.path, "b") and http.request.uri.path matches r"\\Aa|/a"',
    'all(http.request.uri.args.values[*] contains "a") and len(http.request.uri.args.values) gt 0',
    'http.request.cookies["s"][0] eq "x" or any(http.request.cookies["t"][*] matches "^$")',
    'lower(http.user_agent) contains "bot" or http.referer eq ""',
    "http.request.body.size gt 10 and not http.request.body.truncated",
    'any(url_decode(http.request.body.form.names[*]) eq "a b")',
    'not (http.request.uri.path eq "/" or http.request.method eq "GET")',
    'ssl and http.host eq "admin.example.com"',
]
COMPILER = Compiler()
RULES = [COMPILER.rule(e) for e in EXPRESSIONS]
PREFILTER = Prefilter([r.guard for r in RULES], {a.id: a for a in COMPILER.atoms.values()})

TOKENS = st.sampled_from(
    [
        *list("abAB/=&;%+'\"<>x1 "),
        "..%2f",
        "%27",
        "%3Cscript%3E",
        "<script>alert(1)</script>",
        "' or 1=1--",
        "1 union select 1",
        "&lt;a",
        "&#x3c;",
        "&amp",
        "chunked",
        "0",
        "12",
        "bot",
        "%0d%0a",
        "${jndi:ldap://x}",
        ";cat /etc/passwd",
        "php://input",
    ]
)
TEXT = st.lists(TOKENS, max_size=6).map("".join)
NAMES = st.sampled_from(
    [
        "host",
        "content-length",
        "transfer-encoding",
        "content-type",
        "cookie",
        "user-agent",
        "referer",
        "x-a",
        "range",
        "connection",
        "accept",
    ]
)
CONTENT_TYPES = st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=b", ""]
)


@st.composite
def views(draw: Any) -> tuple[RequestView, bytes | None]:
    method = draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "TRACE", "get"]))
    path = "/" + draw(TEXT)
    pairs = draw(st.lists(st.tuples(TEXT, TEXT), max_size=4))
    query = "&".join(f"{k}={v}" for k, v in pairs) if pairs else draw(st.sampled_from(["", "x", "a=1"]))
    headers = [(name, draw(TEXT)) for name in draw(st.lists(NAMES, max_size=6))]
    if draw(st.booleans()):
        headers.append(("content-type", draw(CONTENT_TYPES)))
    body = draw(st.one_of(st.none(), TEXT.map(str.encode), st.just(b'{"a": "<script>", "b": 1}')))
    if body is not None and draw(st.booleans()):
        headers.append(("content-length", str(len(body))))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0"]))
    target = path + ("?" + query if query else "")
    return RequestView(method, target, version, "example.com", headers, "192.0.2.7"), body


class _Every:
    """A prefilter that picks every rule: the engine without shortcuts."""

    def __init__(self, count: int) -> None:
        self.count = count

    def candidates(self, ctx: Ctx) -> range:
        return range(self.count)


def _plan(ruleset: RuleSet, phase: str, paranoia: int) -> Plan:
    rules = tuple(r for r in ruleset.rules if r.compiled.phase == phase and r.paranoia <= paranoia)
    return Plan(rules, _Every(len(rules)))  # type: ignore[arg-type]


def _reference(
    ruleset: RuleSet, view: RequestView, phase: str, state: WafState, mode: Mode, paranoia: int, threshold: int
) -> Verdict:
    """`evaluate` as it was: the phase's rules, then (head, no body) the body rules; every rule evaluated."""
    ctx = context(state, view)
    if not state.done:
        _run(_plan(ruleset, phase, paranoia), ctx, state, mode, False)
    needs_body = False
    if phase == "head" and not state.done:
        body = _plan(ruleset, "body", paranoia)
        if body.rules and view.declares_body():
            needs_body = True
        else:
            _run(body, ctx, state, mode, False)
    if not needs_body and not state.done and state.score >= threshold:
        _block(state, mode, 403)
    return Verdict(state.action, state.status, state.score, tuple(state.matches), needs_body, state.would_block)


def _gateway(ruleset: RuleSet, request: tuple[RequestView, bytes | None], reference: bool, **kw: Any) -> list[Any]:
    """What the gateway does: head, then body when asked; the verdicts as comparable tuples."""
    template, body = request
    view = RequestView(
        template.method, template.target, template.version, template.host, list(template.headers), template.client_ip
    )
    state, out = WafState(), []
    for phase in ("head", "body"):
        if phase == "body":
            view.body = body or b""
        if reference:
            verdict = _reference(ruleset, view, phase, state, kw["mode"], kw["paranoia"], kw["threshold"])
        else:
            verdict = evaluate(ruleset, view, phase=phase, state=state, **kw)  # type: ignore[arg-type]
        out.append((verdict.action, verdict.status, verdict.score, verdict.matches, verdict.needs_body))
        out.append(verdict.would_block)
        if not verdict.needs_body:
            break
    return out


def _managed() -> RuleSet:
    try:
        return load_ruleset(MANAGED)
    except RuleSetError:
        pytest.skip("the managed rule set does not load")


SYNTHETIC = build_ruleset(
    [
        (
            "t.toml",
            "".join(
                f"[[rule]]\nid = \"r{i}\"\nexpr = '''{e}'''\naction = \"score\"\nscore = {1 + i % 3}\n"
                f"paranoia = {1 + i % 2}\n"
                for i, e in enumerate(EXPRESSIONS)
            ),
        )
    ]
)


@pytest.fixture(scope="module")
def managed() -> RuleSet:
    return _managed()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=views(), mode=st.sampled_from(["block", "detect"]), paranoia=st.integers(1, 4))
def test_managed_rules_verdicts_equal_the_engine_without_shortcuts(
    managed: RuleSet, request: tuple[RequestView, bytes | None], mode: str, paranoia: int
) -> None:
    kw = {"mode": mode, "paranoia": paranoia, "threshold": 5}
    want = _gateway(managed, request, True, **kw)
    assert _gateway(managed, request, False, **kw) == want  # cold (or whatever earlier examples left)
    assert _gateway(managed, request, False, **kw) == want  # from the caches


@settings(max_examples=500, deadline=None)
@given(request=views(), mode=st.sampled_from(["block", "detect"]), paranoia=st.integers(1, 2))
def test_synthetic_rules_verdicts_equal_the_engine_without_shortcuts(
    request: tuple[RequestView, bytes | None], mode: str, paranoia: int
) -> None:
    kw = {"mode": mode, "paranoia": paranoia, "threshold": 4}
    want = _gateway(SYNTHETIC, request, True, **kw)
    assert _gateway(SYNTHETIC, request, False, **kw) == want
    assert _gateway(SYNTHETIC, request, False, **kw) == want


@settings(max_examples=500, deadline=None)
@given(request=views())
def test_candidates_never_drop_a_matching_rule(request: tuple[RequestView, bytes | None]) -> None:
    view, body = request
    view.body = body
    every = {i for i, rule in enumerate(RULES) if _holds(rule.predicate, Ctx(view))}
    for _ in range(2):  # computed, then cached
        ctx = Ctx(view)
        assert {i for i in PREFILTER.candidates(ctx) if _holds(RULES[i].predicate, ctx)} == every


def _holds(predicate: Any, ctx: Ctx) -> bool:
    try:
        return bool(predicate(ctx))
    except Exception:
        return False


def test_every_expression_has_a_guard_but_the_one_without() -> None:
    unguarded = [e for e, rule in zip(EXPRESSIONS, RULES, strict=True) if rule.guard is None]
    assert unguarded == ['not (http.request.uri.path eq "/" or http.request.method eq "GET")']


def test_a_benign_request_wakes_only_the_rules_it_cannot_rule_out() -> None:
    """`all(...) and len(...) gt 0` is a candidate whenever there is an argument; the unguarded rule always."""
    headers = {"Host": "example.com", "User-Agent": "curl", "Referer": "https://example.com/"}
    view = RequestView.from_request_line("GET /plain?q=hello", headers=headers)
    want = [i for i, e in enumerate(EXPRESSIONS) if e.startswith(("all(", "not ("))]
    for _ in range(2):
        assert list(PREFILTER.candidates(Ctx(view))) == want


def test_value_caches_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefilter_module, "CACHE_MAX_ENTRIES", 4)
    monkeypatch.setattr(prefilter_module, "INPUT_CACHE_MAX_ENTRIES", 4)
    compiler = Compiler()
    rule = compiler.rule('any(lower(http.request.uri.args.values[*]) contains "evil")')
    pf = Prefilter([rule.guard], {a.id: a for a in compiler.atoms.values()})
    for i in range(50):
        view = RequestView.from_request_line(f"GET /?a={i}&b=EVIL{i % 3}")
        assert list(pf.candidates(Ctx(view))) == [0]
        view = RequestView.from_request_line(f"GET /?a={i}")
        assert list(pf.candidates(Ctx(view))) == []
    long = "x" * (prefilter_module.CACHE_MAX_LENGTH + 1)
    for _ in range(2):
        assert list(pf.candidates(Ctx(RequestView.from_request_line(f"GET /?a={long}evil")))) == [0]


def test_large_bodies_are_not_cache_keys() -> None:
    compiler = Compiler()
    rule = compiler.rule('http.request.body.raw contains "evil"')
    pf = Prefilter([rule.guard], {a.id: a for a in compiler.atoms.values()})
    big = b"a" * (prefilter_module.INPUT_CACHE_MAX_SIZE + 1)
    for body, want in ((big, []), (big + b"evil", [0]), (big, []), (b"evil", [0])):
        view = RequestView.from_request_line("POST /", body=body)
        assert list(pf.candidates(Ctx(view))) == want


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["&", "#", ";", "x", "X", "a", "1", " ", "=", "\n", "amp", "lt", "not", "copy", "AElig", "sect"]
        ),
        max_size=10,
    ).map("".join)
)
def test_html_decode_is_html_unescape(text: str) -> None:
    assert html_decode(text) == html.unescape(text)


def test_a_context_rebound_to_another_view_does_not_use_or_fill_the_input_caches() -> None:
    compiler = Compiler()
    rule = compiler.rule('any(http.request.headers.values[*] contains "evil")')
    pf = Prefilter([rule.guard], {a.id: a for a in compiler.atoms.values()})
    fine = RequestView.from_request_line("GET /", headers={"X": "fine"})
    evil = RequestView.from_request_line("GET /", headers={"X": "evil"})
    ctx = Ctx(fine)
    assert list(pf.candidates(ctx)) == []
    ctx.view = evil  # the memo still holds the headers of `fine`: what the rules will see
    assert list(pf.candidates(ctx)) == []
    assert list(pf.candidates(Ctx(evil))) == [0]  # nothing was kept under the inputs of `evil`


def test_transformation_chains_keep_short_results_in_a_bounded_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(closures, "TRANSFORM_CACHE_ENTRIES", 3)
    calls: list[str] = []

    def upper(text: str) -> str:
        calls.append(text)
        return text.upper()

    run = closures.cached(upper)
    assert [run(t) for t in ("a", "b", "a", "a")] == ["A", "B", "A", "A"]
    assert calls == ["a", "b"]
    for i in range(10):
        assert run(str(i)) == str(i)
    long = "x" * (closures.TRANSFORM_CACHE_LENGTH + 1)
    assert run(long) == run(long) == long.upper()
    assert calls.count(long) == 2


def test_every_field_names_its_inputs() -> None:
    from edge.waf.fields import FIELDS, INPUTS

    for spec in FIELDS.values():
        assert spec.inputs and set(spec.inputs) <= set(INPUTS), spec.name
