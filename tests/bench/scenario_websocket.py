"""`websocket`: WebSocket echo messages per second through edge's tunnel, nginx, and an ASGI relay.

    .venv/bin/python -m tests.bench.run --only websocket [--quick]

The origin is `ws_echo.py` (a frame echo light enough not to be the bottleneck), on the load core with the
client. Three gateways on the gateway core, measured alternately:

    edge         edge's tunnel: after the 101, bytes both ways between the two transports, never parsed
    nginx        nginx's documented recipe (`proxy_set_header Upgrade $http_upgrade; Connection upgrade`)
    asgi-relay   uvicorn's ASGI WebSocket interface relaying messages with a `websockets` client (the design
                 edge did not take: every frame parsed and re-encoded on each side; `ws_asgi_relay.py`)

The client (this process, asyncio + ssl) opens `connections` WebSockets and on each sends `in_flight` binary
messages of SIZE bytes in one write, then reads their echo, and again, until the run's time is up or it
reached MAX_MESSAGES. Its frames are masked with a zero key (legal, RFC 6455 section 5.3) and pre-built, so
a message costs it nearly nothing. Two shapes (MODES): `lockstep`, one message in flight per connection (a
chat: every message is a read and a write of its own through the gateway), and `windowed`, 16 in flight (a
feed: messages travel together). Figures: echoed messages/s, gateway CPU per message, p99 of a window's
round trip; the ratio edge/nginx is the scenario's result, edge/asgi-relay the reason for the design. On the
2-core machine the load core (client and origin) saturates before the gateways: compare CPU per message.
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.load import LoadResult
from tests.bench.measure import cpu_ratio, print_table, warm_rounds
from tests.bench.registry import Options, scenario
from tests.bench.stack import HOST, BenchError, Stack, Target, free_port

MODES = (("lockstep", 50, 1), ("windowed", 20, 16))  # name, connections, messages in flight per connection
SIZE = 128
MAX_MESSAGES = 5_000_000  # per run: bounds a run whatever --seconds says
HERE = Path(__file__).resolve().parent


def client_frame(payload: bytes) -> bytes:
    """A final binary frame as a client sends it, masked with the zero key (RFC 6455 section 5.2)."""
    length = len(payload)
    assert length < 65536
    head = b"\x82" + (bytes([0x80 | length]) if length < 126 else b"\xfe" + length.to_bytes(2, "big"))
    return head + b"\0\0\0\0" + payload


def echo_size(payload_size: int) -> int:
    return payload_size + (2 if payload_size < 126 else 4)


async def _handshake(port: int, context: ssl.SSLContext) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=HOST)
    key = base64.b64encode(os.urandom(16))
    writer.write(
        b"GET /echo HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n" % (HOST.encode(), key)
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101 "):
        status_line = head.split(b"\r\n", 1)[0]
        raise BenchError(f"handshake answered {status_line!r}")
    return reader, writer


async def _echo_load(
    port: int, context: ssl.SSLContext, seconds: float, connections: int, in_flight: int
) -> tuple[int, int, list[float], str]:
    """(messages echoed, failed connections, window round trips in ms, first error)."""
    window = client_frame(os.urandom(SIZE)) * in_flight
    expect = echo_size(SIZE) * in_flight
    stop = time.monotonic() + seconds
    counts = [0]
    failures = [0]
    errors: list[str] = []
    rtts: list[float] = []

    async def one() -> None:
        try:
            reader, writer = await _handshake(port, context)
        except (OSError, BenchError, asyncio.IncompleteReadError) as exc:
            failures[0] += 1
            errors.append(repr(exc))
            return
        try:
            while time.monotonic() < stop and counts[0] < MAX_MESSAGES:
                started = time.perf_counter()
                writer.write(window)
                await reader.readexactly(expect)
                rtts.append((time.perf_counter() - started) * 1000)
                counts[0] += in_flight
            writer.write(b"\x88\x82\0\0\0\0\x03\xe8")  # close 1000
            await asyncio.wait_for(reader.read(), 2)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            failures[0] += 1
            errors.append(repr(exc))
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return counts[0], failures[0], rtts, errors[0] if errors else ""


def run_echo(stack: Stack, target: Target, seconds: float, connections: int, in_flight: int) -> LoadResult:
    """One run of the echo load against `target`, with its CPU measured."""
    assert stack.ca is not None
    context = ssl.create_default_context(cafile=str(stack.ca))
    meter = stack.meter(target)
    with meter:
        started = time.perf_counter()
        messages, failures, rtts, error = asyncio.run(_echo_load(target.port, context, seconds, connections, in_flight))
        elapsed = time.perf_counter() - started
    p99 = statistics.quantiles(rtts, n=100)[98] if len(rtts) >= 100 else None
    return LoadResult(
        target=target.name,
        rate=messages / elapsed if elapsed else 0.0,
        requests=messages,
        errors=failures,
        seconds=elapsed,
        gateway_cpu=meter.gateway,
        client_cpu=meter.client,
        foreign_cpu=meter.foreign,
        p99_ms=p99,
        detail=error,
    )


def start_echo_origin(stack: Stack) -> int:
    port = free_port()
    proc = stack._spawn(
        "ws-origin", [*stack.pinning.load(), sys.executable, str(HERE / "ws_echo.py"), "--port", str(port)]
    )
    stack._wait_ready(proc, port, tls=False)
    return port


def start_asgi_relay(stack: Stack, origin: int) -> Target:
    cert, _ = stack._certificates()
    port = free_port()
    argv = [sys.executable, str(HERE / "ws_asgi_relay.py"), "--port", str(port), "--origin-port", str(origin)]
    proc = stack._spawn("asgi-relay", [*stack.pinning.gateway(), *argv, "--cert", str(cert)])
    stack._wait_ready(proc, port, tls=True)
    return Target("asgi-relay", port, proc)


@scenario("websocket")
def websocket(stack: Stack, opts: Options) -> dict[str, Any]:
    """WebSocket echo messages/s: edge's byte tunnel vs nginx vs an ASGI message relay on uvicorn."""
    origin = start_echo_origin(stack)
    edge = stack.edge("edge-ws", origin_port=origin)
    nginx = stack.nginx("nginx-ws", origin_port=origin, websocket=True)
    relay = start_asgi_relay(stack, origin)
    targets = [edge, nginx, relay]
    results: dict[str, Any] = {}
    for mode, connections, in_flight in MODES:
        print(
            f"\n[websocket {mode}] {connections} WebSockets, {in_flight} binary message(s) of {SIZE} bytes in flight "
            f"on each, {opts.seconds:g}s per run (at most {MAX_MESSAGES:,} messages), {opts.rounds} alternating "
            "rounds after a 1s warm-up each",
            flush=True,
        )
        rows = warm_rounds(
            targets,
            opts.rounds,
            lambda target, seconds, c=connections, w=in_flight: run_echo(stack, target, seconds, c, w),
            warmup=1,
            seconds=opts.seconds,
            width=10,
        )
        ratio = print_table(
            f"websocket {mode}: echo of {SIZE}-byte messages, {connections} connections x {in_flight} in flight, "
            f"median of {opts.rounds}",
            "messages/s",
            rows,
            first="edge-ws",
            second="nginx-ws",
        )
        relay_rate = rows["asgi-relay"]["rate"]
        ratio_relay = rows["edge-ws"]["rate"] / relay_rate if relay_rate else None
        if ratio_relay is not None:
            print(f"  ratio edge/asgi-relay: throughput {ratio_relay:.3f}{cpu_ratio(rows, 'edge-ws', 'asgi-relay')}")
        results[mode] = {
            "connections": connections,
            "in_flight": in_flight,
            "results": rows,
            "ratio_edge_nginx": ratio,
            "ratio_edge_asgi_relay": ratio_relay,
        }
    return {
        "client": "tests/bench/scenario_websocket.py (asyncio + ssl, pre-built frames masked with the zero key)",
        "origin": "tests/bench/ws_echo.py",
        "message_bytes": SIZE,
        "seconds": opts.seconds,
        "rounds": opts.rounds,
        "modes": results,
        "ratio_edge_nginx": results["lockstep"]["ratio_edge_nginx"],
    }
