"""`make bench`: edge against nginx as TLS reverse proxy, on this machine, in one run.

    .venv/bin/python -m tests.bench.run [--only NAME]... [--quick] [--connections N] [--seconds S]

Each scenario is a function registered in `SCENARIOS` with `@scenario("name")`; it gets the shared `Stack`
(origin, gateways started on demand) and the options, prints its table and returns a JSON-able dict, which
lands in `bench-results/<name>.json`. Gateways are measured alternately (edge, nginx, edge, nginx, ...) and
each figure is the median of the rounds, so that a drift of the machine hits both alike.

Exit status: 0 when every chosen scenario ran (whatever the figures say), 1 when one could not run, 2 for
bad arguments. A run with errors (non-2xx answers, socket errors) is reported as such: it is not a result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from tests.bench.load import run_handshakes
from tests.bench.measure import cpu_ratio, print_table, warm_rounds, wrk_example, wrk_rounds, wrk_settings
from tests.bench.registry import SCENARIOS, Options, scenario
from tests.bench.stack import REPO, BenchError, Pinning, Stack, Target, ensure_tools, free_port, tool_version

RESULTS = REPO / "bench-results"


# --- scenarios --------------------------------------------------------------------------------------------------


@scenario("proxy")
def proxy(stack: Stack, opts: Options) -> dict[str, Any]:
    """Keep-alive HTTPS GETs of a 1 KiB file through the gateway to the origin, with wrk."""
    targets = [stack.edge(), stack.nginx()]
    example = wrk_example(stack, opts)
    print(f"\n[proxy] {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)", flush=True)
    rows = wrk_rounds(stack, opts, targets)
    ratio = print_table(
        f"proxy: 1 KiB GET over keep-alive HTTPS, {opts.connections} connections, median of {opts.rounds}",
        "requests/s",
        rows,
        first="edge",
        second="nginx",
    )
    return {
        **wrk_settings(example, opts),
        "tls": {t.name: stack.tls_of(t) for t in targets},
        "results": rows,
        "ratio_edge_nginx": ratio,
    }


@scenario("handshakes")
def handshakes(stack: Stack, opts: Options) -> dict[str, Any]:
    """A new TLS connection (full handshake, no resumption) per request, from a Python client with threads; also
    uvicorn with a raw ASGI app answering by itself (`uvicorn_floor.py`): the share of the gap no change inside
    edge can remove."""
    targets = [stack.edge(), stack.nginx(), start_uvicorn_floor(stack)]
    assert stack.ca is not None
    ca = stack.ca
    print(
        f"\n[handshakes] Python ssl client, {opts.threads} threads, {opts.handshake_seconds:g}s per run, "
        f"one GET per connection ({opts.rounds} alternating rounds after a 1s warm-up each)",
        flush=True,
    )
    rows = warm_rounds(
        targets,
        opts.rounds,
        lambda t, seconds: run_handshakes(t, stack.meter(t), ca=ca, seconds=seconds, threads=opts.threads),
        warmup=1,
        seconds=opts.handshake_seconds,
    )
    ratio = print_table(
        f"handshakes: full TLS handshake + 1 GET per connection, {opts.threads} client threads, median of {opts.rounds}",
        "handshakes/s",
        rows,
        first="edge",
        second="nginx",
    )
    floor = cpu_ratio(rows, "uvicorn-floor", "nginx")
    if floor:
        print(f"  ratio uvicorn-floor/nginx{floor[1:]} (uvicorn answering by itself: the floor under edge)")
    notes = sorted({r["detail"] for row in rows.values() for r in row["runs"] if r["detail"]})
    for note in notes[:4]:
        print(f"  note: {note}")
    return {
        "client": "tests/bench/load.py run_handshakes (Python ssl, chain verified, no session resumption)",
        "threads": opts.threads,
        "seconds": opts.handshake_seconds,
        "rounds": opts.rounds,
        "tls": {t.name: stack.tls_of(t) for t in targets},
        "results": rows,
        "ratio_edge_nginx": ratio,
    }


def start_uvicorn_floor(stack: Stack) -> Target:
    cert, _ = stack._certificates()
    port = free_port()
    argv = [sys.executable, str(Path(__file__).parent / "uvicorn_floor.py"), "--port", str(port), "--cert", str(cert)]
    proc = stack._spawn("uvicorn-floor", [*stack.pinning.gateway(), *argv])
    stack._wait_ready(proc, port, tls=True)
    return Target("uvicorn-floor", port, proc)


# --- main -------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> tuple[list[str], Options]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="run this scenario (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections (default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per measured wrk run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3-second runs, for trying the harness out")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of wrk warm-up per gateway (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="measured runs per gateway, alternating (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="handshake client threads (default 4)")
    parser.add_argument("--handshake-seconds", type=float, default=3.0, help="seconds per handshake run (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (configs, logs) for inspection")
    args = parser.parse_args(argv)
    if args.list:
        for name, func in SCENARIOS.items():
            print(f"{name:<12} {(func.__doc__ or '').strip()}")
        raise SystemExit(0)
    if args.connections < 1 or args.seconds <= 0 or args.rounds < 1 or args.threads < 1:
        parser.error("--connections, --seconds, --rounds and --threads must be positive")
    seconds = 3.0 if args.quick else args.seconds
    options = Options(
        connections=args.connections,
        seconds=seconds,
        warmup=args.warmup,
        rounds=args.rounds,
        threads=args.threads,
        handshake_seconds=args.handshake_seconds,
        keep=args.keep,
    )
    return args.only or list(SCENARIOS), options


def _interrupt(signum: int, _: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def load_scenario_modules() -> None:
    """Import every `tests/bench/scenario_*.py`: each registers its scenarios with `@scenario`."""
    import importlib
    import pkgutil

    import tests.bench

    for module in pkgutil.iter_modules(tests.bench.__path__):
        if module.name.startswith("scenario_"):
            importlib.import_module(f"tests.bench.{module.name}")


def main(argv: Sequence[str] | None = None) -> int:
    load_scenario_modules()
    names, opts = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (a background job)
    try:
        tools = ensure_tools()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    usable = len(os.sched_getaffinity(0))
    pinning = Pinning.decide()
    pinning.pin_self_to_load_core()
    machine = {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "nginx": tool_version([tools["nginx"], "-v"]),
        "wrk": tool_version([tools["wrk"], "--version"]),
        "pinning": pinning.note,
    }
    print(f"bench: {', '.join(names)}; {pinning.note}", flush=True)
    failed: list[str] = []
    stack = Stack(tools, pinning, keep=opts.keep)
    try:
        for name in names:
            started = time.time()
            try:
                result = SCENARIOS[name](stack, opts)
            except BenchError as exc:
                print(f"\n[{name}] could not run: {exc}", file=sys.stderr)
                failed.append(name)
                continue
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            document = {
                "scenario": name,
                "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                "duration_seconds": round(time.time() - started, 1),
                "machine": machine,
                **result,
            }
            RESULTS.mkdir(exist_ok=True)
            path = RESULTS / f"{name}.json"
            path.write_text(json.dumps(document, indent=2) + "\n")
            print(f"  -> {path.relative_to(REPO)}", flush=True)
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if opts.keep:
            print(f"bench: temp folder kept: {stack.dir}", file=sys.stderr)
        stack.close()
    if failed:
        print(f"bench: could not run: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
