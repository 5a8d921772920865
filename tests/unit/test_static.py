"""The static phase without sockets: preconditions, If-Range, prefix matching, media types, the config, and
whole answers from `StaticFolders.serve` to an in-memory `send`."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path
from typing import Any

import pytest

from edge.cache.httpdate import format_http_date
from edge.config import ConfigError, parse_config
from edge.exchange import ConnectionInfo, Exchange
from edge.mediatypes import content_type
from edge.preconditions import evaluate_preconditions, if_range_allows
from edge.static import CHUNK, SMALL_FILE, StaticFolders

ETAG = b'"18f2a-400"'
MODIFIED = 1_700_000_000
NOW = MODIFIED + 3600.0
BEFORE, SAME, AFTER = (format_http_date(MODIFIED + d) for d in (-60, 0, 60))

PRECONDITIONS: list[tuple[dict[bytes, bytes], int]] = [
    ({}, 200),
    ({b"if-none-match": ETAG}, 304),
    ({b"if-none-match": b"W/" + ETAG}, 304),  # weak comparison
    ({b"if-none-match": b'"other", ' + ETAG}, 304),
    ({b"if-none-match": b"*"}, 304),
    ({b"if-none-match": b'"other"'}, 200),
    ({b"if-none-match": b'"18f2a-400-gz"'}, 200),  # another encoding's tag
    ({b"if-modified-since": SAME}, 304),
    ({b"if-modified-since": AFTER}, 304),
    ({b"if-modified-since": BEFORE}, 200),
    ({b"if-modified-since": b"yesterday"}, 200),  # an invalid date is ignored
    ({b"if-none-match": b'"other"', b"if-modified-since": AFTER}, 200),  # If-None-Match wins (13.2.2)
    ({b"if-match": ETAG}, 200),
    ({b"if-match": b"*"}, 200),
    ({b"if-match": b'"other"'}, 412),
    ({b"if-match": b"W/" + ETAG}, 412),  # If-Match compares strongly
    ({b"if-unmodified-since": AFTER}, 200),
    ({b"if-unmodified-since": BEFORE}, 412),
    ({b"if-unmodified-since": b"garbage"}, 200),
    ({b"if-match": ETAG, b"if-unmodified-since": BEFORE}, 200),  # If-Unmodified-Since only without If-Match
    ({b"if-match": ETAG, b"if-none-match": ETAG}, 304),
    ({b"if-match": b'"other"', b"if-none-match": ETAG}, 412),
]


@pytest.mark.parametrize(("fields", "expected"), PRECONDITIONS)
def test_preconditions(fields: dict[bytes, bytes], expected: int) -> None:
    assert evaluate_preconditions(fields, ETAG, MODIFIED, NOW) == expected


IF_RANGE = [
    (ETAG, NOW, True),
    (b"W/" + ETAG, NOW, False),  # strong comparison only
    (b'"other"', NOW, False),
    (SAME, NOW, True),
    (AFTER, NOW, False),  # a date must be exactly Last-Modified
    (SAME, MODIFIED + 0.5, False),  # a Last-Modified less than a second old is weak (RFC 9110 8.8.2.2)
    (b"nonsense", NOW, False),
]


@pytest.mark.parametrize(("value", "now", "expected"), IF_RANGE)
def test_if_range(value: bytes, now: float, expected: bool) -> None:
    assert if_range_allows(value, ETAG, MODIFIED, now) is expected


def test_match_takes_the_longest_prefix_and_the_prefix_without_its_slash(tmp_path: Path) -> None:
    folders = StaticFolders.build((("/assets", tmp_path), ("/assets/img/", tmp_path / "img"), ("/", tmp_path)), "")
    assert [m.prefix for m in folders.mounts] == ["/assets/img/", "/assets/", "/"]
    cases = {
        "/assets/img/a.png": ("/assets/img/", "a.png"),
        "/assets/img": ("/assets/img/", None),
        "/assets/app.css": ("/assets/", "app.css"),
        "/assets": ("/assets/", None),
        "/assetsx": ("/", "assetsx"),
        "/": ("/", ""),
    }
    for path, (prefix, rest) in cases.items():
        found = folders.match(path)
        assert found is not None and (found[0].prefix, found[1]) == (prefix, rest), path
    assert StaticFolders.build((("/assets/", tmp_path),), "").match("/other") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.css", b"text/css; charset=utf-8"),
        ("APP.CSS", b"text/css; charset=utf-8"),
        ("app.js", b"text/javascript; charset=utf-8"),
        ("index.html", b"text/html; charset=utf-8"),
        ("font.woff2", b"font/woff2"),
        ("pic.webp", b"image/webp"),
        ("logo.svg", b"image/svg+xml"),
        ("data.json", b"application/json"),
        ("app.css.gz", b"application/gzip"),  # asked for by its own name: what it is
        ("app.css.br", b"application/octet-stream"),
        ("blob", b"application/octet-stream"),
        (".htaccess", b"application/octet-stream"),
        ("x.unknownsuffix", b"application/octet-stream"),
    ],
)
def test_content_type(name: str, expected: bytes) -> None:
    assert content_type(name) == expected


# --- config ----------------------------------------------------------------------------------------------------

SITE = """\
[server]
https = "127.0.0.1:8443"

[[site]]
hosts = ["example.test"]
origins = ["http://127.0.0.1:9000"]
"""


def test_static_config_defaults_and_paths(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "img").mkdir()
    text = SITE + '  [site.static]\n  "/assets/" = "static"\n  "/assets/img" = "img"\n'
    site = parse_config(text, tmp_path / "edge.toml").sites[0]
    assert site.static == (("/assets/img/", tmp_path / "img"), ("/assets/", tmp_path / "static"))
    assert site.static_cache_control == "public, max-age=3600"
    assert parse_config(SITE, tmp_path / "edge.toml").sites[0].static == ()


def test_static_cache_control_is_read(tmp_path: Path) -> None:
    text = SITE + 'static_cache_control = "public, max-age=31536000, immutable"\n'
    assert parse_config(text, tmp_path / "edge.toml").sites[0].static_cache_control.endswith("immutable")
    assert (
        parse_config(SITE + 'static_cache_control = ""\n', tmp_path / "edge.toml").sites[0].static_cache_control == ""
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ('static_cache_control = "public\\r\\nX-Injected: 1"', "without control characters"),
        ("static_cache_control = 3600", "expected a string"),
        ('  [site.static]\n  "/assets/" = "missing"', "is not a directory: create it or fix the path"),
        ('  [site.static]\n  "/a/../b/" = "static"', "as requests carry it once normalised"),
        ('  [site.static]\n  "/%7Euser/" = "static"', "as requests carry it once normalised"),
        ('  [site.static]\n  "assets/" = "static"', '"/url-prefix/" = "folder"'),
        ('  [site.static]\n  "/assets/" = 3', '"/url-prefix/" = "folder"'),
        ('  [site.static]\n  "/assets" = "static"\n  "/assets/" = "static"', "is given twice"),
    ],
)
def test_static_config_errors_name_the_line(tmp_path: Path, lines: str, expected: str) -> None:
    (tmp_path / "static").mkdir()
    with pytest.raises(ConfigError) as info:
        parse_config(SITE + lines + "\n", tmp_path / "edge.toml")
    [problem] = info.value.problems
    assert expected in problem.message
    assert problem.line > 5


# --- whole answers, in memory ----------------------------------------------------------------------------------


class Captured:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[bytes, bytes] = {}
        self.body = b""
        self.messages: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = dict(message["headers"])
        else:
            self.body += message.get("body", b"")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> StaticFolders:
    base = tmp_path_factory.mktemp("static")
    css = b"body { color: red }\n" * 50
    (base / "site.css").write_bytes(css)
    (base / "site.css.gz").write_bytes(gzip.compress(css))
    (base / "site.css.br").write_bytes(b"pretend-brotli")
    (base / "big.bin").write_bytes(os.urandom(CHUNK * 2 + 1000))
    (base / "docs").mkdir()
    (base / "docs" / "index.html").write_text("<h1>docs</h1>")
    (base / "empty").mkdir()
    (base / "out.css").write_bytes(css)
    outside = base.parent / f"{base.name}-outside.gz"
    outside.write_bytes(b"outside the folder")
    os.symlink(outside, base / "out.css.gz")
    return StaticFolders.build((("/assets/", base),), "public, max-age=60")


def answer(
    folders: StaticFolders, path: str, headers: dict[bytes, bytes] | None = None, method: str = "GET"
) -> tuple[int | None, Captured, Exchange]:
    ex = Exchange("rid", 0.0, method, path, "example.test", "127.0.0.1")
    target, _, _ = path.partition("?")
    ex.path, ex.target = target, path.encode()
    out = Captured()
    status = asyncio.run(folders.serve(ex, list((headers or {}).items()), out.send, ConnectionInfo()))
    return status, out, ex


def test_file_with_siblings_negotiates_and_varies(folders: StaticFolders) -> None:
    status, plain, ex = answer(folders, "/assets/site.css")
    assert status == 0 and plain.status == 200 and ex.cache == "static"
    assert plain.headers[b"vary"] == b"accept-encoding" and b"content-encoding" not in plain.headers
    assert plain.headers[b"cache-control"] == b"public, max-age=60"
    assert plain.headers[b"edge-request-id"] == b"rid"
    _, gz, _ = answer(folders, "/assets/site.css", {b"accept-encoding": b"gzip"})
    assert gz.headers[b"content-encoding"] == b"gzip" and gzip.decompress(gz.body) == plain.body
    assert gz.headers[b"content-type"] == b"text/css; charset=utf-8"
    _, br, _ = answer(folders, "/assets/site.css", {b"accept-encoding": b"gzip, br"})
    assert br.headers[b"content-encoding"] == b"br" and br.body == b"pretend-brotli"
    tags = {plain.headers[b"etag"], gz.headers[b"etag"], br.headers[b"etag"]}
    assert len(tags) == 3
    assert ex.bytes_sent == len(plain.body)


def test_a_sibling_symlinked_outside_the_folder_is_not_served(folders: StaticFolders) -> None:
    _, out, _ = answer(folders, "/assets/out.css", {b"accept-encoding": b"gzip"})
    assert out.status == 200 and b"content-encoding" not in out.headers and out.body.startswith(b"body")
    assert out.headers[b"vary"] == b"accept-encoding"  # something is there: Vary costs nothing when wrong


def test_big_file_streams_in_chunks_and_ranges_cross_them(folders: StaticFolders) -> None:
    status, whole, ex = answer(folders, "/assets/big.bin")
    assert (status, whole.status) == (0, 200)
    assert len(whole.body) == CHUNK * 2 + 1000 > SMALL_FILE
    assert len([m for m in whole.messages if m["type"] == "http.response.body"]) == 3
    assert ex.bytes_sent == len(whole.body) and b"vary" not in whole.headers
    _, part, _ = answer(folders, "/assets/big.bin", {b"range": b"bytes=%d-%d" % (CHUNK - 10, CHUNK + 9)})
    assert part.status == 206 and part.body == whole.body[CHUNK - 10 : CHUNK + 10]
    assert part.headers[b"content-range"] == b"bytes %d-%d/%d" % (CHUNK - 10, CHUNK + 9, len(whole.body))
    _, head, _ = answer(folders, "/assets/big.bin", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers[b"content-length"] == b"%d" % len(whole.body)


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/assets/docs/", "GET", 200),
        ("/assets/docs", "GET", 301),
        ("/assets/docs?x=1", "GET", 301),
        ("/assets/empty/", "GET", 404),  # no index.html: never a listing
        ("/assets/empty", "GET", 404),
        ("/assets/site.css/", "GET", 404),
        ("/assets/missing.css", "GET", 404),
        ("/assets/site.css", "POST", 405),
        ("/assets/missing.css", "DELETE", 405),
        ("/other", "GET", None),
    ],
)
def test_folders_methods_and_misses(folders: StaticFolders, path: str, method: str, expected: int | None) -> None:
    status, out, ex = answer(folders, path, method=method)
    if expected in (200, 301):
        assert status == 0 and out.status == expected
    else:
        assert status == expected and out.messages == []
    if expected == 301:
        assert out.headers[b"location"] == path.replace("/docs", "/docs/").encode()
    if expected == 405:
        assert (b"allow", b"GET, HEAD") in ex.response_headers


def test_unsatisfiable_range_and_not_modified(folders: StaticFolders) -> None:
    status, _, ex = answer(folders, "/assets/site.css", {b"range": b"bytes=99999-"})
    assert status == 416 and (b"content-range", b"bytes */1000") in ex.response_headers
    _, first, _ = answer(folders, "/assets/site.css", {b"accept-encoding": b"gzip"})
    etag = first.headers[b"etag"]
    _, again, _ = answer(folders, "/assets/site.css", {b"accept-encoding": b"gzip", b"if-none-match": etag})
    assert again.status == 304 and again.body == b""
    assert again.headers[b"etag"] == etag and again.headers[b"vary"] == b"accept-encoding"
    assert again.headers[b"cache-control"] == b"public, max-age=60" and b"content-length" not in again.headers
    _, other, _ = answer(folders, "/assets/site.css", {b"if-none-match": etag})  # the gzip tag, identity asked
    assert other.status == 200


def test_a_failing_read_is_a_503_before_the_head_and_a_cut_connection_after(
    folders: StaticFolders, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(fd: int, size: int, offset: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "pread", failing)
    status, out, ex = answer(folders, "/assets/site.css")
    assert status == 503 and out.messages == [] and ex.error == "static: Input/output error"
    aborted: list[bool] = []

    class Transport:
        def close(self) -> None:
            aborted.append(True)

    conn = ConnectionInfo(transport=Transport())
    big = Exchange("rid", 0.0, "GET", "/assets/big.bin", "example.test", "127.0.0.1")
    captured = Captured()
    assert asyncio.run(folders.serve(big, [], captured.send, conn)) == 0
    assert captured.status == 200 and aborted == [True]
