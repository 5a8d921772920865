"""A small origin server for `make run`, the tests and the benchmark: `python -m edge.demo --port 9000`.

It answers with what it saw (so tests can check the headers edge sends), streams large bodies both ways
in constant memory, misbehaves on request (slow, redirects to its own address, leaks a Server header)
and counts the requests it received, so a test can prove that a blocked request never reached it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs

import uvicorn

_KIB = b"x" * 1024
_CHUNK = b"y" * 65536


class DemoOrigin:
    def __init__(self, name: str = "demo") -> None:
        self.name = name
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        path: str = scope["path"]
        query = parse_qs(scope["query_string"].decode("latin-1"))
        if path == "/1k":
            await _send(send, 200, _KIB, b"application/octet-stream")
        elif path == "/echo" or path.startswith("/echo/"):
            await self.echo(scope, receive, send)
        elif path.startswith("/bytes/"):
            await _stream(send, int(path.rsplit("/", 1)[1]))
        elif path == "/slow":
            await asyncio.sleep(float(query.get("seconds", ["5"])[0]))
            await _send(send, 200, b"slow\n")
        elif path == "/redirect":
            server = scope["server"]
            location = f"http://{server[0]}:{server[1]}/echo".encode()
            await _send(send, 302, b"", extra=[(b"location", location), (b"refresh", b"0; url=" + location)])
        elif path.startswith("/status/"):
            await _send(send, int(path.rsplit("/", 1)[1]), b"status\n")
        elif path == "/count":
            await _send(send, 200, json.dumps({"requests": self.requests}).encode(), b"application/json")
        else:
            body = f"<!doctype html><title>edge demo</title><h1>Hello from the {self.name} origin</h1>\n".encode()
            await _send(send, 200, body, b"text/html; charset=utf-8")

    async def echo(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Reports method, target, headers and the body's size and SHA-256, reading the body as it streams."""
        digest = hashlib.sha256()
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            digest.update(chunk)
            size += len(chunk)
            if not message.get("more_body", False):
                break
        target = scope["raw_path"].decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        report = {
            "origin": self.name,
            "method": scope["method"],
            "target": target,
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "body_size": size,
            "body_sha256": digest.hexdigest(),
        }
        await _send(send, 200, json.dumps(report).encode(), b"application/json")


async def _send(
    send: Any,
    status: int,
    body: bytes,
    content_type: bytes = b"text/plain",
    extra: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"server", b"demo-origin/1.0"),
        (b"x-powered-by", b"edge-demo"),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Any, size: int) -> None:
    """`size` bytes with Content-Length, sent in 64 KiB chunks: memory stays flat for any size."""
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    remaining = size
    while remaining > 0:
        chunk = _CHUNK if remaining >= len(_CHUNK) else _CHUNK[:remaining]
        remaining -= len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
    if size == 0:
        await send({"type": "http.response.body", "body": b""})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edge.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--name", default="demo", help="shown in answers, to tell origins apart")
    args = parser.parse_args(argv)
    uvicorn.run(
        DemoOrigin(args.name),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="off",
        http="httptools",
    )


if __name__ == "__main__":
    main()
