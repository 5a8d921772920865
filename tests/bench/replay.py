"""Replays corpus JSONL lines against a gateway as raw bytes over TLS: our own runner, no `/work/shared` needed.

    .venv/bin/python -m tests.bench.replay --url https://127.0.0.1:8443 tests/corpus/benign/*.jsonl

Why our own: `make waf-score` must score `tests/corpus/benign/` in a plain clone, and the benign corpus carries
binary request bodies (`body_b64`: images, archives, gzip) that the shared runner cannot send. The wire format
follows `run_corpus.py` so both runners send the same bytes for the same line:

  target   = `uri` if present, else `path` + ("?" + `query` when `query` is not null), sent exactly as stored
  headers  = in stored order and spelling; `Host` added (from --host) when `add_host` is true and absent
  body     = base64-decoded `body_b64`, else `body` as UTF-8 (surrogate escapes allowed, as in run_corpus.py)
  autocomplete (default true): `Connection: close` when absent, `Content-Length` when absent and there is a
           body or the method is POST/PUT/PATCH/DELETE
  raw_b64  = bytes sent verbatim

One new connection per request, `concurrency` at a time, `timeout` seconds for connect, send and response each.
A request counts as blocked when the status is 403. The gateway's `Edge-Request-Id` response header is kept so
that a caller can join each result with the gateway's access-log line (which names the WAF rules that matched).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import re
import ssl
import sys
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_READ = 1 << 20
STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?\s+(\d{3})")


class NoResponse(Exception):
    """The connection ended before a complete response head arrived."""


@dataclass
class Result:
    id: str
    status: int | None
    blocked: bool
    request_id: str | None
    error: str | None
    ms: float


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    lname = name.lower()
    return next((v for k, v in headers if k.lower() == lname), None)


def body_bytes(rec: dict[str, Any]) -> bytes:
    """The request body of a line: `body_b64` (exact bytes) wins over `body` (text)."""
    if rec.get("body_b64"):
        return base64.b64decode(rec["body_b64"])
    body = rec.get("body")
    return body.encode("utf-8", "surrogateescape") if body else b""


def request_bytes(rec: dict[str, Any], host: str) -> tuple[bytes, str]:
    """The raw bytes of one line's request and its method."""
    method = rec.get("method") or "GET"
    if rec.get("raw_b64"):
        return base64.b64decode(rec["raw_b64"]), method
    if rec.get("uri") is not None:
        target = rec["uri"]
    else:
        target = rec.get("path") or "/"
        if rec.get("query") is not None:
            target += "?" + rec["query"]
    headers = list((rec.get("headers") or {}).items())
    if rec.get("add_host", False) and _header(headers, "Host") is None:
        headers.insert(0, ("Host", host))
    body = body_bytes(rec)
    if rec.get("autocomplete", True):
        if _header(headers, "Connection") is None:
            headers.append(("Connection", "close"))
        if _header(headers, "Content-Length") is None and (body or method in BODY_METHODS):
            headers.append(("Content-Length", str(len(body))))
    head = f"{method} {target} {rec.get('version') or 'HTTP/1.1'}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("utf-8", "surrogateescape") + body, method


async def read_response(reader: asyncio.StreamReader, method: str) -> tuple[int, dict[bytes, bytes]]:
    """Status and headers of the final response; the body is read (and dropped) so the exchange completes."""
    while True:
        line = await reader.readline()
        if not line:
            raise NoResponse("connection closed before the status line")
        match = STATUS_LINE.match(line)
        if not match:
            raise NoResponse(f"bad status line {line[:80]!r}")
        status = int(match.group(1))
        headers: dict[bytes, bytes] = {}
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            if b":" in h:
                k, v = h.split(b":", 1)
                headers[k.strip().lower()] = v.strip()
        if not (100 <= status < 200 and status != 101):
            break
    if method == "HEAD" or status in (204, 304):
        return status, headers
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        read = 0
        while read < MAX_READ:
            size_line = await reader.readline()
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                break
            if size == 0:
                break
            await reader.readexactly(size + 2)
            read += size
    elif b"content-length" in headers:
        try:
            length = int(headers[b"content-length"])
        except ValueError:
            length = 0
        await reader.readexactly(min(length, MAX_READ))
    else:
        await reader.read(MAX_READ)
    return status, headers


def client_context() -> ssl.SSLContext:
    """TLS without verification: the gateway under test serves development certificates."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def send_one(
    rec: dict[str, Any],
    address: tuple[str, int],
    host: str,
    ctx: ssl.SSLContext | None,
    timeout: float,
    sem: asyncio.Semaphore,
) -> Result:
    data, method = request_bytes(rec, host)
    status: int | None = None
    request_id: str | None = None
    error: str | None = None
    async with sem:
        started = time.perf_counter()
        writer: asyncio.StreamWriter | None = None
        try:
            reader, opened = await asyncio.wait_for(
                asyncio.open_connection(
                    address[0], address[1], ssl=ctx, server_hostname=host.split(":")[0] if ctx else None, limit=MAX_READ
                ),
                timeout,
            )
            writer = opened
            try:
                opened.write(data)
                await asyncio.wait_for(opened.drain(), timeout)
            except OSError:
                pass  # the gateway may answer (403, 413) and close before reading the whole body
            status, headers = await asyncio.wait_for(read_response(reader, method), timeout)
            rid = headers.get(b"edge-request-id")
            request_id = rid.decode("latin-1") if rid else None
        except TimeoutError:
            error = "timeout"
        except (NoResponse, asyncio.IncompleteReadError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            ms = round((time.perf_counter() - started) * 1000, 2)
            if writer is not None:
                writer.close()
                with contextlib.suppress(TimeoutError, OSError):
                    await asyncio.wait_for(writer.wait_closed(), 2)
    return Result(str(rec.get("id")), status, status == 403, request_id, error, ms)


async def replay(
    records: Sequence[dict[str, Any]],
    address: tuple[str, int],
    host: str = "localhost",
    tls: bool = True,
    concurrency: int = 4,
    timeout: float = 5.0,
) -> list[Result]:
    """Send every record once; results in the order of `records`."""
    sem = asyncio.Semaphore(concurrency)
    ctx = client_context() if tls else None
    return list(await asyncio.gather(*(send_one(rec, address, host, ctx, timeout, sem) for rec in records)))


def load(paths: Iterable[Path]) -> list[dict[str, Any]]:
    records = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="+", type=Path, help="JSONL files")
    parser.add_argument("--url", required=True, help="http(s)://host:port of the gateway")
    parser.add_argument("--host", default="localhost", help="Host header and SNI for lines without a Host")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--results", type=Path, help="write one JSON line per request here")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        parser.error("--url must be http(s)://host:port")
    port = url.port or (443 if url.scheme == "https" else 80)
    records = load(args.corpus)
    started = time.monotonic()
    results = asyncio.run(
        replay(records, (url.hostname, port), args.host, url.scheme == "https", args.concurrency, args.timeout)
    )
    elapsed = time.monotonic() - started
    per_set: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for rec, res in zip(records, results, strict=True):
        per_set[str(rec.get("set"))][0] += 1
        per_set[str(rec.get("set"))][1] += int(res.blocked)
    for name, (n, blocked) in sorted(per_set.items()):
        print(f"  {name:24s} {blocked:5d}/{n:<5d} blocked ({100.0 * blocked / n:5.1f}%)")
    errors = [r for r in results if r.error]
    print(
        f"{len(results)} requests in {elapsed:.1f}s, {len(errors)} errors"
        + (f" (first: {errors[0].error})" if errors else "")
    )
    if args.results:
        args.results.write_text("".join(json.dumps(asdict(r)) + "\n" for r in results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
