"""Measuring helpers shared by the scenarios of `make bench`: alternating rounds, medians, the result table.

Apart from `run.py` so that the `scenario_*.py` modules need not import `tests.bench.run` (which is
`__main__` under `python -m tests.bench.run`, and would run a second time as a module of its own).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any

from tests.bench.load import LoadResult, run_wrk, wrk_command
from tests.bench.registry import Options
from tests.bench.stack import FILE_PATH, Stack, Target

SATURATED = 0.85  # share of its core above which a gateway is taken as the bottleneck of a run
FOREIGN_LIMIT = 0.10  # cores used by processes not ours during a run, above which the figures are suspect


def alternate(
    targets: Sequence[Target],
    rounds: int,
    measure: Callable[[Target], LoadResult],
    *,
    width: int = 6,
    cpu: bool = True,
) -> dict[str, list[LoadResult]]:
    """`rounds` measurements of each target, interleaved: a, b, a, b, ... Each run is printed as it ends (its
    name padded to `width`; with `cpu`, the gateway's and other processes' CPU too)."""
    runs: dict[str, list[LoadResult]] = {t.name: [] for t in targets}
    for round_no in range(1, rounds + 1):
        for target in targets:
            result = measure(target)
            runs[target.name].append(result)
            p99 = f", p99 {result.p99_ms:.2f} ms" if result.p99_ms is not None else ""
            errors = f", {result.errors} errors ({result.detail})" if result.errors else ""
            busy = f", gateway CPU {result.gateway_cpu / result.seconds:.0%}" if cpu and result.seconds else ""
            noise = result.foreign_cpu / result.seconds if cpu and result.seconds else 0.0
            foreign = f", OTHER PROCESSES {noise:.0%} of a core" if noise > FOREIGN_LIMIT else ""
            print(
                f"  round {round_no} {target.name:<{width}} {result.rate:>10.1f}/s{p99}{busy}{errors}{foreign}",
                flush=True,
            )
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


def cpu_ratio(rows: dict[str, dict[str, Any]], first: str, second: str) -> str:
    """ "; CPU per request 1.23x" of `first` to `second`, or "" when either is unknown."""
    cpu_a, cpu_b = rows[first]["gateway_cpu_us_per_request"], rows[second]["gateway_cpu_us_per_request"]
    return f"; CPU per request {cpu_a / cpu_b:.2f}x" if cpu_a and cpu_b else ""


def print_warnings(rows: dict[str, dict[str, Any]], *, idle_means: str = "the gateway was not the bottleneck") -> None:
    """The lines under a table: runs with errors, gateways that were not saturated, other processes' CPU."""
    if not all(row["valid"] for row in rows.values()):
        print("  WARNING: some runs had errors; these figures are not a valid result")
    idle = [name for name, row in rows.items() if row["gateway_cpu_busy"] < SATURATED]
    if idle:
        print(
            f"  note: {', '.join(idle)} used less than {SATURATED:.0%} of its core: {idle_means} "
            "(the load generator or other processes were); compare CPU per request"
        )
    noise = max(row["foreign_cpu_busy"] for row in rows.values())
    if noise > FOREIGN_LIMIT:
        print(f"  WARNING: other processes used up to {noise:.0%} of a core during the runs; the figures are disturbed")


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
        print(f"  ratio {first}/{second}: throughput {ratio:.3f}{cpu_ratio(rows, first, second)}")
    print_warnings(rows)
    return ratio


def wrk_example(
    stack: Stack, opts: Options, url: str = f"https://localhost:PORT{FILE_PATH}", extra_args: Sequence[str] = ()
) -> str:
    """The wrk command line of one measured run, for the scenario's heading and its JSON."""
    pin = stack.pinning.load()
    argv = wrk_command(
        stack.tools["wrk"], url, connections=opts.connections, seconds=opts.seconds, pin=pin, extra_args=extra_args
    )
    return " ".join(argv)


def wrk_settings(example: str, opts: Options) -> dict[str, Any]:
    """The settings of a wrk scenario, first in its JSON."""
    return {
        "command": example,
        "connections": opts.connections,
        "seconds": opts.seconds,
        "warmup_seconds": opts.warmup,
        "rounds": opts.rounds,
    }


def warm_rounds(
    targets: Sequence[Target],
    rounds: int,
    run: Callable[[Target, float], LoadResult],
    *,
    warmup: float,
    seconds: float,
    width: int = 6,
    cpu: bool = True,
) -> dict[str, dict[str, Any]]:
    """`run(target, warmup)` for each target (not counted), then `rounds` alternating `run(target, seconds)`;
    the summarized rows, by target name in the order of `targets`."""
    for target in targets:
        run(target, warmup)
    runs = alternate(targets, rounds, lambda t: run(t, seconds), width=width, cpu=cpu)
    return {target.name: summarize(runs[target.name]) for target in targets}


def wrk_rounds(
    stack: Stack,
    opts: Options,
    targets: Sequence[Target],
    url_path: str = FILE_PATH,
    extra_args: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """wrk against each target: an `opts.warmup` run each, then `opts.rounds` alternating runs of `opts.seconds`;
    the summarized rows, by target name in the order of `targets`."""
    wrk = stack.tools["wrk"]
    pin = stack.pinning.load()

    def run(target: Target, seconds: float) -> LoadResult:
        return run_wrk(
            wrk,
            target,
            stack.meter(target),
            connections=opts.connections,
            seconds=seconds,
            pin=pin,
            path=url_path,
            extra_args=extra_args,
        )

    return warm_rounds(targets, opts.rounds, run, warmup=opts.warmup, seconds=opts.seconds)
