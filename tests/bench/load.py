"""Load generators: wrk for keep-alive throughput, a Python `ssl` client for full handshakes.

Both return a `LoadResult`, measured together with the gateway's CPU time so that a result stays
comparable even when the load generator, not the gateway, is the bottleneck.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from tests.bench.stack import FILE_PATH, HOST, BenchError, CpuMeter, Target

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True, slots=True)
class LoadResult:
    target: str
    rate: float  # requests/s (wrk) or handshakes/s
    requests: int
    errors: int  # non-2xx/3xx answers + socket errors (wrk), failed connections (handshakes)
    seconds: float
    gateway_cpu: float  # CPU seconds the gateway used during the run
    client_cpu: float  # CPU seconds of the load generator (wrk, or the Python handshake client)
    foreign_cpu: float  # CPU seconds used during the run by processes that are not the benchmark's
    p99_ms: float | None = None
    detail: str = ""

    @property
    def cpu_us_per_request(self) -> float | None:
        return self.gateway_cpu / self.requests * 1e6 if self.requests else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cpu_us_per_request": self.cpu_us_per_request}


# --- wrk --------------------------------------------------------------------------------------------------------


def wrk_command(
    wrk: str, url: str, *, connections: int, seconds: float, pin: list[str], extra_args: Sequence[str] = ()
) -> list[str]:
    """`extra_args` (headers: `-H "Name: value"`) go before the URL."""
    return [*pin, wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", *extra_args, url]


def run_wrk(
    wrk: str,
    target: Target,
    meter: CpuMeter,
    *,
    connections: int,
    seconds: float,
    pin: list[str],
    path: str = FILE_PATH,
    extra_args: Sequence[str] = (),
) -> LoadResult:
    """One wrk run of `seconds` against `path` (with its query) on `target`."""
    url = f"https://{HOST}:{target.port}{path}"
    argv = wrk_command(wrk, url, connections=connections, seconds=seconds, pin=pin, extra_args=extra_args)
    try:
        with meter:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk against {target.name} did not finish: {' '.join(argv)}") from exc
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {' '.join(argv)}\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout, target=target.name)
    return replace(result, gateway_cpu=meter.gateway, client_cpu=meter.client, foreign_cpu=meter.foreign)


def parse_wrk(text: str, *, target: str) -> LoadResult:
    """Requests/s, p99, request count and errors from `wrk --latency` output."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    total = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", text, re.M)
    p99 = re.search(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    if not (rate and total and p99):
        raise BenchError(f"could not parse wrk's output:\n{text}")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    bad_status = int(non2xx.group(1)) if non2xx else 0
    detail = []
    if sockets and socket_errors:
        detail.append(sockets.group(0))
    if bad_status:
        detail.append(non2xx.group(0) if non2xx else "")
    return LoadResult(
        target=target,
        rate=float(rate.group(1)),
        requests=int(total.group(1)),
        errors=socket_errors + bad_status,
        seconds=float(total.group(2)) * _UNITS_MS[total.group(3)] / 1000,
        gateway_cpu=0.0,
        client_cpu=0.0,
        foreign_cpu=0.0,
        p99_ms=float(p99.group(1)) * _UNITS_MS[p99.group(2)],
        detail="; ".join(detail),
    )


# --- full handshakes --------------------------------------------------------------------------------------------

_REQUEST = f"GET {FILE_PATH} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\nUser-Agent: edge-bench\r\n\r\n".encode()


class _Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok = 0
        self.errors = 0
        self.resumed = 0
        self.first_error = ""


def _one_handshake(context: ssl.SSLContext, port: int, counts: _Counts) -> None:
    """Connect, full handshake, one request, read the answer to the server's close."""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=HOST) as tls,
        ):
            tls.sendall(_REQUEST)
            chunks = []
            try:
                while data := tls.recv(65536):
                    chunks.append(data)
            except (ssl.SSLEOFError, ConnectionResetError):
                pass  # a close without close_notify after the answer: judged by the answer below
            resumed = bool(tls.session_reused)
        answer = b"".join(chunks)
        head, _, body = answer.partition(b"\r\n\r\n")
        ok = head.startswith(b"HTTP/1.1 200") and len(body) >= _content_length(head)
        with counts.lock:
            counts.ok += ok
            counts.errors += not ok
            counts.resumed += resumed
            if not ok and not counts.first_error:
                counts.first_error = head.split(b"\r\n", 1)[0].decode("latin-1") or "empty answer"
    except (OSError, ssl.SSLError) as exc:
        with counts.lock:
            counts.errors += 1
            counts.first_error = counts.first_error or f"{type(exc).__name__}: {exc}"


def _content_length(head: bytes) -> int:
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return int(match.group(1)) if match else 0


def run_handshakes(target: Target, meter: CpuMeter, *, ca: Path, seconds: float, threads: int) -> LoadResult:
    """`threads` threads each make full TLS handshakes (no session resumption), one request per connection,
    until `seconds` have passed. Runs in this process, which `Pinning.pin_self_to_load_core` pinned."""
    context = ssl.create_default_context(cafile=str(ca))
    if os.environ.get("NOVERIFY"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return run_handshakes_with(target, meter, context, seconds=seconds, threads=threads)


def run_handshakes_with(
    target: Target, meter: CpuMeter, context: ssl.SSLContext, *, seconds: float, threads: int, limit: int | None = None
) -> LoadResult:
    """`run_handshakes` with a client context of the caller's: `threads` threads of full handshakes + 1 GET
    each, for `seconds` or until `limit` handshakes were started."""
    counts = _Counts()
    started = 0
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def worker() -> None:
        nonlocal started
        while time.perf_counter() < deadline:
            if limit is not None:
                with lock:
                    if started >= limit:
                        return
                    started += 1
            _one_handshake(context, target.port, counts)

    with meter:
        pool = [threading.Thread(target=worker, name=f"handshake-{n}", daemon=True) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(seconds + 30)
        if any(thread.is_alive() for thread in pool):
            raise BenchError(f"handshake threads against {target.name} did not finish")
        elapsed = time.perf_counter() - start
    details = []
    if counts.resumed:
        details.append(f"{counts.resumed} resumed sessions (should be 0)")
    if counts.first_error:
        details.append(f"first error: {counts.first_error}")
    return LoadResult(
        target=target.name,
        rate=counts.ok / elapsed,
        requests=counts.ok,
        errors=counts.errors,
        seconds=elapsed,
        gateway_cpu=meter.gateway,
        client_cpu=meter.client,
        foreign_cpu=meter.foreign,
        detail="; ".join(details),
    )


# --- one request ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated fields joined with ", "
    body: bytes


def https_request(
    target: Target,
    ca: Path,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Answer:
    """One request on a new TLS connection to `target` (chain and name verified), for the sanity checks of a
    scenario: is this a hit, does the WAF let this body through."""
    context = ssl.create_default_context(cafile=str(ca))
    conn = http.client.HTTPSConnection(HOST, target.port, context=context, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        fields: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            fields[key] = f"{fields[key]}, {value}" if key in fields else value
        return Answer(response.status, fields, data)
    finally:
        conn.close()
