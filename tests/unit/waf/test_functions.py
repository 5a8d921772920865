"""The transformations and functions, driven by the table in functions_cases.toml, plus the other functions."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.waf.detect import sqli, xss
from edge.waf.transforms import TRANSFORMS

CASES = tomllib.loads((Path(__file__).parent / "functions_cases.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['fn']}:{c['input']!r}" for c in CASES])
def test_transform_table(case: dict[str, str]) -> None:
    assert TRANSFORMS[case["fn"]](case["input"]) == case["want"]


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@pytest.mark.parametrize("text", ["", "\udc80", "%", "&#99999999999;", "\x00" * 3, "/" * 500, "%25" * 50])
def test_transforms_are_total(name: str, text: str) -> None:
    assert isinstance(TRANSFORMS[name](text), str)


@pytest.mark.parametrize(
    ("detector", "text", "attack"),
    [
        (sqli, "1' OR '1'='1", True),
        (sqli, "1 union select password from users", True),
        (sqli, "O'Reilly", False),
        (sqli, "blue shoes", False),
        (sqli, "", False),
        (sqli, "\udc80' or 1=1 --", True),
        (xss, "<script>alert(1)</script>", True),
        (xss, "<img src=x onerror=alert(1)>", True),
        (xss, "a < b", False),
        (xss, "\udc80<script>", True),
    ],
)
def test_detectors(detector: Callable[[str], bool], text: str, attack: bool) -> None:
    assert detector(text) is attack


@pytest.mark.parametrize(
    ("expr", "request_line", "want"),
    [
        ("len(http.request.uri.path) eq 6", "GET /abcde", True),
        ("len(http.request.uri.args.names) eq 2", "GET /?a=1&b=2", True),
        ("len(http.request.uri.args) eq 1", "GET /?a=1&a=2", True),
        ('concat(http.request.method, " ", http.request.uri.path) eq "GET /x"', "GET /x", True),
        ("len(concat(http.request.uri.args.names, http.request.uri.args.values)) eq 4", "GET /?a=1&b=2", True),
        ('starts_with(http.request.uri.path, "/adm")', "GET /admin", True),
        ('ends_with(http.request.uri.path, ".php")', "GET /x.php", True),
        ('substring(http.request.uri.path, 1, 3) eq "ab"', "GET /abc", True),
        ('substring(http.request.uri.path, -2) eq "bc"', "GET /abc", True),
        ('to_string(ip.src) eq "127.0.0.1"', "GET /", True),
        ('to_string(ssl) eq "true"', "GET /", True),
        ('to_string(len(http.request.uri.path)) eq "4"', "GET /abc", True),
        ('any(starts_with(http.request.uri.args.values[*], "x"))', "GET /?a=1&b=xy", True),
        ('all(starts_with(http.request.uri.args.values[*], "x"))', "GET /?a=1&b=xy", False),
        ('all(http.request.uri.args.values[*] eq "x")', "GET /", True),
        ("any(sqli(http.request.uri.args.values[*]))", "GET /?q=1%27%20or%20%271%27%3D%271", True),
        ("any(xss(http.request.uri.args.values[*]))", "GET /?q=%3Cscript%3E", True),
        ("any(len(http.request.uri.args.values[*]) gt 3)", "GET /?a=12345", True),
    ],
)
def test_functions_in_expressions(ev: Callable[..., bool], expr: str, request_line: str, want: bool) -> None:
    assert ev(expr, request_line) is want


def test_missing_value_makes_function_result_missing(ev: Callable[..., bool]) -> None:
    assert ev('lower(http.request.headers["x"][0]) ne "a"') is False
    assert ev('lower(http.request.headers["x"][0]) eq "a"') is False
