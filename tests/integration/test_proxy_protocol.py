"""PROXY protocol v1/v2 before TLS from trusted load balancers: the client address they announce is the one
edge forwards, logs and rate-limits by; nobody else can announce one."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import struct

import pytest

from .harness import DemoOrigin, Gateway, GatewayFactory, tls_client_context

V1 = b"PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n"
V2 = (
    b"\r\n\r\n\x00\r\nQUIT\n"
    + bytes([0x21, 0x11])
    + struct.pack("!H", 12)
    + ipaddress.IPv4Address("198.51.100.9").packed
    + ipaddress.IPv4Address("10.0.0.1").packed
    + struct.pack("!HH", 6000, 443)
)


PROXY_ADDRESS = "127.0.0.2"  # the load balancer: trusted, unlike 127.0.0.1 (the harness and ordinary clients)


def echo(gateway: Gateway, prefix: bytes, headers: str = "", source: str = PROXY_ADDRESS) -> tuple[dict[str, str], str]:
    """One request after `prefix` on a raw connection from `source`; the headers the origin saw, the request id."""
    raw = socket.create_connection(("127.0.0.1", gateway.https_port), timeout=5, source_address=(source, 0))
    tls: ssl.SSLSocket | None = None
    try:
        raw.sendall(prefix)
        tls = tls_client_context(gateway.ca_path).wrap_socket(raw, server_hostname="localhost")
        tls.sendall(f"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    finally:
        if tls is not None:
            tls.close()
        raw.close()
    head, _, body = data.partition(b"\r\n\r\n")
    request_id = next(
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"edge-request-id")
    )
    return dict(json.loads(body)["headers"]), request_id


@pytest.fixture
def gateway(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}],
        server={"trusted_proxies": [f"{PROXY_ADDRESS}/32"], "proxy_protocol": True},
    )


@pytest.mark.parametrize(("prefix", "client"), [(V1, "203.0.113.7"), (V2, "198.51.100.9")])
def test_announced_client_is_forwarded_and_logged(gateway: Gateway, prefix: bytes, client: str) -> None:
    seen, request_id = echo(gateway, prefix, headers="X-Forwarded-For: 192.0.2.66\r\n")
    assert seen["x-forwarded-for"] == client  # the announced client's own XFF is not trusted
    assert seen["forwarded"].startswith(f"for={client};")
    assert gateway.log_for(request_id)["client"] == client


def test_connection_without_header_is_refused(gateway: Gateway) -> None:
    with pytest.raises((ssl.SSLError, OSError)):
        echo(gateway, b"")
    assert "no PROXY header" in gateway.stderr_text()


def test_untrusted_peer_cannot_announce_a_client(gateway: Gateway) -> None:
    seen, request_id = echo(gateway, V1, source="127.0.0.1")
    assert seen["x-forwarded-for"] == "127.0.0.1"  # the header was read, its address not believed
    assert gateway.log_for(request_id)["client"] == "127.0.0.1"
