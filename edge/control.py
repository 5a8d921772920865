"""The control channel between edge's processes: a command reaches every worker before the caller answers.

The admin API runs in worker 0 only, yet some of its answers need every worker (`POST /reload`, a cache
purge). The master makes a private folder (mode 0700) before forking; worker N listens on `worker-N.sock`
in it and answers JSON-line commands. One command is one connection: `{"cmd": "reload", ...}\\n` in, one
JSON object line out. A worker restarted after a crash binds its socket again under the same name.

    control.register("purge", handler)          # in each worker: async handler(message) -> dict
    replies = await control.broadcast({"cmd": "purge", "prefix": "/img/"}, timeout=5)

`broadcast` returns one reply per worker, in worker order, the caller's own included; a worker that does
not answer in time, or whose handler raised, gives `{"worker": N, "ok": false, "error": "..."}`. A
handler's dict is the reply, with `worker`, `pid` and `ok` (true unless the handler set it) added.
The master uses `broadcast_sync` (it runs no event loop) for SIGHUP.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import selectors
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("edge.control")

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

ENV = "EDGE_CONTROL_DIR"  # where the sockets are, for every process of one `edge run`
MAX_LINE = 1024 * 1024

_handlers: dict[str, Handler] = {}
_setup: dict[str, Any] = {"folder": None, "workers": 0, "index": None}


def register(name: str, handler: Handler) -> None:
    """Answer command `name` in this worker with `handler` (registering a name again replaces its handler)."""
    _handlers[name] = handler


def configure(folder: Path, workers: int, index: int | None) -> None:
    """Where the sockets are and how many workers there are; `index` is this process's worker number (None
    for the master)."""
    _setup.update(folder=folder, workers=workers, index=index)


def socket_path(folder: Path, index: int) -> Path:
    return folder / f"worker-{index}.sock"


async def _ping(message: dict[str, Any]) -> dict[str, Any]:
    return {}


register("ping", _ping)


class ControlServer:
    """This worker's end: a Unix socket answering one JSON command per connection."""

    def __init__(self, folder: Path, index: int) -> None:
        self.path = socket_path(folder, index)
        self.index = index
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a crashed predecessor with the same index
        self.server = await asyncio.start_unix_server(self._client, path=str(self.path), limit=MAX_LINE)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
            self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            reply = await self.answer(line)
            writer.write(json.dumps(reply, default=str).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def answer(self, line: bytes) -> dict[str, Any]:
        base: dict[str, Any] = {"worker": self.index, "pid": os.getpid()}
        try:
            message = json.loads(line)
            if not isinstance(message, dict):
                raise ValueError("a command is a JSON object")
        except ValueError as exc:
            return {**base, "ok": False, "error": f"not a JSON command: {exc}"}
        name = message.get("cmd")
        handler = _handlers.get(str(name))
        if handler is None:
            return {**base, "ok": False, "error": f"unknown command {name!r}; known: {', '.join(sorted(_handlers))}"}
        try:
            result = await handler(message)
        except Exception as exc:
            log.exception("control command %r failed", name)
            return {**base, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return {**base, "ok": True, **result}


def _folder() -> Path:
    folder = _setup["folder"]
    if not folder:
        raise RuntimeError("the control channel is not set up in this process (edge run sets it up)")
    return Path(folder)


def _workers() -> int:
    return int(_setup["workers"])


async def _ask(path: Path, index: int, payload: bytes) -> dict[str, Any]:
    reader, writer = await asyncio.open_unix_connection(str(path), limit=MAX_LINE)
    try:
        writer.write(payload)
        await writer.drain()
        line = await reader.readline()
    finally:
        writer.close()
    if not line:
        raise ConnectionError("closed without an answer")
    reply: dict[str, Any] = json.loads(line)
    return reply


async def broadcast(message: dict[str, Any], timeout: float = 10.0) -> list[dict[str, Any]]:
    """Send `message` to every worker at once and gather one reply each (see the module docstring)."""
    folder, count = _folder(), _workers()
    payload = json.dumps(message).encode() + b"\n"

    async def one(index: int) -> dict[str, Any]:
        try:
            async with asyncio.timeout(timeout):
                return await _ask(socket_path(folder, index), index, payload)
        except TimeoutError:
            return {"worker": index, "ok": False, "error": f"no answer within {timeout:g}s"}
        except (OSError, ValueError) as exc:
            return {"worker": index, "ok": False, "error": f"unreachable: {exc}"}

    return list(await asyncio.gather(*(one(index) for index in range(count))))


def broadcast_sync(folder: Path, count: int, message: dict[str, Any], timeout: float = 10.0) -> list[dict[str, Any]]:
    """`broadcast` without an event loop (the master): all workers asked at once, answers read as they come."""
    payload = json.dumps(message).encode() + b"\n"
    replies: dict[int, dict[str, Any]] = {}
    buffers: dict[int, bytes] = {}
    selector = selectors.DefaultSelector()
    for index in range(count):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(str(socket_path(folder, index)))
            sock.sendall(payload)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            replies[index] = {"worker": index, "ok": False, "error": f"unreachable: {exc}"}
            continue
        buffers[index] = b""
        selector.register(sock, selectors.EVENT_READ, index)
    deadline = time.monotonic() + timeout
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(max(0.0, deadline - time.monotonic())):
            conn, index = key.fileobj, key.data
            if not isinstance(conn, socket.socket):
                continue
            try:
                chunk = conn.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            buffers[index] += chunk
            if not chunk or b"\n" in chunk:
                selector.unregister(conn)
                conn.close()
                try:
                    replies[index] = json.loads(buffers[index].split(b"\n", 1)[0])
                except ValueError:
                    replies[index] = {"worker": index, "ok": False, "error": "closed without an answer"}
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
        replies[key.data] = {"worker": key.data, "ok": False, "error": f"no answer within {timeout:g}s"}
    selector.close()
    return [replies[index] for index in range(count)]
