"""The compiler: type checking at load (with did-you-mean), every operator, lists, sharing and guards."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edge.waf.closures import MAX_CLAUSES, NOT_LITERAL, apply
from edge.waf.compiler import Compiler
from edge.waf.errors import RuleError

Ev = Callable[..., bool]


@pytest.mark.parametrize(
    ("expr", "col", "message"),
    [
        ('http.hots eq "a"', 1, "unknown field 'http.hots'; did you mean 'http.host'?"),
        ('lowr(http.host) eq "a"', 1, "unknown function 'lowr'; did you mean 'lower'?"),
        ('ip.src eq "10.0.0.1"', 11, "cannot compare an IP address with a String"),
        ("http.host eq 1", 14, "cannot compare a String with an Int"),
        ('http.request.body.size eq "1"', 27, "cannot compare an Int with a String"),
        ("http.host", 1, "a rule must be one boolean, this expression is a String"),
        ('http.request.uri.args.values[*] eq "a"', 1, "wrap it in any(...) or all(...)"),
        ('http.request.uri.args eq "a"', 1, "cannot compare a Map<Array<String>>"),
        ('http.request.uri.args.values eq "a"', 1, "cannot compare an Array<String>"),
        ('ip.src contains "1"', 8, "operator 'contains' does not apply to an IP address"),
        ("ip.src eq 10.0.0.0/8", 11, "test a CIDR with 'in { ... }'"),
        ('http.host in {"a" 1}', 19, "set item is an Int, expected a String"),
        ('ip.src in {10.0.0.0/8 "x"}', 23, "set item is a String, expected an IP address"),
        ('http.host matches "(a"', 19, "invalid regular expression: missing )"),
        ('http.host matches "(?<=a)b"', 19, "invalid regular expression"),
        ("ip.src in $ofice", 11, "unknown list '$ofice'; did you mean 'office'?"),
        ("ip.src in $words", 11, "list '$words' holds values that are not of type IP address"),
        ('lower(http.host, 1) eq "a"', 1, "lower() takes 1 arguments"),
        ('substring(http.host) eq "a"', 1, "substring() takes 2 to 3 arguments"),
        ('lower(len(http.host)) eq "a"', 7, "argument 1 of lower(String) cannot be an Int"),
        ('http.request.headers["User-Agent"][0] eq "a"', 1, 'header names are lower-case: write ["user-agent"]'),
        ('http.host["a"] eq "a"', 1, "cannot index a String"),
        ('http.request.uri.args[0] eq "a"', 1, 'is indexed with ["name"]'),
        ('http.request.uri.args.values["a"] eq "a"', 1, "is indexed with [N] or [*]"),
        ('any(http.request.uri.args.values[*][*] eq "a")', 5, "cannot index an expanded array"),
        ('any(http.host eq "a")', 1, "any() needs booleans of an expanded array"),
        ('any(http.request.uri.args.values[*] eq "a") and http.request.uri.args.values[*] eq "b"', 49, "'and' needs"),
        ("not http.host", 5, "'not' needs booleans, found a String"),
        ('concat(http.host, http.request.uri.args.names) eq "a"', 1, "concat() needs arguments of one type"),
        ('to_string(10.0.0.0/8) eq "a"', 11, "a CIDR is not a value"),
        ("http.host eq ip.src", 14, "expected a value to compare with after 'eq', found 'ip.src'"),
    ],
)
def test_type_errors(expr: str, col: int, message: str) -> None:
    compiler = Compiler({"office": ["10.0.0.0/8"], "words": ["a", "b"]})
    with pytest.raises(RuleError) as info:
        compiler.rule(expr)
    assert message in info.value.message, str(info.value)
    assert (info.value.line, info.value.col) == (1, col), str(info.value)


@pytest.mark.parametrize(
    ("expr", "want"),
    [
        ('http.request.method eq "GET"', True),
        ('http.request.method == "POST"', False),
        ('http.request.method ne "POST"', True),
        ('http.request.uri.path lt "/b"', True),
        ('http.request.uri.path ge "/b"', False),
        ("len(http.request.uri.path) gt 2", True),
        ("len(http.request.uri.path) le 2", False),
        ("len(http.request.uri.path) >= 5", True),
        ("len(http.request.uri.path) < 5", False),
        ('http.request.uri.path contains "dmi"', True),
        ('http.request.uri.path matches "^/ad.*n/"', True),
        ('http.request.uri.path ~ "^/AD"', False),
        ('http.request.uri.path matches "(?i)^/AD"', True),
        ('http.request.uri.path wildcard "/ADMIN/*"', True),
        ('http.request.uri.path strict wildcard "/ADMIN/*"', False),
        ('http.request.uri.path strict wildcard "/admin/*"', True),
        ('http.request.uri.path wildcard "/admin"', False),
        (r'http.request.uri.path wildcard r"/admin/\*"', False),
        ('http.request.uri.path in {"/x" "/admin/users"}', True),
        ("len(http.request.uri.path) in {1 5..20}", True),
        ("len(http.request.uri.path) in {1..5 100}", False),
        ("ip.src in {192.0.2.0/24 10.0.0.1}", True),
        ("ip.src in {2001:db8::/32}", False),
        ("ip.src eq 192.0.2.7", True),
        ("ip.src in $office", True),
        ("ssl", True),
        ("ssl eq false", False),
        ("not ssl", False),
        ('ssl and http.host eq "localhost"', True),
        ("ssl xor ssl", False),
        ("ssl ^^ not ssl", True),
        ('not ssl or http.host eq "localhost"', True),
        ('not ssl || http.host eq "x"', False),
        ("ssl && true", True),
        ("false or (ssl and not false)", True),
    ],
)
def test_operators(ev: Ev, expr: str, want: bool) -> None:
    lists = {"office": ["192.0.2.0/24", "2001:db8::/32"]}
    assert ev(expr, "GET /admin/users", client_ip="192.0.2.7", lists=lists) is want


def test_ipv6_client_and_ipv4_mapped_addresses(ev: Ev) -> None:
    assert ev("ip.src in {2001:db8::/32}", client_ip="2001:db8::5")
    assert ev("ip.src in {192.0.2.0/24}", client_ip="::ffff:192.0.2.1")
    assert not ev("ip.src in {192.0.2.0/24}", client_ip="not-an-ip")
    assert not ev("ip.src ne 1.2.3.4", client_ip="not-an-ip")


def test_integer_lists(ev: Ev) -> None:
    assert ev("len(http.request.uri.path) in $sizes", "GET /abc", lists={"sizes": [4, "5"]})


def test_identical_subexpressions_share_one_getter() -> None:
    compiler = Compiler()
    compiler.rule('any(lower(url_decode(http.request.uri.args.values[*])) contains "a")')
    compiler.rule('any(lower(url_decode(http.request.uri.args.values[*])) matches "b")')
    keys = [key for key in compiler.shared if isinstance(key, tuple) and key[:2] == ("call", "lower")]
    assert len(keys) == 1


def test_guards_follow_the_logic() -> None:
    """Guards are clauses of atoms (CNF): every comparison is an atom (a regex or its predicate), `and` keeps
    the clauses of both sides, `or` and `xor` pair them up, `not` of one comparison on a single value is the
    atom of the negated predicate; `all(...)` and `not` of anything else have none."""
    compiler = Compiler()
    assert compiler.rule('http.host matches "a"').guard is not None
    assert len(compiler.rule('http.host matches "a" and http.host eq "b"').guard or ()) == 2
    assert len(compiler.rule('http.host matches "a" or http.host contains "b"').guard or ()) == 1
    assert compiler.rule('http.host matches "a" or http.host eq "b"').guard is not None
    assert len(compiler.rule('(http.host eq "a" and ssl) or http.host eq "b"').guard or ()) == 1
    assert compiler.rule('not http.host matches "a"').guard is not None
    assert compiler.rule('not any(http.request.uri.args.values[*] contains "a")').guard is None
    assert compiler.rule('http.host eq "a" or not any(http.request.uri.args.values[*] eq "a")').guard is None
    assert compiler.rule('all(http.request.uri.args.values[*] contains "a")').guard is None
    assert compiler.rule('any(http.request.uri.args.values[*] contains "a")').guard is not None
    assert compiler.rule("any(sqli(http.request.uri.args.values[*]))").guard is not None
    assert compiler.rule(r'http.host matches r"\Aa"').guard is not None  # atoms are tested value by value


def test_or_of_ands_keeps_at_most_max_clauses() -> None:
    compiler = Compiler()
    parts = [f'(http.host eq "a{i}" and http.request.method eq "M{i}")' for i in range(8)]
    guard = compiler.rule(" or ".join(parts)).guard
    assert guard is not None and 0 < len(guard) <= MAX_CLAUSES


def test_rate_limit_keys_are_strings(ev: Ev) -> None:
    from edge.waf.fields import Ctx
    from edge.waf.request import RequestView

    compiler = Compiler()
    view = RequestView.from_request_line("GET /?a=1&a=2", headers={"X-Api-Key": "k1"}, client_ip="10.0.0.9")
    for text, want in [
        ("ip.src", "10.0.0.9"),
        ('http.request.headers["x-api-key"][0]', "k1"),
        ('http.request.headers["missing"][0]', ""),
        ('http.request.uri.args["a"]', "1,2"),
        ("len(http.request.uri.path)", "1"),
        ('concat(to_string(ip.src), ":", http.request.uri.path)', "10.0.0.9:/"),
    ]:
        key, _ = compiler.key(text)
        assert key(Ctx(view)) == want
    with pytest.raises(RuleError, match="not a Map"):
        compiler.key("http.request.headers")


@pytest.mark.parametrize(
    ("values", "each"),
    [("/api/x", False), (None, False), (("/api/a", None, "/b"), True), ((), True)],
)
def test_a_call_with_one_literal_answers_as_the_general_call_does(values: object, each: bool) -> None:
    """`starts_with(x, "/api/")` gets a getter of its own; it must keep the general one's answers, a missing
    value (None) and a missing element included."""

    def starts_with(text: str, prefix: str) -> bool:
        return text.startswith(prefix)

    getters = [lambda ctx: values, lambda ctx: "/api/"]
    general = apply(starts_with, getters, [each, False])
    special = apply(starts_with, getters, [each, False], [NOT_LITERAL, "/api/"])
    assert special(None) == general(None)  # type: ignore[arg-type]
