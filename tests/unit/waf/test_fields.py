"""The fields: each one read from a request, lazily, and the decoders behind them."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable

import pytest

from edge.waf import forms
from edge.waf.compiler import Compiler
from edge.waf.fields import FIELDS, Ctx
from edge.waf.request import RequestView

Ev = Callable[..., bool]
HEADERS = [
    "Host: Shop.Example:8443",
    "User-Agent: curl/8",
    "Referer: https://ref.example/",
    "Cookie: session=abc; theme=dark",
    "Cookie: extra=1",
    "X-Multi: one",
    "X-Multi: two",
]


@pytest.mark.parametrize(
    "expr",
    [
        'http.host eq "shop.example"',
        'http.request.method eq "GET"',
        'http.request.version eq "HTTP/1.1"',
        'http.request.uri eq "/p/a%20th?a=1&b=x+y&b=%3Cz%3E&flag"',
        'http.request.uri.path eq "/p/a%20th"',
        'http.request.uri.query eq "a=1&b=x+y&b=%3Cz%3E&flag"',
        'http.request.uri.args["b"][0] eq "x y"',
        'http.request.uri.args["b"][1] eq "<z>"',
        'http.request.uri.args["flag"][0] eq ""',
        'len(http.request.uri.args["none"]) eq 0',
        'http.request.uri.args.names[3] eq "flag"',
        'http.request.uri.args.values[2] eq "<z>"',
        'http.request.full_uri eq "https://shop.example/p/a%20th?a=1&b=x+y&b=%3Cz%3E&flag"',
        'http.request.headers["x-multi"][1] eq "two"',
        'any(http.request.headers.names[*] eq "referer")',
        'any(http.request.headers.values[*] eq "curl/8")',
        'http.request.cookies["theme"][0] eq "dark"',
        'http.request.cookies["extra"][0] eq "1"',
        'http.request.cookies.names[2] eq "extra"',
        'any(http.request.cookies.values[*] eq "dark")',
        'http.user_agent eq "curl/8"',
        'http.referer eq "https://ref.example/"',
        "ip.src eq 127.0.0.1",
        "ssl",
        'tls.sni eq ""',
        'tls.version eq ""',
        'tls.client.subject eq ""',
    ],
)
def test_head_fields(ev: Ev, expr: str) -> None:
    assert ev(expr, "GET /p/a%20th?a=1&b=x+y&b=%3Cz%3E&flag", headers=HEADERS)


@pytest.mark.parametrize(
    ("content_type", "body", "expr"),
    [
        ("application/x-www-form-urlencoded", "a=1&b=%3Cs%3E", 'http.request.body.form["b"][0] eq "<s>"'),
        ("application/json", '{"user": {"name": "x", "tags": ["a", 2, true, null]}}',
         'http.request.body.form["user.tags"][3] eq "null"'),
        ("application/vnd.api+json", '{"a": 1.5}', 'http.request.body.form.values[0] eq "1.5"'),
        ("application/json", "[{bad json", "len(http.request.body.form) eq 0"),
        ("text/plain", "a=1", "len(http.request.body.form.names) eq 0"),
        ("Multipart/Form-Data; boundary=XyZ",
         '--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n'
         '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n'
         "<?php system($_GET[1]); ?>\r\n--XyZ--\r\n",
         'len(http.request.body.form["file"]) eq 0 and http.request.body.form.names[0] eq "title"'
         ' and http.request.body.files.names[0] eq "file" and http.request.body.files.filenames[0] eq "a.txt"'
         ' and http.request.body.files.content_types[0] eq "text/plain" and http.request.body.files.sizes[0] eq 26'
         ' and http.request.body.files.contents[0] contains "<?php" and http.request.body.text eq ""'),
        ("multipart/form-data; boundary=b",
         '--b\r\nContent-Disposition: form-data; name="f"; filename*=UTF-8\'\'%E2%82%AC%2Ephp\r\n\r\nx\r\n--b--\r\n',
         'http.request.body.files.filenames[0] eq "€.php"'),
        ("multipart/form-data; boundary=b",
         '--b\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{"a": {"b": "<x>"}}\r\n--b--\r\n',
         'http.request.body.form["payload.a.b"][0] eq "<x>"'),
        ("application/x-www-form-urlencoded", "payload=%7B%22type%22%3A%22block%22%2C%22n%22%3A%5B1%2C2%5D%7D",
         'http.request.body.form["payload.type"][0] eq "block" and http.request.body.form["payload.n"][1] eq "2"'),
        ("application/x-www-form-urlencoded", "q=%7Bnot+json%7D", 'http.request.body.form["q"][0] eq "{not json}"'),
        ("application/json", '{"lexical": "{\\"root\\": {\\"text\\": \\"hi\\"}}"}',
         'http.request.body.form["lexical.root.text"][0] eq "hi" and not http.request.body.invalid'),
        ("application/x-ndjson", '{"a": 1}\n\nnot json\n{"b": "x"}\n',
         'http.request.body.form["a"][0] eq "1" and http.request.body.form[""][0] eq "not json"'
         ' and http.request.body.form["b"][0] eq "x" and not http.request.body.invalid'),
        ("text/xml; charset=utf-8", '<?xml version="1.0"?><m:call xmlns:m="urn:x"><p k="&lt;v&gt;">one<![CDATA[ & two]]></p></m:call>',
         'http.request.body.form["m:call.p@k"][0] eq "<v>" and http.request.body.form["m:call.p"][0] eq "one & two"'
         ' and http.request.body.text eq "" and not http.request.body.invalid'),
        ("application/soap+xml", '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>',
         'len(http.request.body.form) eq 0 and http.request.body.text contains "<!ENTITY" and not http.request.body.invalid'),
        ("application/xml", '<a><b>unclosed</a>', 'http.request.body.text eq "<a><b>unclosed</a>" and not http.request.body.invalid'),
        ("application/json", '{"a": 1,}', 'http.request.body.invalid and http.request.body.text eq "{\\"a\\": 1,}"'),
        ("image/png", "\x89PNG\r\n\x1a\n`id`", 'http.request.body.files.filenames[0] eq "up load.png"'
         ' and http.request.body.files.contents[0] contains "`id`" and http.request.body.text eq ""'
         ' and len(http.request.body.form) eq 0'),
        ("text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 'http.request.body.text contains "BEGIN"'),
        ("application/json",
         '{"doc": {"type": "root", "children": [{"type": "paragraph", "text": "See:"},'
         ' {"type": "codeBlock", "attrs": {"language": "js"}, "content": [{"type": "text", "text": "alert(1)"}]},'
         ' {"_type": "code", "code": "rm -rf /"}]}}',
         'http.request.body.form["doc.children.text"][0] eq "See:" and len(http.request.body.form.values) eq 3'
         ' and any(http.request.body.code[*] eq "alert(1)") and any(http.request.body.code[*] eq "rm -rf /")'),
        ("multipart/mixed; boundary=batch_1",
         "--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
         "GET Customers('ALFKI')?$select=Name%2CCity HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n"
         "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_2\r\n\r\n--changeset_2\r\n"
         "Content-Type: application/http\r\n\r\nPOST Customers HTTP/1.1\r\nContent-Type: application/json\r\n\r\n"
         '{"Name": "<b>x</b>"}\r\n--changeset_2--\r\n--batch_1--\r\n',
         'http.request.body.form["$select"][0] eq "Name,City" and http.request.body.form["accept"][0] eq "application/json"'
         ' and http.request.body.form["Name"][0] eq "<b>x</b>" and any(http.request.body.form.values[*] eq "Customers(\'ALFKI\')")'
         ' and not any(http.request.body.form.values[*] contains "Content-Transfer-Encoding") and http.request.body.text eq ""'),
        ("multipart/form-data", "--x\r\n", "len(http.request.body.form) eq 0"),
        ("multipart/form-data; boundary=\"q q\"", '--q q\nContent-Disposition: form-data; name=a\n\nv\n--q q--',
         'http.request.body.form["a"][0] eq "v"'),
        ("application/x-www-form-urlencoded; charset=utf-8", "x=1", 'http.request.body.mime eq "application/x-www-form-urlencoded"'),
        ("text/plain", "héllo", 'http.request.body.raw eq "héllo" and http.request.body.size eq 6'),
        ("text/plain", "", "http.request.body.size eq 0 and not http.request.body.truncated"),
    ],
)  # fmt: skip
def test_body_fields(ev: Ev, content_type: str, body: str, expr: str) -> None:
    assert ev(expr, "POST /up%20load.png", headers={"Content-Type": content_type}, body=body)


@pytest.mark.parametrize(
    ("method", "content_type", "whole_file"),
    [
        ("PUT", "text/calendar", True),
        ("PUT", "text/plain", True),
        ("PUT", "application/json", False),
        ("PATCH", "application/offset+octet-stream", True),
        ("POST", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
        ("POST", "text/plain", False),
    ],
)
def test_a_body_that_is_a_file_is_one_file_not_text(ev: Ev, method: str, content_type: str, whole_file: bool) -> None:
    expr = 'len(http.request.body.files.names) eq 1 and http.request.body.files.filenames[0] eq "a.ics"'
    assert ev(expr, f"{method} /cal/a.ics", headers={"Content-Type": content_type}, body="{}") is whole_file
    if whole_file:
        assert ev(
            'http.request.body.text eq ""', f"{method} /cal/a.ics", headers={"Content-Type": content_type}, body="{}"
        )


def test_gzip_and_deflate_bodies_are_inflated_before_parsing(ev: Ev) -> None:
    data = json.dumps({"events": [{"name": "open"}]}).encode()
    for encoding, packed in (("gzip", gzip.compress(data)), ("deflate", zlib.compress(data))):
        headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
        assert ev('http.request.body.form["events.name"][0] eq "open"', "POST /", headers=headers, body=packed)
        assert ev('http.request.body.raw contains "events"', "POST /", headers=headers, body=packed)
    bad = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert ev('http.request.body.invalid and http.request.body.text eq "{}"', "POST /", headers=bad, body="{}")


def test_inflating_is_bounded() -> None:
    bomb = gzip.compress(b"a" * (8 * forms.MAX_INFLATED))
    data, cut, failed = forms.decode_content("gzip", bomb)
    assert len(data) == forms.MAX_INFLATED and cut and not failed


@pytest.mark.parametrize(
    ("expr", "line", "view", "want"),
    [
        ("http.request.method.allowed", "PROPFIND /dav/", {}, True),
        ("http.request.method.allowed", "TRACE /", {}, False),
        ("http.request.method.allowed", "PROPFIND /dav/", {"methods": frozenset({"GET"})}, False),
        ("http.request.content_type.allowed", "GET /", {}, True),
    ],
)
def test_site_policy_fields(expr: str, line: str, view: dict[str, object], want: bool) -> None:
    request = RequestView.from_request_line(line)
    for key, value in view.items():
        setattr(request, key, value)
    assert bool(Compiler().rule(expr).predicate(Ctx(request))) is want


@pytest.mark.parametrize(
    ("content_type", "types", "want"),
    [
        ("application/vnd.api+json; charset=utf-8", None, True),
        ("text/vcard", None, True),
        ("application/x-amf", None, False),
        ("application/x-amf", ("application/x-amf",), True),
        ("IMAGE/PNG", ("image/*",), True),
        ("application/json", ("image/*",), False),
    ],
)
def test_content_type_allowed_reads_the_site_list(content_type: str, types: tuple[str, ...] | None, want: bool) -> None:
    request = RequestView.from_request_line("POST /", headers={"Content-Type": content_type})
    request.content_types = types
    assert bool(Compiler().rule("http.request.content_type.allowed").predicate(Ctx(request))) is want


def test_query_args_fold_overlong_utf8_like_url_decode() -> None:
    """`%c0%ae` is an overlong `.`: lax decoders turn it into one, so the args must show it, not U+FFFD."""
    assert forms.parse_query("f=%C0%AE%C0%AE%C0%AFetc%2Fpasswd&q=caf%C3%A9+x") == [
        ("f", "../etc/passwd"),
        ("q", "café x"),
    ]


def test_every_field_is_listed_with_a_phase() -> None:
    assert {spec.phase for spec in FIELDS.values()} == {"head", "body"}
    assert all(name.startswith("http.request.body") == (spec.phase == "body") for name, spec in FIELDS.items())


def test_fields_are_lazy_and_computed_once() -> None:
    calls: list[str] = []
    original = forms.parse_cookies

    def counting(headers: list[tuple[str, str]]) -> forms.Pairs:
        calls.append("cookies")
        return original(headers)

    view = RequestView.from_request_line("GET /?a=1", headers=["Cookie: a=1"])
    compiler = Compiler()
    args_only = compiler.rule('any(http.request.uri.args.values[*] eq "1")')
    both = compiler.rule('http.request.cookies["a"][0] eq "1" and len(http.request.cookies) eq 1')
    forms.parse_cookies = counting
    try:
        ctx = Ctx(view)
        assert args_only.predicate(ctx)
        assert calls == []
        assert both.predicate(Ctx(view))
    finally:
        forms.parse_cookies = original


def test_from_request_line_parses_everything() -> None:
    view = RequestView.from_request_line(
        "PUT /x?y HTTP/1.0", headers={"Host": "[::1]:8443", "X": "1"}, body="abc", client_ip="::1", scheme="http"
    )
    assert (view.method, view.target, view.version, view.host) == ("PUT", "/x?y", "HTTP/1.0", "[::1]")
    assert view.header("content-length") == "3" and view.declares_body()
    assert view.body == b"abc" and view.body_size == 3 and view.scheme == "http"
    assert not RequestView.from_request_line("GET /").declares_body()
    assert RequestView.from_request_line("POST /", headers={"Transfer-Encoding": "chunked"}).declares_body()


def test_query_and_cookie_decoders() -> None:
    assert forms.parse_query("a=1&&b=%41+%42&c") == [("a", "1"), ("b", "A B"), ("c", "")]
    assert forms.parse_cookies([("cookie", "a=1; b = 2 ;; c")]) == [("a", "1"), ("b", "2"), ("c", "")]
    assert forms.media_type(None) == ""
