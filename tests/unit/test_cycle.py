"""edge's response cycle against uvicorn's: the same bytes for every head uvicorn accepts, the same refusals."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from edge.cycle import EdgeCycle


class Transport:
    def __init__(self) -> None:
        self.data = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Flow:
    write_paused = False


def run(
    cls: type[RequestResponseCycle],
    messages: list[dict[str, Any]],
    *,
    method: str = "GET",
    keep_alive: bool = True,
    default_headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[bytes, bool, Exception | None]:
    async def go() -> tuple[bytes, bool, Exception | None]:
        transport = Transport()
        cycle = cls(
            scope={"method": method},  # type: ignore[arg-type]
            transport=transport,  # type: ignore[arg-type]
            flow=Flow(),  # type: ignore[arg-type]
            logger=logging.getLogger("test"),
            access_logger=logging.getLogger("test"),
            access_log=False,
            default_headers=default_headers or [],
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=keep_alive,
            on_response=lambda: None,
        )
        error = None
        try:
            for message in messages:
                await cycle.send(message)
        except RuntimeError as exc:
            error = exc
        return transport.data, transport.closed, error

    return asyncio.run(go())


def start(status: int, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.response.body", "body": data, "more_body": more}


CASES = [
    pytest.param([start(200, (b"content-length", b"2")), body(b"ok")], "GET", True, id="length"),
    pytest.param(
        [start(200, (b"Content-Type", b"text/plain")), body(b"a", True), body(b"b")], "GET", True, id="chunked"
    ),
    pytest.param([start(200, (b"transfer-encoding", b"chunked")), body(b"")], "GET", True, id="chunked-empty"),
    pytest.param([start(204), body(b"")], "GET", True, id="204"),
    pytest.param([start(304, (b"etag", b'"x"')), body(b"")], "GET", True, id="304"),
    pytest.param([start(200, (b"content-length", b"5")), body(b"")], "HEAD", True, id="head"),
    pytest.param([start(200, (b"connection", b"Keep-Alive, Close")), body(b"x")], "GET", True, id="close-token"),
    pytest.param([start(200, (b"content-length", b"1")), body(b"x")], "GET", False, id="not-keep-alive"),
    pytest.param([start(200, (b"x-tab", b"a\tb"), (b"x-high", b"caf\xc3\xa9")), body(b"")], "GET", True, id="tab-utf8"),
    pytest.param([start(599, (b"content-length", b"0")), body(b"")], "GET", True, id="unknown-status"),
    # refusals: a name that is not a token, a value with a line break or a control byte, framing lies
    pytest.param([start(200, (b"x y", b"1"))], "GET", True, id="bad-name"),
    pytest.param([start(200, (b"x-a", b"1\r\nset-cookie: a=b"))], "GET", True, id="crlf-value"),
    pytest.param([start(200, (b"x-a", b"1\nx"))], "GET", True, id="lf-value"),
    pytest.param([start(200, (b"x-a", b"1\rx"))], "GET", True, id="cr-value"),
    pytest.param([start(200, (b"x-a", b"1\x00"))], "GET", True, id="nul-value"),
    pytest.param([start(200, (b"x-a", b"\x7f"))], "GET", True, id="del-value"),
    pytest.param([start(200, (b"content-length", b"1")), body(b"xy")], "GET", True, id="too-long"),
    pytest.param([start(200, (b"content-length", b"3")), body(b"xy")], "GET", True, id="too-short"),
    pytest.param([body(b"x")], "GET", True, id="body-first"),
    pytest.param([start(200, (b"content-length", b"0")), body(b""), body(b"")], "GET", True, id="after-end"),
]


@pytest.mark.parametrize(("messages", "method", "keep_alive"), CASES)
def test_edge_writes_what_uvicorn_writes_and_refuses_what_it_refuses(
    messages: list[dict[str, Any]], method: str, keep_alive: bool
) -> None:
    ours = run(EdgeCycle, messages, method=method, keep_alive=keep_alive)
    theirs = run(RequestResponseCycle, messages, method=method, keep_alive=keep_alive)
    assert ours[0] == theirs[0] and ours[1] == theirs[1]
    assert (ours[2] is None) == (theirs[2] is None), (ours[2], theirs[2])


def test_a_split_header_writes_nothing() -> None:
    data, _, error = run(EdgeCycle, [start(200, (b"location", b"/a\r\n\r\n<script>"))])
    assert data == b"" and isinstance(error, RuntimeError)


def test_uvicorns_default_headers_come_first_as_in_uvicorn() -> None:
    defaults = [(b"server", b"uvicorn"), (b"date", b"Wed, 02 Dec 2026 12:00:00 GMT")]
    messages = [start(200, (b"content-length", b"2")), body(b"ok")]
    ours = run(EdgeCycle, messages, default_headers=defaults)
    assert ours == run(RequestResponseCycle, messages, default_headers=defaults)
    assert ours[0].startswith(b"HTTP/1.1 200 OK\r\nserver: uvicorn\r\ndate: ")
