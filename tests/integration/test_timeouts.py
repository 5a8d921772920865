"""Slow clients against every listener: client_header_timeout, client_body_timeout, keepalive_timeout, and the
bound on open connections. Real slow clients (raw sockets that stall or trickle) against the real gateway."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from .harness import LOOPBACK, DemoOrigin, Gateway, GatewayFactory
from .test_smuggling import read_all, statuses

TIMEOUTS = {"client_header_timeout": "1s", "client_body_timeout": "1s", "keepalive_timeout": "1s"}
LIMIT = 2.6  # a 1 s deadline, checked twice a second, plus scheduling slack on a loaded machine


@pytest.fixture(scope="module")
def slow(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return module_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}], server={**TIMEOUTS, "max_connections": 16}
    )


def tls(gateway: Gateway) -> ssl.SSLSocket:
    sock = socket.create_connection((LOOPBACK, gateway.https_port), 5)
    return gateway.ssl_context(check_hostname=False).wrap_socket(sock, server_hostname="localhost")


def closed_within(sock: socket.socket | ssl.SSLSocket, seconds: float) -> tuple[float, bytes]:
    """Wait for the peer to close; (how long it took, what it sent before)."""
    started = time.monotonic()
    data = read_all(sock, seconds + 3, quiet=seconds + 3)
    return time.monotonic() - started, data


def plain(port: int) -> socket.socket:
    return socket.create_connection((LOOPBACK, port), 5)


def test_idle_tls_connection_is_closed(slow: Gateway) -> None:
    with tls(slow) as sock:
        took, data = closed_within(sock, LIMIT)
    assert took < LIMIT and data == b""


def test_tcp_connection_that_never_starts_tls_is_closed(slow: Gateway) -> None:
    with plain(slow.https_port) as sock:
        took, _ = closed_within(sock, LIMIT)
    assert took < LIMIT


def test_partial_head_gets_408(slow: Gateway) -> None:
    with tls(slow) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        took, data = closed_within(sock, LIMIT)
    assert took < LIMIT
    assert statuses(data) == [408]
    request_id = next(line.split(b": ")[1] for line in data.split(b"\r\n") if line.startswith(b"edge-request-id"))
    assert slow.log_for(request_id.decode())["status"] == 408


def test_trickled_head_is_cut_at_the_deadline(slow: Gateway) -> None:
    """One byte every 0.2 s keeps the connection busy but the head never completes in time (slowloris)."""
    started = time.monotonic()
    with tls(slow) as sock:
        sock.settimeout(0.2)
        answer = b""
        for byte in b"GET /slowloris HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
                answer += sock.recv(4096)
            except TimeoutError:
                continue
            except (OSError, ssl.SSLError):
                break
            if answer:
                break
            if time.monotonic() - started > LIMIT + 2:
                break
    assert statuses(answer) == [408]
    assert time.monotonic() - started < LIMIT + 0.5


def test_stalled_body_gets_408(slow: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    with tls(slow) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nabc"
        )
        took, data = closed_within(sock, LIMIT)
    assert took < LIMIT
    assert statuses(data) == [408]
    request_id = next(line.split(b": ")[1] for line in data.split(b"\r\n") if line.startswith(b"edge-request-id"))
    line = slow.log_for(request_id.decode())
    assert line["status"] == 408 and "client_body_timeout" in line["error"]
    assert origin_a.count() - before <= 1  # the origin may have seen the start; it never gets a complete request


def test_slow_but_steady_body_is_not_cut(slow: Gateway) -> None:
    """The body timeout is between two reads, not for the whole body."""
    with tls(slow) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\n")
        for piece in (b"a", b"b", b"c", b"d"):
            time.sleep(0.6)
            sock.sendall(piece)
        answer = read_all(sock, 5)
    assert statuses(answer) == [200]


def test_idle_keepalive_connection_is_closed_and_a_prompt_one_serves(slow: Gateway) -> None:
    with tls(slow) as sock:
        for _ in range(3):
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert statuses(read_all(sock, 5, quiet=0.3)) == [200]
            time.sleep(0.3)
        took, data = closed_within(sock, LIMIT)
    assert took < LIMIT and data == b""


def test_plain_http_listener_has_the_same_timeouts(slow: Gateway) -> None:
    with plain(slow.http_port) as idle:
        took, data = closed_within(idle, LIMIT)
    assert took < LIMIT and data == b""
    with plain(slow.http_port) as partial:
        partial.sendall(b"GET / HTTP/1.1\r\nHost: loc")
        took, data = closed_within(partial, LIMIT)
    assert took < LIMIT and statuses(data) == [408]


def test_admin_listener_has_the_same_timeouts(slow: Gateway) -> None:
    with plain(slow.admin_port) as partial:
        partial.sendall(b"GET /status HTTP/1.1\r\n")
        took, data = closed_within(partial, LIMIT)
    assert took < LIMIT and statuses(data) == [408]


def test_connections_over_the_bound_are_closed_with_a_log_line(
    module_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gateway = module_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}], server={"max_connections": 16}
    )
    held = [tls(gateway) for _ in range(16)]
    try:
        with tls(gateway) as extra:
            took, data = closed_within(extra, 3)
        assert data == b"" and took < 3
        deadline = time.monotonic() + 3
        while "max_connections (16) reached" not in gateway.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "max_connections (16) reached" in gateway.stderr_text()
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    assert gateway.request("GET", "/").status == 200  # room again once the others closed
