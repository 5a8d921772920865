"""`ratelimit`: what one `[[ratelimit]]` rule costs per request, with counters in memory and in Redis.

    .venv/bin/python -m tests.bench.run --only ratelimit [--quick]

Three edges in front of the same origin, measured alternately with wrk (keep-alive HTTPS GETs of 1 KiB):

    off      no rules at all
    memory   one rule matching every request, key ip.src, a limit so large nothing is ever refused;
             [ratelimit] storage = "memory://"
    redis    the same rule with storage = "redis://..." (a redis-server started for the bench)

The strategy is the default (moving-window). Each edge gets a rules folder of its own (the stack's shared
`rules/` folder is left alone), set with a `[waf]` table after the site. Before measuring, one request
through each checks that the rule is really applied (a `RateLimit` header, which also proves that Redis
answered: failing open sends none) and that `off` sends none. Figures are requests/s and ratios to `off`.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import time
from typing import Any

from tests.bench.measure import cpu_ratio, print_table, wrk_example, wrk_rounds, wrk_settings
from tests.bench.registry import Options, scenario
from tests.bench.stack import FILE_PATH, HOST, BenchError, Stack, Target, _apt_install, free_port

HUGE_LIMIT = "1000000000/minute"
RULE = f"""[[ratelimit]]
id = "bench"
expr = 'starts_with(http.request.uri.path, "/")'
limit = "{HUGE_LIMIT}"
key = 'ip.src'
"""


def start_redis(stack: Stack) -> str:
    """A redis-server on a free loopback port (no persistence), stopped with the stack; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise BenchError("redis-server is missing: apt-get install -y redis-server")
        _apt_install(["redis-server"])
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchError("redis-server still missing after apt-get install")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(stack.dir), "--protected-mode", "no", "--daemonize", "no"]
    # Redis is a service beside the gateway, like the origin: it runs on the load core, not the gateway's.
    proc = stack._spawn("redis", [*stack.pinning.load(), *argv])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise BenchError(f"redis-server exited with {proc.popen.returncode}\n{proc.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0"
        except OSError:
            pass
        time.sleep(0.05)
    raise BenchError(f"redis-server did not answer on port {port} within 10 s\n{proc.tail()}")


def ratelimit_edge(stack: Stack, name: str, *, storage: str | None) -> Target:
    """An edge whose own rules folder holds RULE (or nothing when `storage` is None)."""
    rules = stack.dir / f"rules-{name}"
    rules.mkdir(exist_ok=True)
    if storage is not None:
        (rules / "50-bench.toml").write_text(RULE)
    extra = f'\n[waf]\nrules = "{rules.name}"\n'
    if storage is not None:
        extra += f'\n[ratelimit]\nstorage = "{storage}"\n'
    return stack.edge(name, site_extra=extra)


def ratelimit_header(stack: Stack, target: Target) -> str | None:
    """The `RateLimit` header of one GET through `target` (status must be 200)."""
    assert stack.ca is not None
    context = ssl.create_default_context(cafile=str(stack.ca))
    conn = http.client.HTTPSConnection(HOST, target.port, context=context, timeout=5)
    try:
        conn.request("GET", FILE_PATH)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise BenchError(f"{target.name}: GET {FILE_PATH} answered {response.status}")
        return response.getheader("RateLimit")
    finally:
        conn.close()


@scenario("ratelimit")
def ratelimit(stack: Stack, opts: Options) -> dict[str, Any]:
    """Keep-alive GETs through edge: no rules vs one rate-limit rule (memory:// and redis://), with wrk."""
    redis_url = start_redis(stack)
    targets = [
        ratelimit_edge(stack, "off", storage=None),
        ratelimit_edge(stack, "memory", storage="memory://"),
        ratelimit_edge(stack, "redis", storage=redis_url),
    ]
    for target in targets:
        header = ratelimit_header(stack, target)
        if (header is None) != (target.name == "off"):
            raise BenchError(f"{target.name}: RateLimit header {header!r}: the rule is not applied as intended")
    example = wrk_example(stack, opts)
    print(
        f"\n[ratelimit] {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds); "
        f'rule: every request, key ip.src, limit "{HUGE_LIMIT}", strategy moving-window; Redis at {redis_url}',
        flush=True,
    )
    rows = wrk_rounds(stack, opts, targets)
    ratio_memory = print_table(
        f"ratelimit: 1 KiB GET over keep-alive HTTPS, {opts.connections} connections, median of {opts.rounds}",
        "requests/s",
        rows,
        first="memory",
        second="off",
    )
    off = rows["off"]["rate"]
    ratio_redis = rows["redis"]["rate"] / off if off else None
    if ratio_redis is not None:
        print(f"  ratio redis/off: throughput {ratio_redis:.3f}{cpu_ratio(rows, 'redis', 'off')}")
    for target in targets[1:]:  # the huge limit held: nothing was refused (a 429 would also count as an error)
        if ratelimit_header(stack, target) is None:
            raise BenchError(f"{target.name}: no RateLimit header after the runs (did the storage fail open?)")
    return {
        **wrk_settings(example, opts),
        "rule": RULE,
        "strategy": "moving-window",
        "results": rows,
        "ratio_memory_off": ratio_memory,
        "ratio_redis_off": ratio_redis,
    }
