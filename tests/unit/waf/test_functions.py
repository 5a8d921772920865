"""The transformations and functions, driven by the table in functions_cases.toml, plus the other functions."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from edge.waf.detect import sqli, xss
from edge.waf.hosts import to_ip, url_host
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


TO_IP = [
    ("127.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("0", "0.0.0.0"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0251.0376.0251.0376", "169.254.169.254"),
    ("169.254.43518", "169.254.169.254"),
    ("10.65535", "10.0.255.255"),
    ("[::1]", "::1"),
    ("::ffff:127.0.0.1", "127.0.0.1"),
    ("::ffff:7f00:1", "127.0.0.1"),
    ("0:0:0:0:0:ffff:a9fe:a9fe", "169.254.169.254"),
    ("::127.0.0.1", "127.0.0.1"),
    ("2002:7f00:1::", "127.0.0.1"),
    ("\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11", "127.0.0.1"),  # fullwidth
    ("127\u30020\u30020\u30021", "127.0.0.1"),  # ideographic full stops
    ("127.0.0.1.nip.io", "127.0.0.1"),
    ("app.10.0.0.5.nip.io", "10.0.0.5"),
    ("10-0-0-1.sslip.io", "10.0.0.1"),
    ("7f000001.nip.io", "127.0.0.1"),
    ("localhost", "127.0.0.1"),
    ("api.localhost", "127.0.0.1"),
    ("x.localtest.me", "127.0.0.1"),
    ("LOCALHOST.", "127.0.0.1"),
    ("example.com", None),
    ("1.2.3.4.5", None),
    ("256.1.1.1", None),
    ("08.1.1.1", None),
    ("", None),
]


@pytest.mark.parametrize(("host", "want"), TO_IP)
def test_to_ip_reads_every_form_a_resolver_reads(host: str, want: str | None) -> None:
    found = to_ip(host)
    assert (str(found) if found is not None else None) == want


@pytest.mark.parametrize(
    ("expr", "request_line", "want"),
    [
        ('any(values_except(http.request.uri.args, "a")[*] eq "1")', "GET /?a=1&b=2", False),
        ('any(values_except(http.request.uri.args, "A", "c")[*] eq "2")', "GET /?a=1&b=2&c=3", True),
        ('len(values_except(http.request.uri.args, "zz")) eq 3', "GET /?a=1&b=2&a=3", True),
        ("any(to_ip(url_host(http.request.uri.args.values[*])) in {127.0.0.0/8})", "GET /?u=http://0x7f.1/", True),
        ("any(to_ip(http.request.uri.args.values[*]) in {10.0.0.0/8})", "GET /?h=example.com", False),
        ('to_ip("10.1.2.3") eq 10.1.2.3', "GET /", True),
    ],
)
def test_host_and_map_functions_in_expressions(
    ev: Callable[..., bool], expr: str, request_line: str, want: bool
) -> None:
    assert ev(expr, request_line) is want


def _host_by_full_scan(s: str) -> str:
    """url_host without the long-text shortcut: the regex over the whole text."""
    from edge.waf import hosts

    m = hosts._URL.search(s)
    if m is None:
        return ""
    host = hosts._fold(m.group(1)).rpartition("@")[2]
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "x=gopher://127.0.0.1:70/",
        '"' + "a" * 21 + "://deep.example/",  # the longest scheme the regex takes
        "(" + "a" * 22 + "://too.long/",  # one longer: no URL at its colon
        "\\\\unc.host\\share",
        "//lead.example/p",
        "http:\\\\back.example\\p",
        "note: see /docs, time 10:30 / later",  # a colon and a slash that are no URL
    ],
)
@pytest.mark.parametrize("where", ["start", "blanks", "middle", "end"])
def test_url_host_in_a_long_text_is_the_host_a_full_scan_finds(url: str, where: str) -> None:
    filler = "lorem ipsum, dolor: sit (amet) / consectetur " * 40
    text = {
        "start": url + " " + filler,
        "blanks": " \t" * 30 + url + " " + filler,
        "middle": filler + " " + url + " " + filler,
        "end": filler + "=" + url,
    }[where]
    assert len(text) > 256
    assert url_host(text) == _host_by_full_scan(text)


def test_url_host_of_a_long_text_without_any_url_is_empty() -> None:
    assert url_host("a/b: c " * 10_000) == ""


@pytest.mark.parametrize(
    "frame",
    [
        "at com.example.App.run(App.java:12)",
        "AT\u00a0com.example.App.run\u2003(App.java:12)",  # Unicode blanks: Python's \s
        "at Ns.Type.Method() in C:\\src\\file.cs:line 12",
        'File "/srv/app.py", line 3, in handler',
        "at fn (app.js:1:2)",
    ],
)
def test_stack_frames_in_a_long_text_are_stripped_as_in_a_short_one(frame: str) -> None:
    strip = TRANSFORMS["strip_stack_frames"]
    filler = "the order was placed at noon; see the notes " * 200
    short = f"crash at home: {frame} done"
    assert strip(short) != short, "the frame is one"
    text = filler + short + filler
    assert len(text) > 4096
    assert strip(text) == filler + strip(short) + filler


def test_a_long_text_without_frames_is_unchanged() -> None:
    text = "meet at noon, room (5); file it " * 500
    assert TRANSFORMS["strip_stack_frames"](text) is text
