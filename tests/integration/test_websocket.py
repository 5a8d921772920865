"""WebSockets through the real gateway over TLS, to a real WebSocket echo origin (the `websockets` package).

The origin records every handshake request it reads (path and headers) and every close code it receives, so
the tests see what edge forwarded and what it kept away. Frames are never parsed by edge: text, a 1 MiB
binary message, ping/pong, close codes both ways and the negotiated subprotocol arrive as the ends sent them.
Raw TLS sockets cover what a library client would not send: a body on the handshake, bytes pipelined after
its head, frames sent before the 101, an `h2c` upgrade.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.http11 import Request, Response
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import ServerConnection, serve

from .harness import LOOPBACK, Gateway, GatewayFactory, ThreadedOrigin, read_request
from .test_smuggling import read_all, statuses

RULES = {
    "rules.toml": """\
[[rule]]
id = "ws-path-blocked"
expr = 'http.request.uri.path eq "/ws/blocked"'
action = "block"

[[rule]]
id = "ws-header-blocked"
expr = 'any(http.request.headers["x-ws-evil"][*] eq "1")'
action = "block"

[[rule]]
id = "admin-blocked"
expr = 'starts_with(http.request.uri.path, "/admin")'
action = "block"

[[ratelimit]]
id = "ws-limited"
expr = 'http.request.uri.path eq "/ws/limited"'
limit = "2/minute"
key = 'ip.src'
"""
}

KEY = base64.b64encode(b"0123456789abcdef")


@dataclass
class EchoOrigin:
    """A `websockets` echo server in a thread: echoes every message; "close-4001" makes it close with 4001;
    "/refuse403" and "/plain" answer 403 and 200 without upgrading."""

    requests: list[tuple[str, Headers]] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def start(self) -> None:
        self.server = serve(
            self.handle,
            LOOPBACK,
            0,
            process_request=self.process_request,
            select_subprotocol=lambda _conn, offered: "chat.v2" if "chat.v2" in offered else None,
            ping_interval=None,
            max_size=None,
        )
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="ws-origin", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.requests]

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        with self.lock:
            self.requests.append((request.path, request.headers))
        if request.path == "/refuse403":
            return connection.respond(HTTPStatus.FORBIDDEN, "refused by the origin\n")
        if request.path.startswith("/plain"):
            return connection.respond(HTTPStatus.OK, "plain page\n")
        return None

    def handle(self, connection: ServerConnection) -> None:
        try:
            for message in connection:
                if message == "close-4001":
                    connection.close(4001, "origin says bye")
                    break
                connection.send(message)
        except ConnectionClosed:
            pass
        with self.lock:
            self.closes.append(connection.protocol.close_rcvd.code if connection.protocol.close_rcvd else None)


@pytest.fixture(scope="module")
def origin() -> Iterator[EchoOrigin]:
    started = EchoOrigin()
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def gw(module_factory: GatewayFactory, origin: EchoOrigin) -> Gateway:
    return module_factory.start(
        [
            {"hosts": ["localhost"], "origins": [origin.url]},
            {"hosts": ["a.test"], "origins": [origin.url], "timeouts": {"read": "1s"}},
        ],
        rules=RULES,
        tables={"waf": {"rules": "rules", "mode": "block"}},
    )


@pytest.fixture(autouse=True)
def _fresh_record(origin: EchoOrigin) -> None:
    with origin.lock:
        origin.requests.clear()
        origin.closes.clear()


def ws(gateway: Gateway, path: str = "/ws", *, host: str = "localhost", **kwargs: Any) -> ClientConnection:
    """A WebSocket client connection through the gateway (wss, SNI and Host `host`, the test CA)."""
    sock = socket.create_connection((LOOPBACK, gateway.https_port), 5)
    return connect(
        f"wss://{host}:{gateway.https_port}{path}",
        sock=sock,
        ssl=gateway.ssl_context(),
        server_hostname=host,
        ping_interval=None,
        max_size=None,
        open_timeout=10,  # the machine is shared: a first handshake under load can take seconds
        close_timeout=5,
        **kwargs,
    )


def handshake(path: bytes = b"/ws", extra: bytes = b"", host: bytes = b"localhost") -> bytes:
    return (
        b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n%s\r\n" % (path, host, KEY, extra)
    )


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final client frame (RFC 6455 section 5.2), masked as a client must."""
    mask = os.urandom(4)
    length = len(payload)
    head = bytes([0x80 | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def tls_socket(gateway: Gateway, sni: str = "localhost") -> ssl.SSLSocket:
    sock = socket.create_connection((LOOPBACK, gateway.https_port), 5)
    return gateway.ssl_context(check_hostname=False).wrap_socket(sock, server_hostname=sni)


def request_id_of(answer: bytes) -> str:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"edge-request-id:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError(f"no Edge-Request-Id in {answer[:300]!r}")


# --- messages pass untouched ---------------------------------------------------------------------------------


def test_text_echo_and_forwarded_handshake(gw: Gateway, origin: EchoOrigin) -> None:
    with ws(gw, "/ws?room=1") as client:
        client.send("hello through edge")
        assert client.recv(timeout=5) == "hello through edge"
        assert client.response is not None
        assert client.response.headers.get("Edge-Request-Id")
        assert client.response.headers.get("Server") is None
    [(path, headers)] = origin.requests
    assert path == "/ws?room=1"
    assert headers["Upgrade"] == "websocket"
    assert headers["Connection"].lower() == "upgrade"
    assert headers["Sec-WebSocket-Version"] == "13"
    assert headers["Sec-WebSocket-Key"]
    assert headers["Host"] == f"localhost:{gw.https_port}"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "https"


def test_binary_message_of_one_mib(gw: Gateway) -> None:
    payload = os.urandom(1024 * 1024)
    with ws(gw) as client:
        client.send(payload)
        assert client.recv(timeout=10) == payload


def test_many_messages_keep_their_order(gw: Gateway) -> None:
    with ws(gw) as client:
        for index in range(200):
            client.send(f"m{index}")
        assert [client.recv(timeout=5) for _ in range(200)] == [f"m{index}" for index in range(200)]


def test_ping_and_pong_pass_through(gw: Gateway) -> None:
    with ws(gw) as client:
        pong = client.ping(b"are you there")
        assert pong.wait(5)


def test_close_code_from_the_client_reaches_the_origin(gw: Gateway, origin: EchoOrigin) -> None:
    with ws(gw) as client:
        client.send("x")
        assert client.recv(timeout=5) == "x"
        client.close(4001, "client says bye")
    assert client.protocol.close_rcvd is not None and client.protocol.close_rcvd.code == 4001  # the origin's echo
    deadline = time.monotonic() + 5
    while 4001 not in origin.closes and time.monotonic() < deadline:
        time.sleep(0.02)  # (the close of the previous test's connection may be recorded late: not counted)
    assert 4001 in origin.closes


def test_close_code_from_the_origin_reaches_the_client(gw: Gateway) -> None:
    with ws(gw) as client:
        client.send("close-4001")
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4001, "origin says bye")


def test_subprotocol_is_negotiated_end_to_end(gw: Gateway, origin: EchoOrigin) -> None:
    with ws(gw, subprotocols=["chat.v1", "chat.v2"]) as client:  # type: ignore[list-item]
        assert client.subprotocol == "chat.v2"
        client.send("hi")
        assert client.recv(timeout=5) == "hi"
    assert origin.requests[0][1]["Sec-WebSocket-Protocol"] == "chat.v1, chat.v2"


# --- the handshake is a request like any other ---------------------------------------------------------------


@pytest.mark.parametrize(("path", "headers"), [("/ws/blocked", {}), ("/ws", {"X-WS-Evil": "1"})])
def test_waf_blocks_the_handshake(gw: Gateway, origin: EchoOrigin, path: str, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ws(gw, path, additional_headers=headers)
    assert refused.value.response.status_code == 403
    assert refused.value.response.headers.get("Edge-Request-Id")
    assert origin.requests == []


def test_rate_limit_on_the_handshake(gw: Gateway, origin: EchoOrigin) -> None:
    for _ in range(2):
        with ws(gw, "/ws/limited") as client:
            client.send("ok")
            assert client.recv(timeout=5) == "ok"
    with pytest.raises(InvalidStatus) as limited:
        ws(gw, "/ws/limited")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers.get("Retry-After")
    assert origin.paths() == ["/ws/limited", "/ws/limited"]


@pytest.mark.parametrize(("path", "status", "body"), [("/refuse403", 403, b"refused"), ("/plain", 200, b"plain page")])
def test_origin_refusing_the_upgrade_is_a_normal_response(
    gw: Gateway, origin: EchoOrigin, path: str, status: int, body: bytes
) -> None:
    with tls_socket(gw) as sock:
        sock.sendall(handshake(path.encode()))
        answer = read_all(sock, 5)
    assert statuses(answer) == [status]
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert body in rest
    assert b"connection: close" in head.lower()  # the last answer on this connection: no tunnel, no more HTTP
    assert b"upgrade:" not in head.lower()
    assert origin.paths() == [path]


def test_idle_tunnel_is_closed_after_the_read_timeout(gw: Gateway) -> None:
    with ws(gw, host="a.test") as client:
        client.send("x")
        assert client.recv(timeout=5) == "x"
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=5)
        waited = time.monotonic() - started
    assert 0.8 < waited < 4.5
    assert client.response is not None
    line = gw.log_for(client.response.headers["Edge-Request-Id"])
    assert line["status"] == 101
    assert "no byte either way for 1s" in line["error"]


def test_access_log_line_is_written_when_the_tunnel_ends(gw: Gateway) -> None:
    with ws(gw) as client:
        request_id = client.response.headers["Edge-Request-Id"] if client.response else ""
        for _ in range(10):
            payload = os.urandom(1000)  # incompressible: permessage-deflate is on, end to end
            client.send(payload)
            assert client.recv(timeout=5) == payload
        time.sleep(0.5)
        assert not [line for line in gw.stdout_lines() if line.get("request_id") == request_id]  # still open
    line = gw.log_for(request_id)
    assert line["status"] == 101
    assert line["path"] == "/ws"
    assert line["origin"] is not None
    # 10 messages of 1000 bytes each way, plus framing (2-4 bytes, and a 4-byte mask from the client) and the
    # close frames; `bytes` is what went to the client, `bytes_in` what came from it (the handshake's head too).
    assert 10_000 < line["bytes"] < 10_200
    assert 10_100 < line["bytes_in"] < 10_900
    assert line["duration_ms"] >= 500
    assert "error" not in line


# --- what must never be tunnelled or parsed ------------------------------------------------------------------


def test_h2c_upgrade_is_not_tunnelled(gw: Gateway, origin: EchoOrigin) -> None:
    request = (
        b"GET /plain/h2c HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
        b"GET /plain/pipelined HTTP/1.1\r\nHost: localhost\r\n\r\n"
    )
    with tls_socket(gw) as sock:
        sock.sendall(request)
        answer = read_all(sock, 5)
    assert statuses(answer) == [200]
    assert b"101" not in answer.split(b"\r\n", 1)[0]
    assert origin.paths() == ["/plain/h2c"]  # the bytes after the head were never read as a request
    headers = origin.requests[0][1]
    assert "Upgrade" not in headers and "HTTP2-Settings" not in headers
    assert "upgrade" not in headers.get("Connection", "").lower()


@pytest.mark.parametrize(
    "framing", [b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n"], ids=["content-length", "chunked"]
)
def test_handshake_with_a_body_is_refused(gw: Gateway, origin: EchoOrigin, framing: bytes) -> None:
    body = b"hello" if framing.startswith(b"Content") else b"5\r\nhello\r\n0\r\n\r\n"
    with tls_socket(gw) as sock:
        sock.sendall(handshake(extra=framing) + body)
        answer = read_all(sock, 5)
    assert statuses(answer) == [400]
    assert origin.requests == []


@pytest.mark.parametrize(
    "request_head",
    [
        b"POST /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + b"\r\nContent-Length: 0\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n",
    ],
    ids=["post", "no-key", "short-key"],
)
def test_malformed_handshake_is_refused(gw: Gateway, origin: EchoOrigin, request_head: bytes) -> None:
    with tls_socket(gw) as sock:
        sock.sendall(request_head)
        answer = read_all(sock, 5)
    assert statuses(answer) == [400]
    assert origin.requests == []


def test_pipelined_request_after_a_refused_upgrade_is_never_parsed(gw: Gateway, origin: EchoOrigin) -> None:
    """The "WebSocket smuggling" shape: the origin refuses the upgrade, and the bytes the client sent after the
    handshake (a request the WAF would block) must not reach the origin, nor be answered, as HTTP."""
    smuggled = b"GET /plain/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with tls_socket(gw) as sock:
        sock.sendall(handshake(b"/refuse403") + smuggled)
        time.sleep(0.3)
        sock.sendall(smuggled)  # and again in a later read
        answer = read_all(sock, 5)
    assert statuses(answer) == [403]
    assert b"refused by the origin" in answer
    assert origin.paths() == ["/refuse403"]


def test_frames_sent_before_the_101_are_forwarded_after_it(gw: Gateway, origin: EchoOrigin) -> None:
    """RFC 6455 section 4.1 has a client wait for the 101; one that does not has its bytes held by edge and
    written to the origin after the 101 (as nginx forwards what it read ahead), never parsed as HTTP."""
    with tls_socket(gw) as sock:
        sock.sendall(handshake() + masked_frame(b"early bird") + masked_frame(b"GET /admin HTTP/1.1\r\n\r\n"))
        answer = b""
        deadline = time.monotonic() + 5
        while answer.count(b"early bird") < 1 or b"GET /admin" not in answer:
            assert time.monotonic() < deadline, answer
            sock.settimeout(deadline - time.monotonic())
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    head, _, frames = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert frames.startswith(b"\x81\x0aearly bird")  # the origin's echo, unmasked, as it sent it
    assert origin.paths() == ["/ws"]


def test_connection_tokens_cannot_remove_protected_headers(gw: Gateway, origin: EchoOrigin) -> None:
    with tls_socket(gw) as sock:
        sock.sendall(handshake(extra=b"Connection: Upgrade, Host, X-Forwarded-For, Upgrade\r\n"))
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 101 ")
    [(_, headers)] = origin.requests
    assert headers["Host"] == "localhost"
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["Upgrade"] == "websocket"


def test_tunnel_applies_back_pressure_towards_a_client_that_does_not_read(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    """An origin pushing 48 MiB at a client that reads nothing: edge stops reading the origin instead of
    buffering it all (its memory stays bounded), and the bytes all arrive once the client reads."""
    total = 48 * 1024 * 1024

    async def firehose(origin: ThreadedOrigin, reader: Any, writer: Any) -> None:
        request = await read_request(reader)
        if request is None:
            return
        key = request[1].get(b"sec-websocket-key")
        if key is None:  # the warm-up GET
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
            return
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: %s\r\n\r\n" % accept
        )
        chunk = b"\x82\x7f" + struct.pack("!Q", 1024 * 1024) + b"f" * (1024 * 1024)
        for _ in range(total // (1024 * 1024)):
            writer.write(chunk)
            await writer.drain()
        origin.requests += 1
        await origin.wait_stopped()

    origin = threaded_origin(firehose)
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url], "timeouts": {"read": "20s"}}])
    gateway.request("GET", "/warm")  # a first request grows the process to its working size
    before = gateway.rss_bytes()
    with tls_socket(gateway) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(handshake())
        time.sleep(3)  # not reading: the origin keeps pushing for as long as edge reads it
        grown = gateway.rss_bytes() - before
        received = 0
        sock.settimeout(10)
        while received < total:
            data = sock.recv(1024 * 1024)
            assert data, f"closed after {received} bytes"
            received += len(data)
    assert grown < 16 * 1024 * 1024, f"edge grew by {grown / 1e6:.1f} MB while the client read nothing"
    assert origin.requests == 1


def test_101_that_is_not_a_websocket_accept_is_a_502(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    """An origin's 101 without the accept for the request's key (or to another protocol) opens no tunnel."""
    tunnelled: list[bytes] = []

    async def fake_switch(origin: ThreadedOrigin, reader: Any, writer: Any) -> None:
        if await read_request(reader) is None:
            return
        origin.requests += 1
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAW")
        await writer.drain()
        data = await reader.read(65536)
        if data:
            tunnelled.append(data)

    origin = threaded_origin(fake_switch)
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    with tls_socket(gateway) as sock:
        sock.sendall(handshake() + masked_frame(b"GET /admin HTTP/1.1\r\n\r\n"))
        answer = read_all(sock, 5)
    assert statuses(answer) == [502]
    assert b"RAW" not in answer
    assert origin.requests == 1
    assert tunnelled == []
    line = gateway.log_for(request_id_of(answer))
    assert "Sec-WebSocket-Accept" in line["error"]


def test_tunnel_applies_back_pressure_towards_an_origin_that_does_not_read(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    """A client pushing at an origin that reads nothing after its 101: edge stops reading the client, so what
    the client manages to send stays within the socket buffers on the way, not in edge's memory."""

    async def deaf(origin: ThreadedOrigin, reader: Any, writer: Any) -> None:
        request = await read_request(reader)
        if request is None:
            return
        key = request[1].get(b"sec-websocket-key")
        if key is None:  # the warm-up GET
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
            return
        accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: %s\r\n\r\n" % accept
        )
        await writer.drain()
        origin.requests += 1
        await origin.wait_stopped()  # reads nothing more

    origin = threaded_origin(deaf)
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url], "timeouts": {"read": "20s"}}])
    gateway.request("GET", "/warm")
    before = gateway.rss_bytes()
    frame = masked_frame(b"p" * 60000, opcode=0x2)
    sent = 0
    with tls_socket(gateway) as sock:
        sock.sendall(handshake())
        assert sock.recv(65536).startswith(b"HTTP/1.1 101 ")
        sock.settimeout(0.5)
        deadline = time.monotonic() + 3
        with pytest.raises(TimeoutError):  # the client's writes stall: nobody reads them any more
            while time.monotonic() < deadline and sent < 64 * 1024 * 1024:
                sock.sendall(frame)
                sent += len(frame)
        grown = gateway.rss_bytes() - before
    assert sent < 64 * 1024 * 1024
    assert grown < 16 * 1024 * 1024, f"edge grew by {grown / 1e6:.1f} MB ({sent / 1e6:.1f} MB sent)"
    assert origin.requests == 1


def test_stop_keeps_tunnels_for_the_grace_period_then_cuts_them(
    gateway_factory: GatewayFactory, origin: EchoOrigin
) -> None:
    """SIGTERM: an open tunnel keeps working during the grace period (its messages are the in-flight work a
    drain waits for), then it is cut, logged, and the gateway exits 0."""
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}], grace="2s")
    with ws(gateway) as client:
        assert client.response is not None
        request_id = client.response.headers["Edge-Request-Id"]
        stopped_at = time.monotonic()
        gateway.signal(signal.SIGTERM)
        time.sleep(0.5)
        client.send("still here")
        assert client.recv(timeout=5) == "still here"
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
        assert 1.5 < time.monotonic() - stopped_at < 8
        assert gateway.wait(timeout=10) == 0
    line = gateway.log_for(request_id)
    assert line["status"] == 101
    assert "grace period" in line["error"]
    assert line["bytes_in"] > 10
    assert "Traceback" not in gateway.stderr_text()
