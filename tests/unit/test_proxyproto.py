"""PROXY protocol headers (HAProxy's spec, v1 text and v2 binary): parsed exactly, or refused."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from edge.proxyproto import V2_SIGNATURE, ProxiedAddress, ProxyHeaderError, header_in, parse_v1, parse_v2


def v2(command: int, family: int, addresses: bytes, tlvs: bytes = b"") -> bytes:
    body = addresses + tlvs
    return V2_SIGNATURE + bytes([0x20 | command, family]) + struct.pack("!H", len(body)) + body


V4 = (
    ipaddress.IPv4Address("198.51.100.9").packed
    + ipaddress.IPv4Address("10.0.0.1").packed
    + struct.pack("!HH", 6000, 443)
)
V6 = (
    ipaddress.IPv6Address("2001:db8::7").packed
    + ipaddress.IPv6Address("2001:db8::1").packed
    + struct.pack("!HH", 7000, 443)
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n", ProxiedAddress("203.0.113.7", 51000)),
        (b"PROXY TCP6 2001:db8::7 2001:db8::1 51000 443\r\n", ProxiedAddress("2001:db8::7", 51000)),
        (b"PROXY UNKNOWN\r\n", ProxiedAddress(None, None)),
    ],
)
def test_v1(line: bytes, expected: ProxiedAddress) -> None:
    assert parse_v1(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 203.0.113.7 10.0.0.1 51000\r\n",
        b"PROXY TCP4 2001:db8::7 10.0.0.1 1 2\r\n",  # family and address disagree
        b"PROXY TCP4 not-an-ip 10.0.0.1 1 2\r\n",
        b"PROXY TCP4 203.0.113.7 10.0.0.1 99999 443\r\n",
        b"PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n",
        b"PROXY TCP4 203.0.113.7 10.0.0.1 1 2\n",
    ],
)
def test_bad_v1_is_refused(line: bytes) -> None:
    with pytest.raises(ProxyHeaderError):
        parse_v1(line)


def test_v2_addresses_local_and_tlvs() -> None:
    assert parse_v2(v2(1, 0x11, V4)) == ProxiedAddress("198.51.100.9", 6000)
    assert parse_v2(v2(1, 0x21, V6, tlvs=b"\x01\x00\x02h2")) == ProxiedAddress("2001:db8::7", 7000)
    assert parse_v2(v2(0, 0x00, b"")) == ProxiedAddress(None, None)  # LOCAL: a health check
    with pytest.raises(ProxyHeaderError):
        parse_v2(v2(2, 0x11, V4))


def test_header_in_reads_exactly_the_header() -> None:
    hello = b"\x16\x03\x01\x02\x00\x01"
    line = b"PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n"
    assert header_in(line + hello) == (len(line), ProxiedAddress("203.0.113.7", 51000))
    header = v2(1, 0x11, V4)
    assert header_in(header + hello) == (len(header), ProxiedAddress("198.51.100.9", 6000))
    assert header_in(hello) == (0, None)  # not a PROXY header: TLS straight away


@pytest.mark.parametrize("cut", [1, 5, 6, 12, 15, 20])
def test_header_in_waits_for_incomplete_headers(cut: int) -> None:
    assert header_in(b"PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n"[:cut]) == (None, None)
    assert header_in(v2(1, 0x11, V4)[:cut]) == (None, None)


def test_overlong_v1_is_refused() -> None:
    with pytest.raises(ProxyHeaderError):
        header_in(b"PROXY TCP4 " + b"1" * 200)
