"""The two halves of a proxied request, measured apart in one process, in seconds or in instructions.

    .venv/bin/python -m tests.bench.hotpath gateway  [--requests 20000] [--access-log] [--ratelimit memory://]
    .venv/bin/python -m tests.bench.hotpath protocol [--requests 20000] [--per-connection]
    add --instructions to count with callgrind instead of timing (about a minute; needs valgrind)

`gateway`: edge's `Gateway` app driven directly by 50 concurrent tasks, with a real origin (`edge.demo` on a
free loopback port) and its real upstream pool: the phases, the upstream client and the access log, without
uvicorn or TLS. `protocol`: `EdgeHttpProtocol` with its cycle on a fake transport, fed raw request heads,
answered by a trivial ASGI app: uvicorn's share plus edge's protocol work, without sockets or TLS
(`--per-connection`: a new connection for every request, for the per-connection share).

Timing prints the best CPU microseconds per request of five rounds (`time.process_time`, so the origin's
work is not counted but this process's system calls are). `--instructions` runs the same under
`valgrind --tool=callgrind` with 1,000 and with 5,000 requests and prints the difference per request: startup
and imports cancel out, and the count does not move with the machine's other load. `tests/bench/instructions.py`
is the whole gateway process; these two tell which half a change moved.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.bench.stack import free_port

CLIENTS = 50
MODULE = "tests.bench.hotpath"
REQUEST_HEADERS = [
    (b"host", b"localhost"),
    (b"user-agent", b"h2load nghttp2/1.52.0"),
    (b"accept", b"*/*"),
    (b"accept-encoding", b"gzip, deflate"),
]
RAW_REQUEST = b"".join([b"GET /1k HTTP/1.1\r\n", *(b"%s: %s\r\n" % pair for pair in REQUEST_HEADERS), b"\r\n"])
ANSWER = [
    (b"content-type", b"application/octet-stream"),
    (b"content-length", b"1024"),
    (b"date", b"Wed, 02 Dec 2026 11:00:00 GMT"),
    (b"last-modified", b"Wed, 02 Dec 2026 10:00:00 GMT"),
    (b"etag", b'"abc-123"'),
    (b"accept-ranges", b"bytes"),
    (b"edge-request-id", b"0123456789abcdef"),
]
RATELIMIT_RULE = """[[ratelimit]]
id = "bench"
expr = 'starts_with(http.request.uri.path, "/")'
limit = "1000000000/minute"
key = 'ip.src'
"""


def config_text(origin: int, *, access_log: bool, storage: str | None) -> str:
    text = f"""[server]
https = "127.0.0.1:8443"
[log]
access = "{"/dev/null" if access_log else "off"}"
[tls]
certs = "."
[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:{origin}"]
"""
    if storage is not None:
        text += f'\n[waf]\nrules = "rules"\n\n[ratelimit]\nstorage = "{storage}"\n'
    return text


async def best_of_five(requests: int, run: Callable[[int], Awaitable[None]]) -> float:
    rounds = []
    for _ in range(5):
        start = time.process_time()
        await run(requests)
        rounds.append((time.process_time() - start) / requests * 1e6)
    return min(rounds)


async def gateway(args: argparse.Namespace, fixed: int | None) -> None:
    from edge.config import parse_config
    from edge.gateway import Gateway
    from edge.observe import AccessLog
    from edge.rules import load_rules
    from edge.runtime import Runtime
    from tests.bench.static_bench import Sink, scope

    origin = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "edge.demo", "--port", str(origin)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="edge-hotpath-") as name:
            folder = Path(name)
            text = config_text(origin, access_log=args.access_log, storage=args.ratelimit)
            (folder / "edge.toml").write_text(text)
            kwargs: dict[str, Any] = {}
            if args.ratelimit is not None:
                (folder / "rules").mkdir()
                (folder / "rules" / "50-bench.toml").write_text(RATELIMIT_RULE)
                rules, errors = load_rules(folder / "rules")
                if rules is None:
                    raise SystemExit(f"rules: {errors}")
                kwargs["rules"] = rules
            config = parse_config(text, folder / "edge.toml")
            runtime = Runtime(config, log=AccessLog("/dev/null" if args.access_log else "off"), **kwargs)
            app = Gateway(runtime)
            sink = Sink()

            async def client(count: int) -> None:
                for _ in range(count):
                    await app(scope("/1k", REQUEST_HEADERS), sink.receive, sink.send)
                    if sink.status != 200:
                        raise SystemExit(f"the gateway answered {sink.status}")
                    runtime.log.pending.clear()

            async def run(requests: int) -> None:
                await asyncio.gather(*(client(requests // CLIENTS) for _ in range(CLIENTS)))

            await wait_for_origin(origin)
            await run(500)
            if fixed is not None:
                await run(fixed)
                return
            print(f"gateway: {await best_of_five(args.requests, run):.1f} µs CPU per request (best of 5)")
    finally:
        demo.terminate()
        demo.wait(10)


async def wait_for_origin(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


class FakeSocket:
    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 8443)

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 50000)


class FakeTls:
    edge_sni = "localhost"

    def version(self) -> str:
        return "TLSv1.3"

    def getpeercert(self, binary_form: bool = False) -> None:
        return None


class FakeTransport:
    """Enough of a uvloop TLS transport for the protocol: counts writes, never blocks."""

    def __init__(self) -> None:
        self.writes = 0
        self.closing = False
        self.extra = {"socket": FakeSocket(), "ssl_object": FakeTls(), "sslcontext": True}

    def write(self, data: bytes) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self.extra.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    abort = close


async def answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": list(ANSWER)})
    await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": False})


async def protocol(args: argparse.Namespace, fixed: int | None) -> None:
    import uvicorn
    from uvicorn.server import ServerState

    from edge.config import parse_config
    from edge.protocol import Connections, protocol_class
    from edge.runtime import Runtime

    with tempfile.TemporaryDirectory(prefix="edge-hotpath-") as name:
        text = config_text(9, access_log=False, storage=None)
        runtime = Runtime(parse_config(text, Path(name) / "edge.toml"))
    cls = protocol_class(Connections(runtime))
    config = uvicorn.Config(
        answer, http=cls, lifespan="off", access_log=False, server_header=False, date_header=False,
        log_config=None, log_level="warning", ws="none", proxy_headers=False,
    )  # fmt: skip
    config.load()
    state = ServerState()
    protocols = []
    for _ in range(CLIENTS):
        kept = cls(config=config, server_state=state, app_state={})
        kept.connection_made(FakeTransport())  # type: ignore[arg-type]
        protocols.append(kept)

    async def keep_alive(requests: int) -> None:
        for _ in range(requests // CLIENTS):
            for kept in protocols:
                kept.data_received(RAW_REQUEST)
            for _ in range(4):  # the request tasks, then the cork's flush
                await asyncio.sleep(0)

    async def per_connection(requests: int) -> None:
        for _ in range(requests):
            fresh = cls(config=config, server_state=state, app_state={})
            fresh.connection_made(FakeTransport())  # type: ignore[arg-type]
            fresh.data_received(RAW_REQUEST)
            for _ in range(3):
                await asyncio.sleep(0)
            fresh.connection_lost(None)

    run = per_connection if args.per_connection else keep_alive
    await run(1000)
    if fixed is not None:
        await run(fixed)
        return
    what = "connection + request" if args.per_connection else "request (keep-alive)"
    print(f"protocol: {await best_of_five(args.requests, run):.1f} µs CPU per {what} (best of 5)")


def count_instructions(argv: list[str]) -> int:
    """Instructions per request: callgrind totals of runs with 1,000 and 5,000 requests, differenced."""
    totals = []
    with tempfile.TemporaryDirectory(prefix="edge-hotpath-cg-") as name:
        for requests in (1000, 5000):
            out = Path(name) / f"callgrind.{requests}"
            command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", MODULE]
            subprocess.run(
                [*command, *argv],
                env={**os.environ, "EDGE_HOTPATH_FIXED": str(requests)},
                check=True,
                capture_output=True,
            )
            match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(errors="replace"), re.M)
            if match is None:
                raise SystemExit(f"no total in {out}")
            totals.append(int(match.group(1)))
    return (totals[1] - totals[0]) // 4000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("half", choices=("gateway", "protocol"))
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--access-log", action="store_true", help="gateway: write the access log (to /dev/null)")
    parser.add_argument("--ratelimit", metavar="STORAGE", help="gateway: one rate-limit rule on this storage")
    parser.add_argument("--per-connection", action="store_true", help="protocol: a new connection per request")
    parser.add_argument("--instructions", action="store_true", help="count with callgrind instead of timing")
    args = parser.parse_args()
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("hotpath: valgrind is missing (apt-get install valgrind)")
            return 0
        argv = [a for a in sys.argv[1:] if a != "--instructions"]
        print(f"{args.half}: {count_instructions(argv):,} instructions per request")
        return 0
    fixed = int(os.environ["EDGE_HOTPATH_FIXED"]) if "EDGE_HOTPATH_FIXED" in os.environ else None
    import uvloop

    uvloop.run(gateway(args, fixed) if args.half == "gateway" else protocol(args, fixed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
