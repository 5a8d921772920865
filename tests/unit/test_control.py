"""The control channel: one JSON command per connection, one reply per worker, handlers registered by name."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from edge import control


@pytest.fixture
def channel(tmp_path: Path) -> Any:
    control.configure(tmp_path, 2, 0)
    yield tmp_path
    control.configure(None, 0, None)  # type: ignore[arg-type]


async def _serve(folder: Path, count: int) -> list[control.ControlServer]:
    servers = [control.ControlServer(folder, index) for index in range(count)]
    for server in servers:
        await server.start()
    return servers


def test_broadcast_gets_one_reply_per_worker_in_order(channel: Path) -> None:
    seen: list[dict[str, Any]] = []

    async def purge(message: dict[str, Any]) -> dict[str, Any]:
        seen.append(message)
        return {"purged": 3}

    control.register("purge-test", purge)

    async def main() -> list[dict[str, Any]]:
        servers = await _serve(channel, 2)
        try:
            return await control.broadcast({"cmd": "purge-test", "prefix": "/img/"}, timeout=2)
        finally:
            for server in servers:
                await server.stop()

    replies = asyncio.run(main())
    assert [(r["worker"], r["ok"], r["purged"]) for r in replies] == [(0, True, 3), (1, True, 3)]
    assert seen == [{"cmd": "purge-test", "prefix": "/img/"}] * 2
    assert (channel / "worker-0.sock").stat().st_mode & 0o777 == 0o600


def test_unknown_command_failing_handler_and_missing_worker(channel: Path) -> None:
    async def broken(message: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("no such entry")

    control.register("broken-test", broken)

    async def main() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        (server,) = await _serve(channel, 1)  # worker 1 never started: unreachable
        try:
            unknown = await control.broadcast({"cmd": "nope"}, timeout=1)
            failing = await control.broadcast({"cmd": "broken-test"}, timeout=1)
            return unknown, failing
        finally:
            await server.stop()

    unknown, failing = asyncio.run(main())
    assert unknown[0]["ok"] is False and "unknown command 'nope'" in unknown[0]["error"]
    assert "ping" in unknown[0]["error"], "the error lists the known commands"
    assert failing[0] == {"worker": 0, "pid": failing[0]["pid"], "ok": False, "error": "ValueError: no such entry"}
    assert failing[1]["ok"] is False and failing[1]["error"].startswith("unreachable")


def test_a_slow_worker_times_out_without_holding_the_others(channel: Path) -> None:
    async def slow(message: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(5)
        return {}

    control.register("slow-test", slow)

    async def main() -> list[dict[str, Any]]:
        servers = await _serve(channel, 2)
        try:
            return await control.broadcast({"cmd": "slow-test"}, timeout=0.3)
        finally:
            for server in servers:
                await server.stop()

    replies = asyncio.run(main())
    assert [r["error"] for r in replies] == ["no answer within 0.3s"] * 2


def test_broadcast_sync_from_the_master(channel: Path) -> None:
    """The master runs no event loop: `broadcast_sync` asks servers living in another thread's loop."""
    import threading

    ready = threading.Event()
    done: asyncio.Event | None = None
    loop_holder: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        nonlocal done
        done = asyncio.Event()
        loop_holder.append(asyncio.get_running_loop())
        servers = await _serve(channel, 2)
        ready.set()
        await done.wait()
        for server in servers:
            await server.stop()

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    assert ready.wait(5)
    try:
        replies = control.broadcast_sync(channel, 3, {"cmd": "ping"}, timeout=2)
    finally:
        assert done is not None
        loop_holder[0].call_soon_threadsafe(done.set)
        thread.join(5)
    assert [(r["worker"], r["ok"]) for r in replies] == [(0, True), (1, True), (2, False)]
    assert replies[2]["error"].startswith("unreachable")
