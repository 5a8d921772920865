"""The prefilter is sound: evaluating only its candidates gives the same matches as evaluating every rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.waf.compiler import Compiler
from edge.waf.fields import Ctx
from edge.waf.prefilter import Prefilter
from edge.waf.request import RequestView

EXPRESSIONS = [
    'any(lower(url_decode(http.request.uri.args.values[*])) matches r"^a.*b$")',
    'any(http.request.uri.args.values[*] matches r"\\bunion\\s+select\\b")',
    'any(http.request.uri.args.values[*] contains "x\ny")',
    'http.request.uri.path matches r"^/a$"',
    'http.request.uri.path matches r"(?s)a.b"',
    'http.request.uri.path wildcard "/A*b"',
    'http.request.uri.path strict wildcard "*/x"',
    'http.request.uri.path contains "//" and http.request.method eq "GET"',
    'http.request.uri.path matches "^$" or any(http.request.uri.args.names[*] matches "^$")',
    'any(lower(http.request.uri.args.names[*]) matches "[^a-z]")',
    'not http.request.uri.path contains "a"',
    'http.request.uri.query matches r"a\\z"',
    'any(http.request.uri.args.values[*] matches r"\\Ab")',
]
COMPILER = Compiler()
RULES = [COMPILER.rule(e) for e in EXPRESSIONS]
PREFILTER = Prefilter([r.guard for r in RULES], {a.id: a for a in COMPILER.atoms.values()})
CHARS = st.sampled_from([*list("abxyAB/\n =&%+"), "union select", "%0a", "%2F", "//"])


@settings(max_examples=500, deadline=None)
@given(path=st.lists(CHARS, max_size=10).map("".join), query=st.lists(CHARS, max_size=14).map("".join))
def test_candidates_never_drop_a_matching_rule(path: str, query: str) -> None:
    view = RequestView.from_request_line("GET /", headers=())
    view.target = "/" + path + ("?" + query if query else "")
    every = {i for i, rule in enumerate(RULES) if rule.predicate(Ctx(view))}
    ctx = Ctx(view)
    chosen = {i for i in PREFILTER.candidates(ctx) if RULES[i].predicate(ctx)}
    assert chosen == every


def test_unguarded_rules_are_always_candidates_and_benign_requests_skip_the_rest() -> None:
    view = RequestView.from_request_line("GET /plain?q=hello", headers=())
    candidates = list(PREFILTER.candidates(Ctx(view)))
    assert candidates == sorted(i for i, rule in enumerate(RULES) if rule.guard is None)
