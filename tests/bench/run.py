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
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from tests.bench.load import LoadResult, run_handshakes, run_wrk, wrk_command
from tests.bench.registry import SCENARIOS, Options, scenario
from tests.bench.stack import REPO, BenchError, Pinning, Stack, Target, ensure_tools, tool_version

RESULTS = REPO / "bench-results"
SATURATED = 0.85  # share of its core above which a gateway is taken as the bottleneck of a run
FOREIGN_LIMIT = 0.10  # cores used by processes not ours during a run, above which the figures are suspect


# --- helpers shared by scenarios --------------------------------------------------------------------------------


def alternate(
    targets: Sequence[Target], rounds: int, measure: Callable[[Target], LoadResult]
) -> dict[str, list[LoadResult]]:
    """`rounds` measurements of each target, interleaved: a, b, a, b, ..."""
    runs: dict[str, list[LoadResult]] = {t.name: [] for t in targets}
    for round_no in range(1, rounds + 1):
        for target in targets:
            result = measure(target)
            runs[target.name].append(result)
            p99 = f", p99 {result.p99_ms:.2f} ms" if result.p99_ms is not None else ""
            errors = f", {result.errors} errors ({result.detail})" if result.errors else ""
            busy = f", gateway CPU {result.gateway_cpu / result.seconds:.0%}" if result.seconds else ""
            noise = result.foreign_cpu / result.seconds if result.seconds else 0.0
            foreign = f", OTHER PROCESSES {noise:.0%} of a core" if noise > FOREIGN_LIMIT else ""
            print(f"  round {round_no} {target.name:<6} {result.rate:>10.1f}/s{p99}{busy}{errors}{foreign}", flush=True)
    return runs


def summarize(runs: list[LoadResult]) -> dict[str, Any]:
    """Medians over the rounds, total errors, and every run."""
    p99s = [r.p99_ms for r in runs if r.p99_ms is not None]
    cpu = [r.cpu_us_per_request for r in runs if r.cpu_us_per_request is not None]
    return {
        "rate": statistics.median(r.rate for r in runs),
        "p99_ms": statistics.median(p99s) if p99s else None,
        "errors": sum(r.errors for r in runs),
        "requests": sum(r.requests for r in runs),
        "gateway_cpu_us_per_request": statistics.median(cpu) if cpu else None,
        "gateway_cpu_busy": statistics.median(r.gateway_cpu / r.seconds for r in runs if r.seconds),
        "client_cpu_busy": statistics.median(r.client_cpu / r.seconds for r in runs if r.seconds),
        "foreign_cpu_busy": max(r.foreign_cpu / r.seconds for r in runs if r.seconds),
        "valid": all(r.errors == 0 and r.requests > 0 for r in runs),
        "runs": [r.as_dict() for r in runs],
    }


def print_table(title: str, unit: str, rows: dict[str, dict[str, Any]], *, first: str, second: str) -> float | None:
    """The table of one scenario; returns first/second of the median rates (None when not comparable)."""
    print(f"\n{title}")
    header = (
        f"  {'configuration':<14}{unit:>14}{'p99 ms':>10}{'errors':>8}{'CPU us/req':>12}{'CPU busy':>10}"
        f"{'client CPU':>12}  valid"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, row in rows.items():
        p99 = f"{row['p99_ms']:.2f}" if row["p99_ms"] is not None else "-"
        cpu = f"{row['gateway_cpu_us_per_request']:.0f}" if row["gateway_cpu_us_per_request"] is not None else "-"
        valid = "yes" if row["valid"] else "NO"
        busy, client = f"{row['gateway_cpu_busy']:.0%}", f"{row['client_cpu_busy']:.0%}"
        print(f"  {name:<14}{row['rate']:>14.1f}{p99:>10}{row['errors']:>8}{cpu:>12}{busy:>10}{client:>12}  {valid}")
    ratio = rows[first]["rate"] / rows[second]["rate"] if rows[second]["rate"] else None
    if ratio is not None:
        cpu_a, cpu_b = rows[first]["gateway_cpu_us_per_request"], rows[second]["gateway_cpu_us_per_request"]
        cpu_ratio = f"; CPU per request {cpu_a / cpu_b:.2f}x" if cpu_a and cpu_b else ""
        print(f"  ratio {first}/{second}: throughput {ratio:.3f}{cpu_ratio}")
    if not all(row["valid"] for row in rows.values()):
        print("  WARNING: some runs had errors; these figures are not a valid result")
    idle = [name for name, row in rows.items() if row["gateway_cpu_busy"] < SATURATED]
    if idle:
        print(
            f"  note: {', '.join(idle)} used less than {SATURATED:.0%} of its core: the gateway was not the bottleneck "
            "(the load generator or other processes were); compare CPU per request"
        )
    noise = max(row["foreign_cpu_busy"] for row in rows.values())
    if noise > FOREIGN_LIMIT:
        print(f"  WARNING: other processes used up to {noise:.0%} of a core during the runs; the figures are disturbed")
    return ratio


# --- scenarios --------------------------------------------------------------------------------------------------


@scenario("proxy")
def proxy(stack: Stack, opts: Options) -> dict[str, Any]:
    """Keep-alive HTTPS GETs of a 1 KiB file through the gateway to the origin, with wrk."""
    targets = [stack.edge(), stack.nginx()]
    wrk = stack.tools["wrk"]
    pin = stack.pinning.load()
    example = " ".join(
        wrk_command(wrk, "https://localhost:PORT/1k", connections=opts.connections, seconds=opts.seconds, pin=pin)
    )
    print(f"\n[proxy] {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)", flush=True)
    for target in targets:
        run_wrk(wrk, target, stack.meter(target), connections=opts.connections, seconds=opts.warmup, pin=pin)
    runs = alternate(
        targets,
        opts.rounds,
        lambda t: run_wrk(wrk, t, stack.meter(t), connections=opts.connections, seconds=opts.seconds, pin=pin),
    )
    rows = {name: summarize(results) for name, results in runs.items()}
    ratio = print_table(
        f"proxy: 1 KiB GET over keep-alive HTTPS, {opts.connections} connections, median of {opts.rounds}",
        "requests/s",
        rows,
        first="edge",
        second="nginx",
    )
    return {
        "command": example,
        "connections": opts.connections,
        "seconds": opts.seconds,
        "warmup_seconds": opts.warmup,
        "rounds": opts.rounds,
        "tls": {t.name: stack.tls_of(t) for t in targets},
        "results": rows,
        "ratio_edge_nginx": ratio,
    }


@scenario("handshakes")
def handshakes(stack: Stack, opts: Options) -> dict[str, Any]:
    """A new TLS connection (full handshake, no resumption) per request, from a Python client with threads."""
    targets = [stack.edge(), stack.nginx()]
    assert stack.ca is not None
    ca = stack.ca
    print(
        f"\n[handshakes] Python ssl client, {opts.threads} threads, {opts.handshake_seconds:g}s per run, "
        f"one GET per connection ({opts.rounds} alternating rounds after a 1s warm-up each)",
        flush=True,
    )
    for target in targets:
        run_handshakes(target, stack.meter(target), ca=ca, seconds=1, threads=opts.threads)
    runs = alternate(
        targets,
        opts.rounds,
        lambda t: run_handshakes(t, stack.meter(t), ca=ca, seconds=opts.handshake_seconds, threads=opts.threads),
    )
    rows = {name: summarize(results) for name, results in runs.items()}
    ratio = print_table(
        f"handshakes: full TLS handshake + 1 GET per connection, {opts.threads} client threads, median of {opts.rounds}",
        "handshakes/s",
        rows,
        first="edge",
        second="nginx",
    )
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
