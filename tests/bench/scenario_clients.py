"""The `clients` scenario: which upstream HTTP client should edge use? Measured here, on this machine.

Three minimal TLS reverse proxies (tests/bench/client_proxies.py: raw ASGI on uvicorn, one worker, httptools,
uvloop, no logging) differ only in the client that talks to the origin: httpx, aiohttp, and edge's own
`edge.proxy.upstream.Pool`. They are loaded like the gateways of the `proxy` scenario (same wrk command, same
core, alternating rounds), next to the full edge gateway and nginx as references.

aiohttp and httpx are not dependencies of edge (they are the `bench` extra of pyproject.toml); when missing,
the scenario installs them into this interpreter with `python -m pip install -q`, and says so.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import shlex
import subprocess
import sys
from typing import Any

from tests.bench.measure import print_warnings, wrk_example, wrk_rounds, wrk_settings
from tests.bench.registry import Options, scenario
from tests.bench.stack import BenchError, Stack, Target, free_port

REQUIREMENTS = ("aiohttp>=3.9", "httpx>=0.27")
# Target name -> --client of client_proxies.py; this is also the order of the table and of each round.
PROXIES = {"httpx": "httpx", "aiohttp": "aiohttp", "edge-pool": "edge"}
DESCRIPTIONS = {
    "httpx": "minimal proxy, httpx.AsyncClient",
    "aiohttp": "minimal proxy, aiohttp.ClientSession",
    "edge-pool": "minimal proxy, edge.proxy.upstream.Pool",
    "edge": "edge gateway, full request path",
    "nginx": "nginx reverse proxy (reference)",
}


def ensure_clients() -> dict[str, str]:
    """aiohttp and httpx importable by this interpreter (the proxies run under it); their versions."""
    missing = [name for name in ("aiohttp", "httpx") if importlib.util.find_spec(name) is None]
    if missing:
        command = [sys.executable, "-m", "pip", "install", "-q", *REQUIREMENTS]
        print(f"[clients] {', '.join(missing)} missing: installing with {shlex.join(command)}", flush=True)
        done = subprocess.run(command, check=False)
        importlib.invalidate_caches()
        if done.returncode != 0 or any(importlib.util.find_spec(name) is None for name in missing):
            raise BenchError(f"could not install {' '.join(REQUIREMENTS)} (pip exited {done.returncode})")
    versions = {}
    for name in ("aiohttp", "httpx", "httpcore", "anyio", "uvicorn", "uvloop", "httptools"):
        versions[name] = _version(name)
    # httpcore <= 1.0.9 imports sniffio inside every lock/event setup and falls back to asyncio when that
    # fails; anyio >= 4.12 no longer pulls sniffio in, so the failed import (not cached by Python) is paid
    # several times per request (encode/httpcore#1103). Recorded, because it costs httpx a lot here.
    versions["sniffio"] = _version("sniffio") if importlib.util.find_spec("sniffio") else "absent"
    return versions


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def start_proxy(stack: Stack, name: str, client: str) -> Target:
    """One client proxy as a process of the stack (stopped with it), pinned to the gateways' core."""
    if name in stack.targets:
        return stack.targets[name]
    origin = stack.origin()
    cert = stack.cert
    if cert is None:
        raise BenchError("no dev certificate: start an edge gateway first")
    port = free_port()
    argv = [
        *stack.pinning.gateway(),
        sys.executable,
        "-m",
        "tests.bench.client_proxies",
        "--client",
        client,
        "--port",
        str(port),
        "--origin-port",
        str(origin),
        "--cert",
        str(cert),
    ]
    # `-m tests.bench.client_proxies` imports like `-m tests.bench.run` did: same cwd and environment.
    proc = stack._spawn(name, argv)
    stack._wait_ready(proc, port, tls=True)
    stack.targets[name] = target = Target(name, port, proc)
    return target


def print_rows(title: str, rows: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """The table; returns each row's throughput ratio to nginx."""
    print(f"\n{title}")
    header = (
        f"  {'client':<11}{'requests/s':>12}{'p99 ms':>9}{'CPU us/req':>12}{'CPU busy':>10}{'errors':>8}"
        f"{'vs nginx':>10}{'CPU/req vs nginx':>18}  valid"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    reference = rows["nginx"]
    ratios: dict[str, float | None] = {}
    for name, row in rows.items():
        ratio = row["rate"] / reference["rate"] if reference["rate"] else None
        ratios[name] = ratio
        cpu, ref_cpu = row["gateway_cpu_us_per_request"], reference["gateway_cpu_us_per_request"]
        p99 = f"{row['p99_ms']:.2f}" if row["p99_ms"] is not None else "-"
        cpu_text = f"{cpu:.0f}" if cpu is not None else "-"
        ratio_text = f"{ratio:.3f}" if ratio is not None else "-"
        cpu_ratio = f"{cpu / ref_cpu:.2f}x" if cpu and ref_cpu else "-"
        print(
            f"  {name:<11}{row['rate']:>12.1f}{p99:>9}{cpu_text:>12}{row['gateway_cpu_busy']:>10.0%}"
            f"{row['errors']:>8}{ratio_text:>10}{cpu_ratio:>18}  {'yes' if row['valid'] else 'NO'}"
        )
    for name, text in DESCRIPTIONS.items():
        print(f"  {name:<11}{text}")
    print_warnings(rows, idle_means="not the bottleneck")
    return ratios


@scenario("clients")
def clients(stack: Stack, opts: Options) -> dict[str, Any]:
    """Upstream HTTP clients compared: minimal proxies on httpx, aiohttp and edge's Pool, plus edge and nginx."""
    versions = ensure_clients()
    edge, nginx = stack.edge(), stack.nginx()  # edge() also makes the dev certificate the proxies serve
    targets = [start_proxy(stack, name, client) for name, client in PROXIES.items()] + [edge, nginx]
    example = wrk_example(stack, opts)
    print(f"\n[clients] {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)", flush=True)
    print(f"[clients] {', '.join(f'{k} {v}' for k, v in versions.items())}", flush=True)
    rows = wrk_rounds(stack, opts, targets)
    ratios = print_rows(
        f"clients: 1 KiB GET over keep-alive HTTPS through a proxy per upstream client, {opts.connections} "
        f"connections, median of {opts.rounds}",
        rows,
    )
    if versions["sniffio"] == "absent":
        print(
            f"  note: sniffio is not installed: httpcore {versions['httpcore']} retries `import sniffio` on every "
            "lock and event it sets up, which is part of httpx's figure here (encode/httpcore#1103)"
        )
    return {
        **wrk_settings(example, opts),
        "proxies": "tests/bench/client_proxies.py (raw ASGI, uvicorn 1 worker, httptools, uvloop, no logging)",
        "descriptions": DESCRIPTIONS,
        "versions": versions,
        "tls": {t.name: stack.tls_of(t) for t in targets},
        "results": rows,
        "ratio_to_nginx": ratios,
    }
