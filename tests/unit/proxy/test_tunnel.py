"""The pure decisions of WebSocket tunnels: which handshakes are tunnelled, which 101s are accepted."""

from __future__ import annotations

import pytest

from edge.proxy.forward import request_head
from edge.proxy.tunnel import (
    UPGRADE_HEADERS,
    WEBSOCKET,
    accept_value,
    handshake_problem,
    requested_upgrade,
    switch_problem,
    switching_head,
)

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3's example
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
HANDSHAKE = [
    (b"host", b"chat.test"),
    (b"upgrade", b"websocket"),
    (b"connection", b"Upgrade"),
    (b"sec-websocket-key", KEY),
    (b"sec-websocket-version", b"13"),
]


def test_accept_value_is_rfc_6455s_example() -> None:
    assert accept_value(KEY) == ACCEPT


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ([(b"upgrade", b"websocket")], WEBSOCKET),
        ([(b"upgrade", b" WebSocket ")], WEBSOCKET),
        ([(b"upgrade", b"h2c")], b"h2c"),
        ([(b"upgrade", b"websocket, h2c")], b"websocket, h2c"),
        ([(b"upgrade", b"websocket"), (b"upgrade", b"websocket")], b"websocket, websocket"),
        ([], b""),
    ],
)
def test_requested_upgrade_is_websocket_only_when_it_says_exactly_that(
    headers: list[tuple[bytes, bytes]], token: bytes
) -> None:
    assert requested_upgrade(headers) == token


def test_a_well_formed_handshake_passes() -> None:
    assert handshake_problem("GET", "1.1", HANDSHAKE, body_length=0, chunked=False) is None


@pytest.mark.parametrize(
    ("method", "version", "headers", "length", "chunked", "problem"),
    [
        ("POST", "1.1", HANDSHAKE, 0, False, "must be GET"),
        ("GET", "1.0", HANDSHAKE, 0, False, "must be GET over HTTP/1.1"),
        ("GET", "1.1", HANDSHAKE, 5, False, "with a body"),
        ("GET", "1.1", HANDSHAKE, 0, True, "with a body"),
        ("GET", "1.1", HANDSHAKE[:3], 0, False, "Sec-WebSocket-Key"),
        ("GET", "1.1", [*HANDSHAKE, (b"sec-websocket-key", KEY)], 0, False, "Sec-WebSocket-Key"),
        ("GET", "1.1", [*HANDSHAKE[:3], (b"sec-websocket-key", b"c2hvcnQ=")], 0, False, "Sec-WebSocket-Key"),
        ("GET", "1.1", [*HANDSHAKE[:3], (b"sec-websocket-key", b"not base64!")], 0, False, "Sec-WebSocket-Key"),
    ],
)
def test_malformed_handshakes_are_refused(
    method: str, version: str, headers: list[tuple[bytes, bytes]], length: int, chunked: bool, problem: str
) -> None:
    found = handshake_problem(method, version, headers, body_length=length, chunked=chunked)
    assert found is not None and problem in found


def test_a_real_accept_switches() -> None:
    response = [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"), (b"Sec-WebSocket-Accept", ACCEPT)]
    assert switch_problem(HANDSHAKE, response) is None


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ([(b"Connection", b"Upgrade"), (b"Sec-WebSocket-Accept", ACCEPT)], "not to websocket"),
        ([(b"Upgrade", b"h2c"), (b"Sec-WebSocket-Accept", ACCEPT)], "not to websocket"),
        ([(b"Upgrade", b"websocket"), (b"Sec-WebSocket-Accept", ACCEPT)], "Connection: upgrade"),
        ([(b"Upgrade", b"websocket"), (b"Connection", b"keep-alive")], "Connection: upgrade"),
        ([(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")], "Sec-WebSocket-Accept"),
        (
            [(b"Upgrade", b"websocket"), (b"Connection", b"upgrade"), (b"Sec-WebSocket-Accept", accept_value(b"x"))],
            "Sec-WebSocket-Accept",
        ),
        (
            [
                (b"Upgrade", b"websocket"),
                (b"Connection", b"keep-alive, Upgrade"),
                (b"Sec-WebSocket-Accept", ACCEPT),
                (b"Sec-WebSocket-Accept", ACCEPT),
            ],
            "Sec-WebSocket-Accept",
        ),
    ],
)
def test_a_101_that_is_not_this_requests_accept_does_not_switch(
    response: list[tuple[bytes, bytes]], problem: str
) -> None:
    found = switch_problem(HANDSHAKE, response)
    assert found is not None and problem in found


def test_forwarded_handshake_states_the_upgrade_once() -> None:
    """The client's Connection and Upgrade are hop-by-hop and dropped; edge states its own; Sec-WebSocket-*
    pass; a Connection that names protected headers removes none of them."""
    client = [*HANDSHAKE, (b"sec-websocket-protocol", b"chat"), (b"connection", b"Upgrade, Host, X-Forwarded-For")]
    head = request_head(
        "GET",
        b"/ws",
        client,
        client_ip="203.0.113.9",
        trusted_peer=False,
        host=b"chat.test",
        length=None,
        chunked=False,
        extra=UPGRADE_HEADERS,
    )
    lines = head.split(b"\r\n")
    assert [line for line in lines if line.lower().startswith((b"connection:", b"upgrade:"))] == [
        b"connection: upgrade",
        b"upgrade: websocket",
    ]
    assert b"sec-websocket-key: " + KEY in lines
    assert b"sec-websocket-protocol: chat" in lines
    assert b"host: chat.test" in lines
    assert b"x-forwarded-for: 203.0.113.9" in lines


def test_switching_head() -> None:
    assert switching_head([(b"upgrade", b"websocket")]) == (
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n"
    )
