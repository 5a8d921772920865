"""`[site.static]` through the real gateway: files answered by edge itself, after the WAF and rate limits.

One gateway for the module serves `/assets/` from a `static` folder beside its edge.toml, so that the
traversal attempts have a real target one level up (`../edge.toml`). The demo origin's `/count` proves that
nothing under the prefix reaches it, 404s and 405s included. Encoded traversal attempts go as raw bytes over
TLS, since an HTTP client library would normalise or refuse them before they left.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from .harness import LOOPBACK, DemoOrigin, Gateway, GatewayFactory, PortTaken, Response

CACHE_CONTROL = "public, max-age=600"
CSS = b"/* site */\nbody { margin: 0; color: #222; }\n" * 24
BROTLI = b"\x1b\x7f\x00 pretend-brotli bytes"  # never decoded by edge: any bytes do
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
BIG = os.urandom(1024 * 1024)

RULES = {
    "static.toml": """\
[[rule]]
id = "static-private"
expr = 'starts_with(http.request.uri.path, "/assets/private/")'
action = "block"

[[ratelimit]]
id = "static-limited"
expr = 'http.request.uri.path eq "/assets/limited.txt"'
limit = "2/minute"
key = 'http.request.uri.query'
"""
}


def populate(static: Path) -> None:
    (static / "docs").mkdir(parents=True)
    (static / "empty").mkdir()
    (static / "private").mkdir()
    (static / ".well-known").mkdir()
    (static / "hello.txt").write_bytes(b"hello static\n")
    (static / "limited.txt").write_bytes(b"limited\n")
    (static / "app.css").write_bytes(CSS)
    (static / "app.css.gz").write_bytes(gzip.compress(CSS))
    (static / "app.css.br").write_bytes(BROTLI)
    (static / "logo.png").write_bytes(PNG)
    (static / "big.bin").write_bytes(BIG)
    (static / "docs" / "index.html").write_bytes(b"<!doctype html><title>docs</title>\n")
    (static / "private" / "secret.txt").write_bytes(b"not for you\n")
    (static / ".well-known" / "security.txt").write_bytes(b"Contact: mailto:security@example.test\n")
    os.symlink("hello.txt", static / "link-in")
    os.symlink("../edge.toml", static / "link-out")


@pytest.fixture(scope="module")
def gateway(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    site = {
        "hosts": ["localhost"],
        "origins": [origin_a.url],
        "static_cache_control": CACHE_CONTROL,
        "static": {'"/assets/"': "static"},
        "hsts": "max-age=31536000",  # opt-in: static answers carry the site's HSTS like every other answer
    }
    for attempt in range(3):
        gateway = module_factory.prepare([site], rules=RULES)
        populate(gateway.folder / "static")
        try:
            return gateway.start()
        except PortTaken:
            module_factory.gateways.remove(gateway)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@pytest.fixture
def untouched(origin_a: DemoOrigin) -> Iterator[None]:
    """The test's requests must not reach the origin."""
    before = origin_a.count()
    yield
    assert origin_a.count() == before, "a request under the static prefix reached the origin"


def get(gateway: Gateway, path: str, method: str = "GET", **headers: str) -> Response:
    return gateway.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})


def raw_get(gateway: Gateway, target: bytes) -> bytes:
    """One request with exactly this target, as raw bytes over TLS; the whole answer."""
    context = gateway.ssl_context(check_hostname=False)
    with (
        socket.create_connection((LOOPBACK, gateway.https_port), 5) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
        return answer


# --- what is served ----------------------------------------------------------------------------------------------


def test_file_with_type_cache_control_edge_headers_and_log_line(gateway: Gateway, untouched: None) -> None:
    resp = get(gateway, "/assets/hello.txt")
    assert resp.status == 200 and resp.body == b"hello static\n"
    assert resp.header("Content-Type") == "text/plain; charset=utf-8"
    assert resp.header("Content-Length") == "13"
    assert resp.header("Cache-Control") == CACHE_CONTROL
    assert resp.header("Accept-Ranges") == "bytes"
    assert (resp.header("ETag") or "").startswith('"')
    mtime = (gateway.folder / "static" / "hello.txt").stat().st_mtime
    assert resp.header("Last-Modified") == formatdate(int(mtime), usegmt=True)
    assert resp.header("Strict-Transport-Security") == "max-age=31536000" and resp.header("Date")
    assert resp.request_id and resp.header("Vary") is None and resp.header("Content-Encoding") is None
    line = gateway.log_for(resp.request_id)
    assert (line["status"], line["bytes"], line["cache"], line["origin"]) == (200, 13, "static", None)
    assert line["path"] == "/assets/hello.txt"


def test_head_binary_hidden_file_and_symlink_inside(gateway: Gateway, untouched: None) -> None:
    head = get(gateway, "/assets/logo.png", "HEAD")
    assert head.status == 200 and head.body == b""
    assert head.header("Content-Length") == str(len(PNG)) and head.header("Content-Type") == "image/png"
    assert head.header("Cache-Control") == CACHE_CONTROL and head.request_id
    png = get(gateway, "/assets/logo.png")
    assert png.body == PNG and png.header("ETag") == head.header("ETag")
    hidden = get(gateway, "/assets/.well-known/security.txt")
    assert hidden.status == 200 and hidden.body.startswith(b"Contact:")
    link = get(gateway, "/assets/link-in")
    assert link.status == 200 and link.body == b"hello static\n"


def test_one_mebibyte_file_and_ranges(gateway: Gateway, untouched: None) -> None:
    whole = get(gateway, "/assets/big.bin")
    assert whole.status == 200 and hashlib.sha256(whole.body).digest() == hashlib.sha256(BIG).digest()
    assert gateway.log_for(whole.request_id or "")["bytes"] == len(BIG)
    middle = get(gateway, "/assets/big.bin", range="bytes=300000-700000")
    assert middle.status == 206 and middle.body == BIG[300000:700001]
    assert middle.header("Content-Range") == f"bytes 300000-700000/{len(BIG)}"
    assert middle.header("Cache-Control") == CACHE_CONTROL and middle.request_id
    tail = get(gateway, "/assets/hello.txt", range="bytes=-7")
    assert tail.status == 206 and tail.body == b"static\n" and tail.header("Content-Range") == "bytes 6-12/13"
    beyond = get(gateway, "/assets/hello.txt", range="bytes=100-")
    assert beyond.status == 416 and beyond.header("Content-Range") == "bytes */13" and beyond.request_id
    several = get(gateway, "/assets/hello.txt", range="bytes=0-1,4-5")
    assert several.status == 200 and several.body == b"hello static\n"  # several ranges: the whole file
    other_unit = get(gateway, "/assets/hello.txt", range="items=0-1")
    assert other_unit.status == 200  # a Range edge cannot read is ignored (RFC 9110 section 14.2), not a 400
    stale = get(gateway, "/assets/hello.txt", range="bytes=0-4", if_range='"not-the-etag"')
    assert stale.status == 200 and stale.body == b"hello static\n"
    fresh = get(gateway, "/assets/hello.txt", range="bytes=0-4", if_range=whole_etag(gateway, "/assets/hello.txt"))
    assert fresh.status == 206 and fresh.body == b"hello"


def whole_etag(gateway: Gateway, path: str) -> str:
    etag = get(gateway, path).header("ETag")
    assert etag is not None
    return etag


def test_conditional_requests_get_304_with_etag_and_cache_control(gateway: Gateway, untouched: None) -> None:
    first = get(gateway, "/assets/hello.txt")
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and modified
    by_tag = get(gateway, "/assets/hello.txt", if_none_match=etag)
    assert by_tag.status == 304 and by_tag.body == b""
    assert by_tag.header("ETag") == etag and by_tag.header("Cache-Control") == CACHE_CONTROL
    assert by_tag.request_id and by_tag.header("Strict-Transport-Security")
    assert gateway.log_for(by_tag.request_id)["status"] == 304
    by_date = get(gateway, "/assets/hello.txt", if_modified_since=modified)
    assert by_date.status == 304
    older = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
    assert get(gateway, "/assets/hello.txt", if_modified_since=older).status == 200
    assert get(gateway, "/assets/hello.txt", if_none_match='"other"', if_modified_since=modified).status == 200
    assert get(gateway, "/assets/hello.txt", if_match='"other"').status == 412


def test_precompressed_siblings_follow_accept_encoding(gateway: Gateway, untouched: None) -> None:
    plain = get(gateway, "/assets/app.css")
    assert plain.body == CSS and plain.header("Content-Encoding") is None
    assert plain.header("Vary") == "accept-encoding"  # a sibling exists, so even identity varies
    gz = get(gateway, "/assets/app.css", accept_encoding="gzip, deflate")
    assert gz.header("Content-Encoding") == "gzip" and gzip.decompress(gz.body) == CSS
    assert gz.header("Content-Type") == "text/css; charset=utf-8" and gz.header("Vary") == "accept-encoding"
    br = get(gateway, "/assets/app.css", accept_encoding="gzip, deflate, br, zstd")
    assert br.header("Content-Encoding") == "br" and br.body == BROTLI
    assert get(gateway, "/assets/app.css", accept_encoding="gzip;q=0.5, br;q=0.1").header("Content-Encoding") == "gzip"
    assert get(gateway, "/assets/app.css", accept_encoding="br;q=0, gzip;q=0").header("Content-Encoding") is None
    assert get(gateway, "/assets/app.css", accept_encoding="identity;q=0, gzip").header("Content-Encoding") == "gzip"
    tags = [r.header("ETag") for r in (plain, gz, br)]
    assert len(set(tags)) == 3
    again = get(gateway, "/assets/app.css", accept_encoding="gzip", if_none_match=str(gz.header("ETag")))
    assert again.status == 304 and again.header("Vary") == "accept-encoding"
    assert get(gateway, "/assets/app.css", if_none_match=str(gz.header("ETag"))).status == 200  # another variant
    assert get(gateway, "/assets/hello.txt", accept_encoding="gzip").header("Vary") is None  # no sibling


def test_folders_index_redirect_and_never_a_listing(gateway: Gateway, untouched: None) -> None:
    index = get(gateway, "/assets/docs/")
    assert index.status == 200 and index.body.startswith(b"<!doctype html>")
    assert index.header("Content-Type") == "text/html; charset=utf-8"
    moved = get(gateway, "/assets/docs?v=2")
    assert moved.status == 301 and moved.header("Location") == "/assets/docs/?v=2" and moved.request_id
    for path in ("/assets/empty/", "/assets/empty", "/assets/", "/assets"):
        resp = get(gateway, path)
        assert resp.status == 404, path
        assert b"hello.txt" not in resp.body and b"index" not in resp.body
        assert resp.header("Cache-Control") == "no-store"
    assert get(gateway, "/assets/missing.css").status == 404
    assert get(gateway, "/assets/hello.txt/").status == 404


def test_only_get_and_head(gateway: Gateway, untouched: None) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        resp = gateway.request(method, "/assets/hello.txt", body=b"x" if method in ("POST", "PUT") else None)
        assert resp.status == 405, method
        assert resp.header("Allow") == "GET, HEAD" and resp.request_id


# (target, who answers): "edge" when the path stays under /assets/ and the static phase refuses it with a 404;
# "origin" when the head phase's normalisation already resolved it out of the prefix (to /edge.toml).
TRAVERSALS = [
    (b"/assets/..%2f..%2fedge.toml", "edge"),  # an encoded slash is not a separator
    (b"/assets/..%2F..%2Fedge.toml", "edge"),
    (b"/assets/%2e%2e%2fedge.toml", "edge"),
    (b"/assets/..%5cedge.toml", "edge"),  # nor an encoded backslash
    (b"/assets/..%5c..%5cedge.toml", "edge"),
    (b"/assets/x%00.css", "edge"),  # NUL
    (b"/assets/hello.txt%00.css", "edge"),
    (b"/assets/link-out", "edge"),  # a symlink to ../edge.toml
    (b"/assets/%2e%2e/edge.toml", "origin"),  # decoded and resolved at the door: /edge.toml
    (b"/assets/../edge.toml", "origin"),
    (b"/assets/..\\edge.toml", "origin"),  # a raw backslash is a separator at the door, then resolved
]


@pytest.mark.parametrize(("target", "answers"), TRAVERSALS)
def test_traversal_attempts_never_read_outside_the_folder(gateway: Gateway, target: bytes, answers: str) -> None:
    answer = raw_get(gateway, target)
    secret = gateway.config_path.read_bytes()
    assert answer.startswith(b"HTTP/1.1 "), answer[:100]
    assert b"[server]" not in answer and secret[:40] not in answer
    if answers == "origin":
        assert b"Hello from the alpha origin" in answer
    else:
        assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
        assert b"edge-request-id" in answer.lower()


def test_refused_traversals_do_not_reach_the_origin(gateway: Gateway, untouched: None) -> None:
    for target, answers in TRAVERSALS:
        if answers == "edge":
            assert raw_get(gateway, target).startswith(b"HTTP/1.1 404"), target


# --- phase order and live config -----------------------------------------------------------------------------------


def test_waf_and_rate_limits_run_before_the_static_phase(gateway: Gateway, untouched: None) -> None:
    blocked = get(gateway, "/assets/private/secret.txt")
    assert blocked.status == 403 and b"not for you" not in blocked.body
    line = gateway.log_for(blocked.request_id or "")
    assert line["waf"]["rules"] == ["static-private"] and line["cache"] is None
    run = f"/assets/limited.txt?run={time.time_ns()}"  # a counter of its own, should the test be rerun
    statuses = [get(gateway, run).status for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_a_prefix_added_to_edge_toml_is_served_live(gateway: Gateway, origin_a: DemoOrigin) -> None:
    more = gateway.folder / "more"
    more.mkdir(exist_ok=True)
    (more / "new.txt").write_bytes(b"new prefix\n")
    assert b"alpha origin" in get(gateway, "/more/new.txt").body  # not a static prefix yet: the origin's
    text = gateway.config_path.read_text()
    gateway.config_path.write_text(text.replace('"/assets/" = "static"', '"/assets/" = "static", "/more/" = "more"'))
    deadline = time.monotonic() + 5
    while get(gateway, "/more/new.txt").body != b"new prefix\n":
        assert time.monotonic() < deadline, gateway.stderr_text()[-2000:]
        time.sleep(0.1)
    before = origin_a.count()
    assert get(gateway, "/more/new.txt").header("Cache-Control") == CACHE_CONTROL
    assert get(gateway, "/more/missing.txt").status == 404
    assert get(gateway, "/assets/hello.txt").status == 200
    assert origin_a.count() == before
