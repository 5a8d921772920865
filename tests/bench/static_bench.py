"""Static files micro-benchmark: µs per request for a 1 KiB file, Starlette's StaticFiles against edge's own.

    .venv/bin/python tests/bench/static_bench.py [--number 3000]

Everything runs in one process on uvloop, with an ASGI `send` that only counts messages, so the figures are
the cost of the static handling itself (no TLS, no HTTP parsing, no socket). Each figure is the best of 5
rounds. The scope is what uvicorn's httptools protocol hands an app (ASGI spec_version 2.3), with a
browser-like request of 8 header lines.

- starlette StaticFiles: `StaticFiles(directory=...)`, lookup and FileResponse: what mounting Starlette's
  static handling per prefix would cost per request;
- starlette FileResponse: FileResponse alone, with the stat result given (the sending part only);
- edge static phase: `StaticFolders.serve` (match, decode, open inside the folder, sibling check,
  preconditions, headers, send), also for a 304 and with a .gz sibling chosen;
- floor: open, fstat, one read, close and two sends, written by hand;
- gateway.handle: the whole in-process request through `Gateway.handle` (no rules), for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from starlette.responses import FileResponse
from starlette.staticfiles import StaticFiles

from edge.config import parse_config
from edge.exchange import ConnectionInfo, Exchange
from edge.gateway import Gateway
from edge.observe import AccessLog
from edge.runtime import Runtime
from edge.static import StaticFolders

HEADERS = [
    (b"host", b"localhost"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0"),
    (b"accept", b"text/css,*/*;q=0.1"),
    (b"accept-language", b"en-GB,en;q=0.5"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"referer", b"https://localhost/"),
    (b"sec-fetch-dest", b"style"),
    (b"sec-fetch-mode", b"no-cors"),
]
CONFIG = """
[server]
https = "127.0.0.1:8443"
[tls]
certs = "."
[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:9"]
  [site.static]
  "/assets/" = "static"
"""


def scope(path: str, headers: list[tuple[bytes, bytes]] = HEADERS) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "scheme": "https",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8443),
        "extensions": {},
    }


class Sink:
    """An ASGI receive that never sees a disconnect, and a send that checks the status and counts."""

    def __init__(self) -> None:
        self.messages = 0
        self.status = 0
        self.never = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.never.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages += 1
        if message["type"] == "http.response.start":
            self.status = message["status"]


async def best(number: int, run: Callable[[], Awaitable[object]]) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            await run()
        rounds.append((time.perf_counter() - start) / number * 1e6)
    return min(rounds)


async def main(number: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="static-bench-") as name:
        return await measure(Path(name), number)


async def measure(folder: Path, number: int) -> dict[str, float]:
    static = folder / "static"
    (static / "css").mkdir(parents=True)
    payload = os.urandom(1024)
    (static / "app.css").write_bytes(payload)
    (static / "css" / "site.css").write_bytes(payload)
    (static / "css" / "site.css.gz").write_bytes(payload[:400])
    file = str(static / "app.css")
    stat_result = os.stat(file)
    sink = Sink()

    starlette = StaticFiles(directory=static)
    folders = StaticFolders.build((("/assets/", static),), "public, max-age=3600")
    conn = ConnectionInfo()
    etag = next(v for n, v in await _response_head(folders) if n == b"etag")
    conditional = [*HEADERS, (b"if-none-match", etag)]

    async def edge_phase(path: str, headers: list[tuple[bytes, bytes]] = HEADERS) -> None:
        ex = Exchange("bench", 0.0, "GET", path, "localhost", "127.0.0.1")
        await folders.serve(ex, headers, sink.send, conn)

    async def floor() -> None:
        fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            data = os.read(fd, size)
        finally:
            os.close(fd)
        headers = [(b"content-type", b"text/css"), (b"content-length", b"%d" % len(data))]
        await sink.send({"type": "http.response.start", "status": 200, "headers": headers})
        await sink.send({"type": "http.response.body", "body": data, "more_body": False})

    (folder / "edge.toml").write_text(CONFIG)
    runtime = Runtime(parse_config(CONFIG, folder / "edge.toml"), log=AccessLog("off"))
    gateway = Gateway(runtime)

    async def whole() -> None:
        await gateway.handle(scope("/assets/app.css"), sink.receive, sink.send)
        runtime.log.pending.clear()

    cases: dict[str, Callable[[], Awaitable[object]]] = {
        "starlette StaticFiles (lookup + FileResponse)": lambda: starlette(scope("/app.css"), sink.receive, sink.send),
        "starlette FileResponse alone (stat given)": lambda: FileResponse(file, stat_result=stat_result)(
            scope("/app.css"), sink.receive, sink.send
        ),
        "edge static phase, 200": lambda: edge_phase("/assets/app.css"),
        "edge static phase, 200 gzip sibling, 1 folder down": lambda: edge_phase("/assets/css/site.css"),
        "edge static phase, 304": lambda: edge_phase("/assets/app.css", conditional),
        "floor: open + fstat + read + 2 sends": floor,
        "gateway.handle, whole request, 200": whole,
    }
    figures = {}
    for name, run in cases.items():
        await run()
        expected = 304 if "304" in name else 200
        if sink.status != expected:
            raise AssertionError(f"{name}: status {sink.status}, expected {expected}")
        figures[name] = await best(number, run)
        print(f"{name:<52} {figures[name]:8.1f} µs/request", flush=True)
    return figures


async def _response_head(folders: StaticFolders) -> list[tuple[bytes, bytes]]:
    """The response head edge sends for /assets/app.css."""
    seen: list[tuple[bytes, bytes]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.extend(message["headers"])

    ex = Exchange("bench", 0.0, "GET", "/assets/app.css", "localhost", "127.0.0.1")
    await folders.serve(ex, HEADERS, send, ConnectionInfo())
    return seen


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=3000)
    args = parser.parse_args()
    uvloop.run(main(args.number))
