"""The parser: every construct, precedence, literals, and error messages with line and column."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.waf.errors import RuleError
from edge.waf.lang import ast
from edge.waf.lang.parser import parse


def test_comparison_operators_have_two_spellings() -> None:
    pairs = [("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("matches", "~")]
    for english, symbol in pairs:
        a, b = parse(f'x {english} "1"'), parse(f'x {symbol} "1"')
        assert isinstance(a, ast.Compare) and isinstance(b, ast.Compare)
        assert a.op == b.op == english


@pytest.mark.parametrize("op", ["contains", "wildcard", "strict wildcard"])
def test_word_operators(op: str) -> None:
    node = parse(f'http.host {op} "a*"')
    assert isinstance(node, ast.Compare) and node.op == op


def test_logical_operators_and_precedence() -> None:
    # not > and > xor > or
    node = parse("a or b xor c and not d")
    assert isinstance(node, ast.Logical) and node.op == "or"
    right = node.right
    assert isinstance(right, ast.Logical) and right.op == "xor"
    assert isinstance(right.right, ast.Logical) and right.right.op == "and"
    assert isinstance(right.right.right, ast.Not)
    symbols = parse("a || b ^^ c && ! d")
    assert repr(symbols).replace(" ", "") != "" and isinstance(symbols, ast.Logical) and symbols.op == "or"


def test_parentheses_group() -> None:
    node = parse("(a or b) and c")
    assert isinstance(node, ast.Logical) and node.op == "and"
    assert isinstance(node.left, ast.Logical) and node.left.op == "or"


def test_not_binds_to_the_whole_comparison() -> None:
    node = parse("not ip.src in $office")
    assert isinstance(node, ast.Not) and isinstance(node.operand, ast.Compare)


def test_string_literals() -> None:
    def rhs(text: str) -> object:
        node = parse(f"x eq {text}")
        assert isinstance(node, ast.Compare) and isinstance(node.rhs, ast.Str)
        return node.rhs.value

    assert rhs(r'"a\"b\\c\n\t\x41"') == 'a"b\\c\n\tA'
    assert rhs(r'r"\d+\s"') == r"\d+\s"
    assert rhs(r'r#"say "hi" \d"#') == r'say "hi" \d'
    assert rhs(r'r##"a"#b"##') == 'a"#b'


def test_integers_booleans_and_ips() -> None:
    node = parse("x eq -42")
    assert isinstance(node, ast.Compare) and isinstance(node.rhs, ast.Int) and node.rhs.value == -42
    node = parse("x eq true")
    assert isinstance(node, ast.Compare) and isinstance(node.rhs, ast.Bool) and node.rhs.value is True
    for text, value in [("10.1.2.3", ipaddress.ip_address("10.1.2.3")), ("::1", ipaddress.ip_address("::1")),
                        ("fe80::1", ipaddress.ip_address("fe80::1"))]:  # fmt: skip
        node = parse(f"ip.src eq {text}")
        assert isinstance(node, ast.Compare) and isinstance(node.rhs, ast.Ip) and node.rhs.value == value


def test_set_literal_items() -> None:
    node = parse('x in {"a" 1 8000..8999, 10.0.0.0/8 2001:db8::/32 192.0.2.1}')
    assert isinstance(node, ast.Compare) and isinstance(node.rhs, ast.SetLiteral)
    kinds = [type(item).__name__ for item in node.rhs.items]
    assert kinds == ["Str", "Int", "Range", "Ip", "Ip", "Ip"]
    assert isinstance(node.rhs.items[2], ast.Range) and node.rhs.items[2].high == 8999


def test_list_reference() -> None:
    node = parse("ip.src in $office_ips")
    assert isinstance(node, ast.Compare) and isinstance(node.rhs, ast.ListRef) and node.rhs.name == "office_ips"


def test_map_index_and_expansion() -> None:
    node = parse('any(lower(http.request.headers["x-a"][*])[0] eq "a")')
    assert isinstance(node, ast.Call) and node.name == "any"
    node = parse('http.request.headers["x"][2] eq "a"')
    assert isinstance(node, ast.Compare) and isinstance(node.lhs, ast.Index) and node.lhs.key == 2
    inner = node.lhs.base
    assert isinstance(inner, ast.Index) and inner.key == "x"


def test_function_calls_take_expressions() -> None:
    node = parse('concat("a", http.host, "b") eq "x"')
    assert isinstance(node, ast.Compare) and isinstance(node.lhs, ast.Call) and len(node.lhs.args) == 3


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("http.host eq", 1, 13, "expected a value to compare with after 'eq', found end of expression"),
        ('http.host eq "a" and', 1, 21, "expected a field, a function or a value"),
        ("(a or b", 1, 8, "expected ')'"),
        ('x eq "abc', 1, 6, "unterminated string"),
        ('x eq r#"abc"', 1, 6, "unterminated raw string"),
        (r'x eq "\d"', 1, 7, "unknown escape '\\d'"),
        ("x in {}", 1, 6, "empty set"),
        ("x in {1..a}", 1, 10, "expected the end of the range"),
        ("x in {5..1}", 1, 7, "empty range 5..1"),
        ('x in {"a".."b"}', 1, 7, "a range needs two integers"),
        ("x in {true}", 1, 7, "booleans cannot appear in a set"),
        ("x in office", 1, 6, "expected '{' or a $list after 'in'"),
        ("x eq 1.2.3.999", 1, 6, "invalid IP address or CIDR '1.2.3.999'"),
        ("x[", 1, 3, "inside [...]"),
        ('x["a" eq 1', 1, 7, "expected ']'"),
        ("f(a, b", 1, 7, "expected ',' or ')'"),
        ("x eq 1 2", 1, 8, "expected an operator such as 'and' or 'or', found '2'"),
        ("x strict eq 1", 1, 10, "expected 'wildcard' after 'strict'"),
        ("x @ 1", 1, 3, "unexpected character '@'"),
        ("a and\n  b eq\n", 3, 1, "expected a value to compare with after 'eq'"),
        ('a and\n  b eq "x" or\n  $', 3, 3, "expected a list name after '$'"),
    ],
)
def test_syntax_errors_name_line_column_and_what_was_expected(text: str, line: int, col: int, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse(text)
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert message in err.message
    assert str(err) == f"<expr>:{line}:{col}: {err.message}"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(RuleError, match="nested"):
        parse("(" * 5000 + "a" + ")" * 5000)
    with pytest.raises(RuleError, match="nested"):
        parse("not " * 5000 + "a")


def test_overlong_expression_is_an_error() -> None:
    with pytest.raises(RuleError, match="longer than"):
        parse("a or " * 20000 + "a")


ALPHABET = st.sampled_from(
    [*list('abcxyz019 \t\n"\\r#$*[](){},.:/!=<>~&|^-_'), "and ", " or ", "not ", " eq ", " in ", "http.host", 'r#"']
)


@settings(max_examples=400, deadline=None)
@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_parser_raises_only_rule_error_on_token_soup(text: str) -> None:
    with contextlib.suppress(RuleError):
        parse(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parser_raises_only_rule_error_on_any_text(text: str) -> None:
    with contextlib.suppress(RuleError):
        parse(text)
