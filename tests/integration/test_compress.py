"""Response compression through the running gateway (`[[site]] compress = true`): gzip when the client accepts
it and the origin did not compress, streaming, one stored copy for every Accept-Encoding."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest

from .harness import GatewayFactory, ThreadedOrigin, send

PAGE = b"<html><body>" + b"<p>edge compresses text the origin left plain</p>" * 200 + b"</body></html>"


async def html_origin(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        origin.requests += 1
        target = head.split(b" ")[1]
        if target.startswith(b"/small"):
            body, kind = b"tiny", b"text/plain"
        elif target.startswith(b"/png"):
            body, kind = b"\x89PNG" + b"\x00" * 4000, b"image/png"
        elif target.startswith(b"/chunked"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in range(5):
                writer.write(b"%x\r\n%s\r\n" % (1000, b"z" * 1000))
                await writer.drain()
                await asyncio.sleep(0.05)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            continue
        else:
            body, kind = PAGE, b"text/html; charset=utf-8"
        writer.write(
            b'HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: max-age=60\r\nETag: "v1"\r\n'
            b"Content-Length: %d\r\n\r\n%s" % (kind, len(body), body)
        )
        await writer.drain()


def test_gzip_when_accepted_and_plain_otherwise(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    origin = threaded_origin(html_origin)
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin.url], "compress": True, "cache": {"enabled": True}}]
    )
    zipped = gateway.request("GET", "/page", headers={"Accept-Encoding": "gzip, deflate, br;q=0"})
    assert zipped.status == 200 and zipped.header("content-encoding") == "gzip"
    assert gzip.decompress(zipped.body) == PAGE
    assert len(zipped.body) < len(PAGE) / 5
    assert "accept-encoding" in (zipped.header("vary") or "").lower()
    assert zipped.header("etag") == 'W/"v1"'
    plain = gateway.request("GET", "/page")  # a cache hit: the stored copy is the origin's plain body
    assert plain.header("content-encoding") is None and plain.body == PAGE
    assert plain.header("cache-status") == "edge; hit"
    again = gateway.request("GET", "/page", headers={"Accept-Encoding": "gzip"})
    assert again.header("cache-status") == "edge; hit" and gzip.decompress(again.body) == PAGE
    assert origin.requests == 1


def test_small_binary_and_streamed_bodies(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    origin = threaded_origin(html_origin)
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url], "compress": True}])
    accept = {"Accept-Encoding": "gzip"}
    assert gateway.request("GET", "/small", headers=accept).header("content-encoding") is None
    assert gateway.request("GET", "/png", headers=accept).header("content-encoding") is None
    streamed = gateway.request("GET", "/chunked", headers=accept)
    assert streamed.header("content-encoding") == "gzip"
    assert zlib.decompress(streamed.body, 31) == b"z" * 5000


def test_off_by_default(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    origin = threaded_origin(html_origin)
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin.url]}])
    r = gateway.request("GET", "/page", headers={"Accept-Encoding": "gzip"})
    assert r.header("content-encoding") is None and r.body == PAGE


@pytest.mark.parametrize(
    ("lines", "coding"),
    [
        (["gzip"], "gzip"),
        (["gzip", "gzip;q=0"], None),  # a second line refusing what the first accepted: refused
        (["gzip;q=0", "gzip"], None),
        (["gzip;q=abc", "*"], None),  # an invalid q refuses gzip, which `*` then does not cover
        (["  GZIP ; Q=0.5 ", "identity;q=0.4"], "gzip"),  # padded, upper case, split over lines
        (["gzip;q=0.5", "identity"], None),
    ],
)
def test_a_proxied_page_and_a_static_file_read_accept_encoding_alike(
    gateway_factory: GatewayFactory, threaded_origin: Any, lines: list[str], coding: str | None
) -> None:
    """Compression of an origin's page and the choice of a precompressed static file are one reading of
    Accept-Encoding, whatever lines the client splits it over (gzip only: brotli is optional here)."""
    origin = threaded_origin(html_origin)
    site = {"hosts": ["localhost"], "origins": [origin.url], "compress": True, "static": {'"/assets/"': "static"}}
    gateway = gateway_factory.prepare([site])
    static = gateway.folder / "static"
    static.mkdir()
    (static / "page.html").write_bytes(PAGE)
    (static / "page.html.gz").write_bytes(gzip.compress(PAGE))
    gateway.start()
    headers = [("Accept-Encoding", line) for line in lines]
    with gateway.connection() as conn:
        proxied = send(conn, "GET", "/page", headers=headers)
        stored = send(conn, "GET", "/assets/page.html", headers=headers)
    assert proxied.status == stored.status == 200
    assert proxied.header("content-encoding") == stored.header("content-encoding") == coding
    for answer in (proxied, stored):
        assert (gzip.decompress(answer.body) if coding else answer.body) == PAGE
