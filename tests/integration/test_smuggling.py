"""Request smuggling, rule bypass by encoding, and header ownership, with raw sockets against the real gateway.

The origin here frames requests itself, strictly (Content-Length or chunked, nothing else), and records every
request it reads per connection. If edge ever forwarded a body the origin could read as a second request, or
framing the origin reads differently from edge, the record shows an extra (smuggled) request, and the next
client on that pooled connection would get another client's answer. Each test sends its attack with raw
bytes over TLS, then checks what the origin saw: exactly the requests the rules judged, once, framed by edge.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from .harness import LOOPBACK, Gateway, GatewayFactory, ThreadedOrigin

RULES = {
    "rules.toml": """\
[[rule]]
id = "admin-blocked"
expr = 'http.request.uri.path eq "/admin" or starts_with(http.request.uri.path, "/admin/")'
action = "block"

[[ratelimit]]
id = "login"
expr = 'http.request.uri.path eq "/login"'
limit = "3/minute"
key = 'ip.src'
"""
}


@dataclass
class Seen:
    """One request as the recording origin framed it."""

    connection: int
    line: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> list[bytes]:
        return [v for n, v in self.headers if n.lower() == name]


@dataclass
class Recorder:
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()

    def lines(self) -> list[bytes]:
        with self.lock:
            return [s.line for s in self.seen]


def recording_handler(recorder: Recorder, extra: bytes = b"") -> Any:
    """Answers each request with `{"n": index}` as JSON; `extra` bytes are sent after each complete response."""

    async def handle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = origin.connections
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            lines = head[:-4].split(b"\r\n")
            headers = []
            for raw in lines[1:]:
                name, _, value = raw.partition(b":")
                headers.append((name, value.strip()))
            names = {n.lower() for n, _ in headers}
            body = b""
            if b"transfer-encoding" in names:
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    chunk = await reader.readexactly(size + 2)
                    body += chunk[:-2]
                    if size == 0:
                        break
            elif b"content-length" in names:
                length = int(next(v for n, v in headers if n.lower() == b"content-length"))
                body = await reader.readexactly(length)
            with recorder.lock:
                recorder.seen.append(Seen(connection, lines[0], headers, body))
                index = len(recorder.seen)
            origin.requests += 1
            payload = json.dumps({"n": index, "line": lines[0].decode("latin-1")}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s%s"
                % (len(payload), payload, extra)
            )
            await writer.drain()

    return handle


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def origin(recorder: Recorder) -> Any:
    started = ThreadedOrigin(recording_handler(recorder))
    yield started
    started.stop()


@pytest.fixture(scope="module")
def gw(module_factory: GatewayFactory, origin: ThreadedOrigin) -> Gateway:
    return module_factory.start(
        [{"hosts": ["localhost", "*.wild.test"], "origins": [origin.url]}],
        rules=RULES,
        tables={"waf": {"rules": "rules", "mode": "block"}},
    )


@pytest.fixture(autouse=True)
def _fresh_record(recorder: Recorder) -> None:
    recorder.clear()


def raw(
    gateway: Gateway, data: bytes, *, sni: str = "localhost", timeout: float = 5.0, port: int | None = None
) -> bytes:
    """Send raw bytes over one TLS connection and read until the gateway closes it or goes quiet."""
    context = gateway.ssl_context(check_hostname=False)
    with (
        socket.create_connection((LOOPBACK, port or gateway.https_port), timeout) as sock,
        context.wrap_socket(sock, server_hostname=sni) as tls,
    ):
        tls.sendall(data)
        return read_all(tls, timeout)


def read_all(sock: socket.socket | ssl.SSLSocket, timeout: float, quiet: float = 1.0) -> bytes:
    """Everything until close, or until nothing came for `quiet` seconds after something came."""
    out = b""
    deadline = time.monotonic() + timeout
    sock.settimeout(quiet)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if out:
                break
            continue
        except (ssl.SSLError, OSError):
            break
        if not chunk:
            break
        out += chunk
    return out


def statuses(answer: bytes) -> list[int]:
    """The status of every response in `answer`, walking the responses by their Content-Length."""
    out = []
    while answer.startswith(b"HTTP/1.1 "):
        head, _, rest = answer.partition(b"\r\n\r\n")
        out.append(int(head[9:12]))
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        answer = rest[int(length.group(1)) :] if length else b""
    return out


def followup_is_own(gateway: Gateway, recorder: Recorder) -> None:
    """A second client's request on the (pooled) origin connection gets the answer to its own request."""
    r = gateway.request("GET", "/after?check=1")
    assert r.status == 200
    assert r.json()["line"] == "GET /after?check=1 HTTP/1.1"


# --- framing --------------------------------------------------------------------------------------------------

SMUGGLED = b"GET /admin HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.mark.parametrize(
    "named",
    [
        b"content-length",
        b"Content-Length",
        b"host",
        b"transfer-encoding",
        b"x-forwarded-for",
        b"forwarded",
        b"x-forwarded-host",
        b"close, content-length",
        b"keep-alive, host, content-length",
    ],
)
def test_connection_cannot_remove_framing_or_routing_headers(gw: Gateway, recorder: Recorder, named: bytes) -> None:
    request = (
        b"POST /upload HTTP/1.1\r\nHost: localhost\r\nConnection: close, %s\r\nContent-Type: text/plain\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (named, len(SMUGGLED), SMUGGLED)
    )
    answer = raw(gw, request)
    assert statuses(answer) == [200]
    [seen] = recorder.seen
    assert seen.line == b"POST /upload HTTP/1.1"
    assert seen.body == SMUGGLED
    assert seen.header(b"content-length") == [str(len(SMUGGLED)).encode()]
    assert seen.header(b"host") == [b"localhost"]
    assert seen.header(b"x-forwarded-for") == [b"127.0.0.1"]
    followup_is_own(gw, recorder)
    assert b"GET /admin HTTP/1.1" not in recorder.lines()


def test_content_length_with_trailing_space_is_restated(gw: Gateway, recorder: Recorder) -> None:
    request = b"POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: %d \r\n\r\n%s" % (
        len(SMUGGLED),
        SMUGGLED,
    )
    assert statuses(raw(gw, request)) == [200]
    [seen] = recorder.seen
    assert seen.header(b"content-length") == [str(len(SMUGGLED)).encode()]
    assert seen.body == SMUGGLED
    followup_is_own(gw, recorder)


def test_chunked_body_is_rechunked_by_edge(gw: Gateway, recorder: Recorder) -> None:
    request = (
        b"POST /c HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: Chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: smuggled\r\nHost: evil.test\r\n\r\n"
    )
    assert statuses(raw(gw, request)) == [200]
    [seen] = recorder.seen
    assert seen.body == b"hello"
    assert seen.header(b"transfer-encoding") == [b"chunked"]
    assert seen.header(b"host") == [b"localhost"]
    assert not seen.header(b"x-trailer")
    followup_is_own(gw, recorder)


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        (b"Transfer-Encoding: gzip, chunked\r\n", 501),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n", 400),
        (b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", 400),
        (b"Transfer-Encoding: chunked, identity\r\n", 400),
        (b"Transfer-Encoding: xchunked\r\n", 400),
        (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
        (b"Content-Length: 4\r\nContent-Length: 4\r\n", 400),
        (b"Content-Length: +4\r\n", 400),
        (b"Content-Length: 4, 4\r\n", 400),
        (b"Content-Length : 4\r\n", 400),
        (b"Transfer-Encoding : chunked\r\n", 400),
        (b"Transfer-Encoding:\x0bchunked\r\n", 400),
    ],
)
def test_framing_edge_cannot_state_is_refused(gw: Gateway, recorder: Recorder, framing: bytes, status: int) -> None:
    request = b"POST /f HTTP/1.1\r\nHost: localhost\r\n%s\r\n0\r\n\r\n" % framing
    answer = raw(gw, request)
    assert statuses(answer)[:1] == [status], answer[:300]
    assert b"edge-request-id: " in answer.lower()
    assert recorder.seen == []


def test_chunked_in_http_1_0_is_refused(gw: Gateway, recorder: Recorder) -> None:
    answer = raw(gw, b"POST /f HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert statuses(answer) == [400]
    assert recorder.seen == []


def test_pipelined_requests_each_reach_the_origin_once(gw: Gateway, recorder: Recorder) -> None:
    body = b"x=1"
    request = (
        b"POST /p1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 3\r\n\r\n%s"
        b"GET /p2 HTTP/1.1\r\nHost: localhost\r\n\r\n"
        b"GET /admin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % body
    )
    answer = raw(gw, request)
    assert statuses(answer) == [200, 200, 403]
    assert recorder.lines() == [b"POST /p1 HTTP/1.1", b"GET /p2 HTTP/1.1"]


# --- paths: what the rules judged is what the origin serves ----------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/admin",
        b"/%61dmin",
        b"/%61%64%6D%69%6E",
        b"//admin",
        b"/./admin",
        b"/x/../admin",
        b"/x/%2e%2e/admin",
        b"/%2E/admin/",
        b"\\admin",
        b"/\\admin",
        b"/admin/.",
        b"/admin//x",
        b"/admin?x=1",
    ],
)
def test_path_encodings_cannot_bypass_a_path_rule(gw: Gateway, recorder: Recorder, target: bytes) -> None:
    answer = raw(gw, b"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % target)
    if target.startswith(b"\\"):
        assert statuses(answer) == [400]  # not an origin-form target at all
    else:
        assert statuses(answer) == [403], target
    assert recorder.seen == []


def test_reserved_encodings_stay_encoded_and_are_not_the_rule_path(gw: Gateway, recorder: Recorder) -> None:
    answer = raw(gw, b"GET /admin%2fx HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert statuses(answer) == [200]
    assert recorder.lines() == [b"GET /admin%2Fx HTTP/1.1"]


def test_origin_receives_the_normalised_path(gw: Gateway, recorder: Recorder) -> None:
    answer = raw(gw, b"GET //a/./b/../%63?q=/./%61 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert statuses(answer) == [200]
    assert recorder.lines() == [b"GET /a/c?q=/./%61 HTTP/1.1"]


@pytest.mark.parametrize("target", [b"/%zz", b"/a%", b"/a%4"])
def test_broken_percent_encoding_is_refused(gw: Gateway, recorder: Recorder, target: bytes) -> None:
    answer = raw(gw, b"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % target)
    assert statuses(answer) == [400]
    assert recorder.seen == []


def test_rate_limit_counts_every_spelling_of_the_path(module_factory: GatewayFactory, origin: ThreadedOrigin) -> None:
    gateway = module_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}], rules=RULES)
    codes = []
    for target in (b"/login", b"/%6cogin", b"//login", b"/./login", b"/x/../login"):
        codes += statuses(raw(gateway, b"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % target))
    assert codes == [200, 200, 200, 429, 429]


# --- Host --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        b"a.wild.test;x=1",
        b"evil@a.wild.test",
        b"a.wild.test?x",
        b"a.wild.test,b",
        b"a b.wild.test",
        b"a/b.wild.test",
        b"a.wild.test:99999",
        b"a_b.wild.test",
        b"a.wild.test\t,x",
    ],
)
def test_invalid_host_is_refused(gw: Gateway, recorder: Recorder, host: bytes) -> None:
    answer = raw(gw, b"GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host, sni="a.wild.test")
    assert statuses(answer) == [400], answer[:200]
    assert recorder.seen == []


def test_invalid_host_never_reaches_the_redirect(gw: Gateway) -> None:
    with socket.create_connection((LOOPBACK, gw.http_port), 5) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: evil.test@a.wild.test\r\nConnection: close\r\n\r\n")
        answer = read_all(sock, 5)
    assert statuses(answer) == [400]
    assert b"evil.test" not in answer


def test_duplicate_host_and_absolute_form_mismatch_are_refused(gw: Gateway, recorder: Recorder) -> None:
    dup = raw(gw, b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: a.wild.test\r\nConnection: close\r\n\r\n")
    assert statuses(dup) == [400]
    absolute = raw(gw, b"GET https://a.wild.test/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert statuses(absolute) == [400]
    same = raw(gw, b"GET https://localhost/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert statuses(same) == [200]
    assert recorder.lines() == [b"GET /x HTTP/1.1"]


def test_spellings_of_a_valid_host_reach_its_site_and_a_remembered_name_lets_no_variant_through(
    gw: Gateway, recorder: Recorder
) -> None:
    # Host values are validated once and remembered (framing.host_name): the memo must answer exactly as the
    # validation does, for the case, the trailing dot (with a port too) and the padding llhttp strips.
    port = gw.https_port
    for host in (b"localhost.:%d" % port, b"LocalHost:%d" % port, b"localhost.", b" \tlocalhost:%d \t" % port):
        for _ in range(2):  # the second time from the memo
            answer = raw(gw, b"GET /h HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host)
            assert statuses(answer) == [200], (host, answer[:200])
    assert recorder.lines() == [b"GET /h HTTP/1.1"] * 8
    for bad in (b"localhost.:99999", b"localhost..:%d" % port, b"localhost.:%d, evil.test" % port):
        assert statuses(raw(gw, b"GET /h HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % bad)) == [400]
    assert len(recorder.seen) == 8


def test_missing_host_in_http_1_1_is_refused(gw: Gateway, recorder: Recorder) -> None:
    assert statuses(raw(gw, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")) == [400]
    assert recorder.seen == []


# --- headers edge owns -------------------------------------------------------------------------------------------


def test_underscore_twins_of_edge_headers_never_reach_the_origin(gw: Gateway, recorder: Recorder) -> None:
    request = (
        b"GET /h HTTP/1.1\r\nHost: localhost\r\nX_Forwarded_For: 10.9.9.9\r\nEdge_Origin_Auth: t=1,sig=00\r\n"
        b"X-Forwarded_Host: evil\r\nX_Client_Cert_Subject: CN=admin\r\nX-Custom_Header: kept\r\n"
        b"Connection: close\r\n\r\n"
    )
    assert statuses(raw(gw, request)) == [200]
    [seen] = recorder.seen
    names = [n.lower() for n, _ in seen.headers]
    for twin in (b"x_forwarded_for", b"edge_origin_auth", b"x-forwarded_host", b"x_client_cert_subject"):
        assert twin not in names
    assert seen.header(b"x-custom_header") == [b"kept"]
    assert seen.header(b"x-forwarded-for") == [b"127.0.0.1"]


def test_gateway_answers_carry_request_ids(gw: Gateway) -> None:
    for request, status in (
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: x\r\n\r\n", 400),
        (b"GET /\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: localhost\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431),
    ):
        answer = raw(gw, request)
        assert statuses(answer) == [status]
        head, _, body = answer.partition(b"\r\n\r\n")
        ids = [
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"edge-request-id")
        ]
        assert len(ids) == 1 and len(ids[0]) == 16
        assert ids[0] in body
        line = gw.log_for(ids[0].decode())
        assert line["status"] == status


def test_request_ids_do_not_repeat_or_follow_a_sequence(gw: Gateway) -> None:
    ids = [gw.request("GET", "/").request_id for _ in range(20)]
    assert len(set(ids)) == 20
    values = [int(i, 16) for i in ids if i]
    assert len({v >> 60 for v in values}) > 3  # spread over the high bits, not a counter


# --- origins that misbehave ----------------------------------------------------------------------------------


def test_bytes_after_a_complete_response_never_reach_the_next_client(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    recorder = Recorder()
    injected = b"HTTP/1.1 200 OK\r\nX-Injected: 1\r\nContent-Length: 5\r\n\r\nevil!"
    origin = threaded_origin(recording_handler(recorder, extra=injected))
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    first = gateway.request("GET", "/one")
    second = gateway.request("GET", "/two")
    for response, line in ((first, "GET /one HTTP/1.1"), (second, "GET /two HTTP/1.1")):
        assert response.status == 200
        assert response.json()["line"] == line
        assert response.header("x-injected") is None
    assert origin.connections == 2  # the connection that carried stray bytes was not reused


def answering(head: bytes) -> Any:
    """An origin that answers every request with `head` and a 2-byte body."""

    async def handle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            writer.write(head + b"Content-Length: 2\r\n\r\nok")
            await writer.drain()

    return handle


@pytest.mark.parametrize(
    "field",
    [
        b"X-Split: a\rSet-Cookie: evil=1",  # a bare CR: a line break to some clients
        b"X-Split: a\x00Set-Cookie: evil=1",
        b"X-Split: a\x0bSet-Cookie: evil=1",
        b"X-Split: a\x7fSet-Cookie: evil=1",
    ],
)
def test_an_origin_header_with_a_control_byte_never_reaches_the_client(
    gateway_factory: GatewayFactory, threaded_origin: Any, field: bytes
) -> None:
    origin = threaded_origin(answering(b"HTTP/1.1 200 OK\r\n%s\r\n" % field))
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    answer = raw(gateway, b"GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert b"evil" not in answer and b"x-split" not in answer.lower()
    assert statuses(answer) == [502], answer[:300]  # the origin's parser refuses it: "upstream sent invalid header"
    assert gateway.request("GET", "/after").status == 502  # and the next request is not answered from it


def close_on_second_request(recorder: Recorder) -> Any:
    """Answers the first request of each connection; reads the second one in full, then closes unanswered
    (an origin whose keep-alive timeout fires while a request is on its way)."""

    async def handle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = origin.connections
        for number in (1, 2):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(length.group(1))) if length else b""
            with recorder.lock:
                recorder.seen.append(Seen(connection, head.split(b"\r\n")[0], [], body))
            if number == 2:
                writer.transport.abort()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    return handle


def test_a_post_the_origin_may_have_processed_is_never_sent_twice(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    recorder = Recorder()
    origin = threaded_origin(close_on_second_request(recorder))
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    assert gateway.request("GET", "/warm").status == 200  # leaves one pooled connection
    r = gateway.request("POST", "/pay", body=b"amount=100", headers={"Content-Type": "text/plain"})
    assert r.status == 502
    assert [s.line for s in recorder.seen].count(b"POST /pay HTTP/1.1") == 1
    assert r.request_id is not None and gateway.log_for(r.request_id)["status"] == 502


def test_an_idempotent_request_is_retried_on_a_fresh_connection(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    recorder = Recorder()
    origin = threaded_origin(close_on_second_request(recorder))
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    assert gateway.request("GET", "/warm").status == 200
    r = gateway.request("GET", "/again")
    assert r.status == 200
    assert [s.line for s in recorder.seen].count(b"GET /again HTTP/1.1") == 2  # once dropped, once answered


async def origin_naming_itself(
    origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    while True:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        me = b"127.0.0.1:%d" % origin.port
        writer.write(
            b"HTTP/1.1 302 Found\r\nLocation: //%s/next\r\nLink: <http://%s/app.css>; rel=preload\r\n"
            b"Set-Cookie: sid=1; Domain=127.0.0.1; Path=/\r\nContent-Location: http://%s/x\r\n"
            b"X-Powered-By: Express\r\nServer: gunicorn\r\nContent-Length: 0\r\n\r\n" % (me, me, me)
        )
        await writer.drain()


def test_no_origin_address_in_redirects_links_or_cookies(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    origin = threaded_origin(origin_naming_itself)
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    r = gateway.request("GET", "/")
    assert r.status == 302
    public = "localhost"  # the Host the client sent
    assert r.header("location") == f"//{public}/next"
    assert r.header("link") == f"<https://{public}/app.css>; rel=preload"
    assert r.header("content-location") == f"https://{public}/x"
    assert r.header("set-cookie") == "sid=1; Path=/"
    assert "127.0.0.1" not in r.text() and str(origin.port) not in r.text()


@pytest.mark.parametrize(
    ("host", "status"),
    [("evil.test", 421), ("evil.test:9901", 421), ("localhost", 200), ("127.0.0.1", 200), ("[::1]", 200), ("", 421)],
)
def test_admin_answers_only_its_own_host(gw: Gateway, host: str, status: int) -> None:
    headers = {"Host": host} if host else {}
    if not host:
        with socket.create_connection((LOOPBACK, gw.admin_port), 5) as sock:
            sock.sendall(b"GET /status HTTP/1.0\r\n\r\n")
            assert statuses(read_all(sock, 5)) == [status]
        return
    r = gw.admin("/status", headers=headers)
    assert r.status == status
    own = gw.admin("/status", headers={"Host": f"127.0.0.1:{gw.admin_port}"})
    assert own.status == 200


@pytest.mark.parametrize("listener", ["http", "admin"])
def test_every_listener_refuses_two_hosts(gw: Gateway, listener: str) -> None:
    """The plain-HTTP redirect and the admin API read Host with the same strict scan as the https listener:
    a second Host naming another host is a 400, not a redirect to it or an admin answer."""
    port = gw.http_port if listener == "http" else gw.admin_port
    with socket.create_connection((LOOPBACK, port), 5) as sock:
        sock.sendall(b"GET /status HTTP/1.1\r\nHost: localhost\r\nHost: evil.test\r\nConnection: close\r\n\r\n")
        answer = read_all(sock, 5)
    assert statuses(answer) == [400]
    assert b"evil.test" not in answer


@pytest.mark.parametrize(
    "interim",
    [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n",
    ],
)
def test_interim_responses_from_the_origin_are_skipped_and_the_final_one_arrives_whole(
    gateway_factory: GatewayFactory, threaded_origin: Any, interim: bytes
) -> None:
    """1xx before the final response (RFC 9110 section 15.2): edge waits for the final one and answers with
    it alone, its headers and body intact; the interim's headers do not leak into it, and the connection
    stays usable for the next request."""
    origin = threaded_origin(answering(interim + b"HTTP/1.1 200 OK\r\nX-Final: yes\r\n"))
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    answer = raw(gateway, b"GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert statuses(answer) == [200], answer[:300]
    assert b"x-final: yes" in answer.lower() and answer.endswith(b"\r\n\r\nok")
    assert b"style.css" not in answer
    again = gateway.request("GET", "/again")
    assert again.status == 200 and again.header("x-final") == "yes"
    assert origin.connections == 1, "the origin connection was reused after the interim responses"
