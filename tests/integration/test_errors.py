"""When origins fail: 502, 504, a response cut off mid-body; the gateway's own error pages."""

from __future__ import annotations

import asyncio
import http.client
import re
import time
from collections.abc import Iterator

import pytest

from .harness import (
    Gateway,
    GatewayFactory,
    Response,
    ThreadedOrigin,
    cut_handler,
    read_request,
    send,
    silent_handler,
)


async def garbage_handler(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers a request with something that is not HTTP, naming its own address in it."""
    if await read_request(reader) is not None:
        origin.requests += 1
        writer.write(f"garbage from 127.0.0.1:{origin.port}\r\n\r\n".encode())
        await writer.drain()


@pytest.fixture(scope="module")
def origins() -> Iterator[dict[str, ThreadedOrigin]]:
    started = {"silent": ThreadedOrigin(silent_handler), "cut": ThreadedOrigin(cut_handler)}
    started["garbage"] = ThreadedOrigin(garbage_handler)
    yield started
    for origin in started.values():
        origin.stop()


@pytest.fixture(scope="module")
def failing(module_factory: GatewayFactory, origins: dict[str, ThreadedOrigin], dead_origin_url: str) -> Gateway:
    fast = {"connect": "1s", "read": "1s"}
    return module_factory.start(
        [
            {"hosts": ["dead.test"], "origins": [dead_origin_url], "timeouts": fast, "hsts": "max-age=31536000"},
            {"hosts": ["silent.test"], "origins": [origins["silent"].url], "timeouts": fast},
            {"hosts": ["cut.test"], "origins": [origins["cut"].url], "timeouts": fast},
            {"hosts": ["garbage.test"], "origins": [origins["garbage"].url], "timeouts": fast},
        ]
    )


def _origin_ports(origins: dict[str, ThreadedOrigin], dead_origin_url: str) -> list[int]:
    return [o.port for o in origins.values()] + [int(dead_origin_url.rsplit(":", 1)[1])]


def assert_error_page(gw: Gateway, r: Response, status: int, origin_ports: list[int]) -> dict[str, object]:
    """A small page with Edge-Request-Id (header and body line), the id of the access-log line, nothing internal."""
    assert r.status == status
    assert len(r.body) < 512, r.body
    assert (r.header("Content-Type") or "").startswith("text/plain")
    rid = r.request_id
    assert rid and re.fullmatch(r"[0-9a-f]{16}", rid)
    assert f"Edge-Request-Id: {rid}".encode() in r.body
    assert r.body.startswith(f"{status} ".encode())
    text = r.text()
    for port in origin_ports:
        assert str(port) not in text, text
    for internal in ("127.0.0.1", "Traceback", "Errno", "refused", "timed out", "http://"):
        assert internal not in text, f"{internal!r} in {text}"
    line = gw.log_for(rid)
    assert line["status"] == status
    assert line["bytes"] == len(r.body)
    return line


def test_no_origin_listening_gets_502(
    failing: Gateway, origins: dict[str, ThreadedOrigin], dead_origin_url: str
) -> None:
    started = time.monotonic()
    r = failing.request("GET", "/anything?x=1", host="dead.test")
    assert time.monotonic() - started < 3
    line = assert_error_page(failing, r, 502, _origin_ports(origins, dead_origin_url))
    assert line["origin"] == dead_origin_url, "the log (not the client) names the origin"
    assert r.header("Strict-Transport-Security") == "max-age=31536000"


def test_origin_that_never_answers_gets_504_within_the_read_timeout(
    failing: Gateway, origins: dict[str, ThreadedOrigin], dead_origin_url: str
) -> None:
    before = origins["silent"].requests
    started = time.monotonic()
    r = failing.request("GET", "/wait", host="silent.test")
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed <= 3.0, elapsed
    assert origins["silent"].requests == before + 1, "the origin did get the request"
    line = assert_error_page(failing, r, 504, _origin_ports(origins, dead_origin_url))
    assert 900 <= float(line["duration_ms"]) <= 3000  # type: ignore[arg-type]


def test_silent_origin_with_a_request_body_gets_504(
    failing: Gateway, origins: dict[str, ThreadedOrigin], dead_origin_url: str
) -> None:
    started = time.monotonic()
    r = failing.request("POST", "/wait", host="silent.test", body=b"payload")
    assert time.monotonic() - started <= 3.0
    assert_error_page(failing, r, 504, _origin_ports(origins, dead_origin_url))


def test_origin_answering_garbage_gets_502(
    failing: Gateway, origins: dict[str, ThreadedOrigin], dead_origin_url: str
) -> None:
    r = failing.request("GET", "/", host="garbage.test")
    assert_error_page(failing, r, 502, _origin_ports(origins, dead_origin_url))
    assert b"garbage" not in r.body


def test_origin_closing_mid_body_aborts_the_client_response(
    failing: Gateway, origins: dict[str, ThreadedOrigin], dead_origin_url: str
) -> None:
    """Once the status line is out, the only honest signal is a connection closed before Content-Length."""
    with failing.connection("cut.test") as conn:
        conn.request("GET", "/big", headers={"Host": "cut.test"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == "1048576"
        rid = response.getheader("Edge-Request-Id")
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            response.read()
        response.close()
    assert rid
    line = failing.log_for(rid)
    assert line["status"] == 200
    assert "error" in line
    # the gateway carries on
    r = failing.request("GET", "/", host="dead.test")
    assert r.status == 502


def test_error_pages_of_every_kind_share_the_format(
    failing: Gateway, gateway: Gateway, origins: dict[str, ThreadedOrigin], dead_origin_url: str
) -> None:
    ports = _origin_ports(origins, dead_origin_url)
    assert_error_page(gateway, gateway.request("GET", "/", host="nobody.example", sni="localhost"), 421, ports)
    assert_error_page(gateway, gateway.request("POST", "/", host="limit.test", body=b"x" * 70_000), 413, ports)
    assert_error_page(failing, failing.request("GET", "/", host="dead.test"), 502, ports)


def test_keep_alive_connection_survives_a_gateway_error(failing: Gateway) -> None:
    with failing.connection("dead.test") as conn:
        # 502 while the dead origin is tried, 503 once earlier tests got it held out: either way an error page
        assert send(conn, "GET", "/one", host="dead.test").status in (502, 503)
        assert send(conn, "GET", "/two", host="dead.test").status in (502, 503)
