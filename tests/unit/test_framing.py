"""The request-head facts edge reads itself, and the heads it refuses (smuggling, Host confusion)."""

from __future__ import annotations

import pytest

from edge import framing
from edge.framing import host_name, scan_head, valid_host

H = b"host"


def scan(*headers: tuple[bytes, bytes], version: str = "1.1", authority: bytes | None = None):  # type: ignore[no-untyped-def]
    return scan_head(list(headers), version, authority)


def test_plain_head() -> None:
    head = scan((H, b"shop.test"), (b"content-length", b"12"), (b"x-forwarded-for", b"1.2.3.4"))
    assert head.status == 0
    assert (head.host, head.body_length, head.has_length, head.chunked) == (b"shop.test", 12, True, False)
    assert head.forwarded_for == b"1.2.3.4"


def test_length_with_whitespace_llhttp_accepts_is_read_as_a_number() -> None:
    head = scan((H, b"a.test"), (b"content-length", b"45 "))
    assert head.status == 0 and head.body_length == 45


@pytest.mark.parametrize("value", [b"", b"abc", b"+5", b"5,5", b"1" * 19, b"-1", b"0x10"])
def test_unusable_length_is_refused(value: bytes) -> None:
    assert scan((H, b"a.test"), (b"content-length", value)).status == 400


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (b"chunked", 0),
        (b"Chunked", 0),
        (b" chunked\t", 0),
        (b"gzip, chunked", 501),
        (b"xchunked", 400),
        (b"chunked, gzip", 400),
        (b"identity", 400),
        (b"chunked,chunked", 400),
        (b"x-y, chunked", 400),
    ],
)
def test_transfer_encoding_must_be_exactly_chunked(value: bytes, status: int) -> None:
    head = scan((H, b"a.test"), (b"transfer-encoding", value))
    assert head.status == status
    assert head.chunked == (status == 0)


def test_two_transfer_encoding_headers_are_refused() -> None:
    assert scan((H, b"a"), (b"transfer-encoding", b"chunked"), (b"transfer-encoding", b"chunked")).status == 400


def test_chunked_with_length_or_in_http_1_0_is_refused() -> None:
    assert scan((H, b"a"), (b"transfer-encoding", b"chunked"), (b"content-length", b"3")).status == 400
    assert scan((H, b"a"), (b"transfer-encoding", b"chunked"), version="1.0").status == 400


def test_duplicate_host_and_content_type_are_refused() -> None:
    assert scan((H, b"a.test"), (H, b"b.test")).status == 400
    assert scan((H, b"a.test"), (H, b"a.test")).status == 400
    assert scan((H, b"a"), (b"content-type", b"text/plain"), (b"content-type", b"application/json")).status == 400


def test_missing_host_is_refused_in_http_1_1_only() -> None:
    assert scan().status == 400
    assert scan(version="1.0").status == 0


@pytest.mark.parametrize(
    "host",
    [
        b"localhost",
        b"a.test",
        b"A.Test:8443",
        b"xn--bcher-kva.example",
        b"127.0.0.1",
        b"127.0.0.1:80",
        b"[::1]",
        b"[::1]:8443",
        b"[2001:db8::7]",
        b"example.com.",
        b"a-b.c-d.test",
        b"1.test",
    ],
)
def test_valid_hosts(host: bytes) -> None:
    assert valid_host(host)
    assert host_name(host) == host_name(host) == scan((H, host)).name != ""  # the memo answers the same


def test_host_names_are_remembered_only_when_valid_and_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "_NAMES", {})
    monkeypatch.setattr(framing, "_NAMES_MAX", 3)
    assert host_name(b"WWW.Example.TEST.:8443") == "www.example.test"
    assert host_name(b"[2001:DB8::7]:443") == "2001:db8::7"
    assert host_name(b"a_b.test") is None and host_name(b"a_b.test") is None
    assert set(framing._NAMES) == {b"WWW.Example.TEST.:8443", b"[2001:DB8::7]:443"}
    for n in range(10):
        assert host_name(b"h%d.test" % n) == f"h{n}.test"
        assert len(framing._NAMES) <= 3


@pytest.mark.parametrize(
    "host",
    [
        b"",
        b"a;b.test",
        b"evil@a.test",
        b"a.test?x",
        b"a.test,b.test",
        b"a test",
        b"a.test/x",
        b"-a.test",
        b"a-.test",
        b"a..test",
        b"[::1",
        b"[zz::1]",
        b"[::1]x",
        b"a.test:",
        b"a.test:99999",
        b"a.test:8a",
        b"a_b.test",
        b"a.test\x00",
        b'a"b',
        b"a." + b"b" * 64 + b".test",
        b".a.test",
    ],
)
def test_invalid_hosts(host: bytes) -> None:
    assert not valid_host(host)
    assert host_name(host) is None
    assert scan((H, host)).status == 400


@pytest.mark.parametrize(
    ("authority", "host", "ok"),
    [
        (b"a.test", b"a.test", True),
        (b"A.test:443", b"a.test", True),
        (b"a.test", b"b.test", False),
        (b"a.test:8443", b"a.test", False),
        (b"[::1]:8443", b"[::1]:8443", True),
    ],
)
def test_absolute_form_authority_must_match_host(authority: bytes, host: bytes, ok: bool) -> None:
    assert (scan((H, host), authority=authority).status == 0) is ok
