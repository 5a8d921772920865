"""Minimal TLS reverse proxies for the `clients` bench scenario: one per upstream HTTP client.

    python -m tests.bench.client_proxies --client {httpx,aiohttp,edge} --port P --origin-port O --cert CERTFILE

Each is a raw ASGI app (no Starlette) served by uvicorn with one worker, httptools and uvloop, TLS with the
given PEM (certificate and key in one file, as `edge certs dev` writes it). A request is forwarded to
http://127.0.0.1:O with the same method, path and headers (hop-by-hop ones left out); the origin's status,
headers (hop-by-hop ones left out) and body are streamed back as ASGI messages as they arrive. No logging,
no X-Forwarded-*, no WAF: what remains is the cost of the server plus that of the client under test.

The three clients, each with one pool of keep-alive connections for the process:
  httpx    one `httpx.AsyncClient` (max_keepalive_connections 100), `send(stream=True)` + `aiter_raw()`;
  aiohttp  one `aiohttp.ClientSession` on a `TCPConnector(limit=100)`, `resp.content.iter_any()`;
  edge     edge's own `edge.proxy.upstream.Pool`, the request head built here as bytes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CLIENTS = ("httpx", "aiohttp", "edge")
CIPHERS_TLS12 = "ECDHE+AESGCM:ECDHE+CHACHA20"  # as edge and the bench's nginx (tests/bench/stack.py)
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0
POOL_SIZE = 100
KEEPALIVE_SECONDS = 75.0


def end_to_end(headers: Any) -> list[tuple[bytes, bytes]]:
    """(name, value) pairs minus the hop-by-hop ones; names lower-cased (as ASGI wants them)."""
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower not in HOP_BY_HOP:
            out.append((lower, value))
    return out


def target_of(scope: Scope) -> str:
    path: str = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query: bytes = scope.get("query_string", b"")
    if query and "?" not in path:
        path += "?" + query.decode("latin-1")
    return path


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""  # http.disconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def bad_gateway(send: Send, started: bool) -> None:
    if started:
        raise RuntimeError("origin broke off the response")  # uvicorn closes the connection
    await send({"type": "http.response.start", "status": 502, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


class Proxy:
    """The ASGI part shared by the three: lifespan (open and close the client) and the dispatch."""

    def __init__(self, origin_port: int) -> None:
        self.origin_port = origin_port
        self.base = f"http://127.0.0.1:{origin_port}"

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def forward(self, scope: Scope, body: bytes, send: Send) -> None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.open()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        # GET and HEAD carry no body: do not wait on receive() for them (uvicorn would answer at once anyway).
        body = b"" if scope["method"] in ("GET", "HEAD") else await read_body(receive)
        await self.forward(scope, body, send)


class HttpxProxy(Proxy):
    async def open(self) -> None:
        import httpx

        self.httpx = httpx
        self.client = httpx.AsyncClient(
            base_url=self.base,
            limits=httpx.Limits(
                max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE, keepalive_expiry=KEEPALIVE_SECONDS
            ),
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT, pool=CONNECT_TIMEOUT),
            follow_redirects=False,
            trust_env=False,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(self, scope: Scope, body: bytes, send: Send) -> None:
        request = self.client.build_request(
            scope["method"], target_of(scope), headers=end_to_end(scope["headers"]), content=body or None
        )
        started = False
        try:
            response = await self.client.send(request, stream=True)
            try:
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status_code,
                        "headers": end_to_end(response.headers.raw),
                    }
                )
                started = True
                async for chunk in response.aiter_raw():
                    if chunk:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                await response.aclose()
        except self.httpx.HTTPError:
            await bad_gateway(send, started)
            return
        await send({"type": "http.response.body", "body": b""})


class AiohttpProxy(Proxy):
    async def open(self) -> None:
        import aiohttp

        self.aiohttp = aiohttp
        self.session = aiohttp.ClientSession(
            base_url=self.base,
            connector=aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=KEEPALIVE_SECONDS),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT),
            auto_decompress=False,  # the body goes out as the origin encoded it, with its Content-Encoding
            trust_env=False,
        )

    async def close(self) -> None:
        await self.session.close()

    async def forward(self, scope: Scope, body: bytes, send: Send) -> None:
        started = False
        try:
            async with self.session.request(
                scope["method"],
                target_of(scope),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in end_to_end(scope["headers"])],
                data=body or None,
                allow_redirects=False,
            ) as response:
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": end_to_end(response.raw_headers),
                    }
                )
                started = True
                async for chunk in response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (self.aiohttp.ClientError, TimeoutError):
            await bad_gateway(send, started)
            return
        await send({"type": "http.response.body", "body": b""})


class EdgePoolProxy(Proxy):
    async def open(self) -> None:
        from edge.config import Origin
        from edge.proxy import upstream

        self.upstream = upstream
        self.pool = upstream.Pool(Origin("http", "127.0.0.1", self.origin_port, self.base))

    async def close(self) -> None:
        self.pool.close()

    def head(self, scope: Scope, body: bytes) -> bytes:
        lines = [f"{scope['method']} {target_of(scope)} HTTP/1.1\r\n".encode("latin-1")]
        for name, value in end_to_end(scope["headers"]):
            if name != b"content-length":
                lines.append(name + b": " + value + b"\r\n")
        if body:
            lines.append(b"content-length: %d\r\n" % len(body))
        lines.append(b"\r\n")
        return b"".join(lines)

    async def forward(self, scope: Scope, body: bytes, send: Send) -> None:
        head = self.head(scope, body)
        no_body = scope["method"] == "HEAD"
        started = False
        upstream = self.upstream
        for attempt in (1, 2):
            try:
                conn, fresh = await self.pool.acquire(CONNECT_TIMEOUT)
            except upstream.UpstreamError:
                await bad_gateway(send, False)
                return
            try:
                conn.start(head + body, no_body=no_body)
                status, headers = await conn.read_head(READ_TIMEOUT)
            except upstream.UpstreamError as exc:
                conn.release()
                # A reused connection the origin closed meanwhile: once more on a fresh one, if nothing was read.
                if attempt == 1 and not fresh and not exc.sent and not isinstance(exc, upstream.UpstreamTimeout):
                    continue
                await bad_gateway(send, False)
                return
            break
        try:
            await send({"type": "http.response.start", "status": status, "headers": end_to_end(headers)})
            started = True
            while (chunk := await conn.read_chunk(READ_TIMEOUT)) is not None:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except upstream.UpstreamError:
            await bad_gateway(send, started)
            return
        finally:
            conn.release()
        await send({"type": "http.response.body", "body": b""})


PROXIES: dict[str, type[Proxy]] = {"httpx": HttpxProxy, "aiohttp": AiohttpProxy, "edge": EdgePoolProxy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.client_proxies", description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", choices=CLIENTS, required=True)
    parser.add_argument("--port", type=int, required=True, help="HTTPS port to listen on (127.0.0.1)")
    parser.add_argument("--origin-port", type=int, required=True, help="plain-HTTP origin on 127.0.0.1")
    parser.add_argument("--cert", required=True, help="PEM with certificate chain and key")
    args = parser.parse_args(argv)

    import uvicorn

    uvicorn.run(
        PROXIES[args.client](args.origin_port),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        http="httptools",
        loop="uvloop",
        ws="none",
        lifespan="on",
        ssl_certfile=args.cert,
        ssl_keyfile=args.cert,
        ssl_ciphers=CIPHERS_TLS12,
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_keep_alive=int(KEEPALIVE_SECONDS),
        log_level="warning",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
