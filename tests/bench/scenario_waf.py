"""`waf`: what the WAF costs per request, through the gateway and as a pure function.

    .venv/bin/python -m tests.bench.run --only waf [--quick]

Two edge gateways in front of the same origin, alike but for `[waf] rules`: one with no rules (the WAF phases
are skipped), one with a rule set: the repository's `rules/` when it holds rule files that load and pass their
embedded tests (copied when the scenario starts, so an edit meanwhile changes nothing), else ~100 generated
representative rules (`waf_bench.rules_toml`). wrk loads both alternately with a benign browser-like GET that
has a query string; the figures are requests/s and gateway CPU per request, and their ratio to no rules.

Then, in this process, the µs per request of `edge.waf.evaluate` (head phase, plus the body phase when the
head asks for it; WafState creation included) for a benign and an attack GET with that rule set: best of 5
rounds, cycling through 1,000 distinct variants of each request so no per-value cache sees only one value.
"""

from __future__ import annotations

import http.client
import shutil
import ssl
import statistics
import time
from pathlib import Path
from typing import Any

from tests.bench import waf_bench
from tests.bench.measure import print_table, wrk_example, wrk_rounds
from tests.bench.registry import Options, scenario
from tests.bench.stack import HOST, REPO, BenchError, Stack, Target

REPO_RULES = REPO / "rules"
GENERATED_RULES = 100
BENIGN_TARGET = "/1k?page=2&sort=price&q=blue+shoes"
HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "Accept-Encoding": "gzip, deflate, br",
    "Referer": f"https://{HOST}/products",
    "Cookie": "session=abc123def456; theme=dark",
}
HEADER_ARGS = tuple(arg for name, value in HEADERS.items() for arg in ("-H", f"{name}: {value}"))
IN_PROCESS = {
    "benign GET": "GET /products/list?page={n}&sort=price&q=blue+shoes+{n}",
    "attack GET": "GET /items?id={n}%20OR%201=1&q=%3Cscript%3Ealert({n})%3C/script%3E",
}
VARIANTS = 1000


def rule_set(folder: Path) -> tuple[str, int]:
    """Fill `folder` with the rule set to measure; (where it came from, number of rules)."""
    from edge.rules import load_rules

    folder.mkdir(exist_ok=True)
    files = sorted(REPO_RULES.glob("*.toml"))
    if files:
        for file in files:
            shutil.copy2(file, folder / file.name)
        state, problems = load_rules(folder)
        if state is not None:
            return f"{REPO_RULES.relative_to(REPO)}/ ({len(files)} files)", len(state.ruleset.rules)
        print(f"  note: {REPO_RULES} does not load ({problems[0]}); measuring generated rules instead", flush=True)
        for file in folder.glob("*.toml"):
            file.unlink()
    from tests.bench.waf_bench import rules_toml

    (folder / "generated.toml").write_text(rules_toml(GENERATED_RULES))
    state, problems = load_rules(folder)
    if state is None:
        raise BenchError(f"the generated rules do not load: {problems[:3]}")
    return f"generated ({GENERATED_RULES} + 1 rules, tests/bench/waf_bench.py)", len(state.ruleset.rules)


def get(target: Target, ca: Path, path: str, headers: dict[str, str]) -> int:
    context = ssl.create_default_context(cafile=str(ca))
    conn = http.client.HTTPSConnection(HOST, target.port, context=context, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def evaluate_us(folder: Path, seconds: float) -> dict[str, dict[str, Any]]:
    """µs per request of `edge.waf.evaluate` for each request of IN_PROCESS, as the gateway calls it."""
    from edge.waf import RequestView, WafState, evaluate, load_ruleset

    ruleset = load_ruleset(folder)
    out: dict[str, dict[str, Any]] = {}
    headers = [f"{name}: {value}" for name, value in {"Host": HOST, **HEADERS}.items()]

    def once(view: RequestView) -> Any:
        state = WafState()
        verdict = evaluate(ruleset, view, phase="head", state=state)
        if verdict.needs_body:
            view.body = b""
            verdict = evaluate(ruleset, view, phase="body", state=state)
        return verdict

    for name, line in IN_PROCESS.items():
        views = [RequestView.from_request_line(line.format(n=n), headers=headers) for n in range(VARIANTS)]
        verdict = once(views[0])
        rounds = []
        for _ in range(5):
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 5:
                for view in views[:100]:
                    once(view)
                views = views[100:] + views[:100]
                done += 100
            rounds.append((time.perf_counter() - start) / done * 1e6)
        out[name] = {
            "us_best": min(rounds),
            "us_median": statistics.median(rounds),
            "verdict": verdict.action if verdict.action != "block" else f"block {verdict.status}",
            "score": verdict.score,
            "matches": [m.rule_id for m in verdict.matches],
        }
        print(
            f"  evaluate {name:<11} {min(rounds):8.1f} µs/request (median {statistics.median(rounds):.1f}); "
            f"verdict {out[name]['verdict']}, score {verdict.score}, {len(verdict.matches)} match(es)",
            flush=True,
        )
    return out


@scenario("waf")
def waf(stack: Stack, opts: Options) -> dict[str, Any]:
    """Requests/s and CPU per request through edge without rules and with a rule set; evaluate() µs."""
    (stack.dir / "waf-none").mkdir(exist_ok=True)
    source, count = rule_set(stack.dir / "waf-rules")
    print(f"\n[waf] rule set: {source}, {count} rules", flush=True)
    targets = [
        stack.edge("no-rules", site_extra='\n[waf]\nrules = "waf-none"\n'),
        stack.edge("rules", site_extra='\n[waf]\nrules = "waf-rules"\n'),
    ]
    assert stack.ca is not None
    for target in targets:
        status = get(target, stack.ca, BENIGN_TARGET, HEADERS)
        if status != 200:
            raise BenchError(f"the benign request gets {status} from {target.name}: the rule set blocks it")
    attack = "/1k?id=1%20OR%201=1&q=%3Cscript%3Ealert(1)%3C/script%3E"
    attack_status = get(targets[1], stack.ca, attack, {**HEADERS, "User-Agent": "sqlmap/1.7"})
    print(f"  sanity: benign GET 200 on both; attack GET {attack_status} with rules", flush=True)
    example = wrk_example(stack, opts, f"https://{HOST}:{targets[1].port}{BENIGN_TARGET}", HEADER_ARGS)
    print(f"  {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)", flush=True)
    rows = wrk_rounds(stack, opts, targets, BENIGN_TARGET, HEADER_ARGS)
    ratio = print_table(
        f"waf: benign GET with a query over keep-alive HTTPS, {opts.connections} connections, median of {opts.rounds}",
        "requests/s",
        rows,
        first="rules",
        second="no-rules",
    )
    cpu_rules, cpu_none = (rows[n]["gateway_cpu_us_per_request"] for n in ("rules", "no-rules"))
    cpu_ratio = cpu_rules / cpu_none if cpu_rules and cpu_none else None
    print(f"\n[waf] in-process edge.waf.evaluate, {count} rules, {VARIANTS} variants per request", flush=True)
    in_process = evaluate_us(stack.dir / "waf-rules", seconds=1.0 if opts.seconds <= 3 else 2.0)
    print("\n[waf] in-process edge.waf.evaluate with 10, 100 and 1,000 generated rules (cost must grow sub-linearly)")
    by_count = {str(n): waf_bench.bench(n, seconds=1.0 if opts.seconds <= 3 else 2.0) for n in (10, 100, 1000)}
    return {
        "command": example,
        "rule_set": source,
        "rules": count,
        "connections": opts.connections,
        "seconds": opts.seconds,
        "warmup_seconds": opts.warmup,
        "rounds": opts.rounds,
        "attack_status_with_rules": attack_status,
        "results": rows,
        "ratio_throughput_rules_vs_none": ratio,
        "ratio_cpu_per_request_rules_vs_none": cpu_ratio,
        "gateway_cpu_us_added_per_request": cpu_rules - cpu_none if cpu_rules and cpu_none else None,
        "evaluate_us": in_process,
        "evaluate_us_by_rule_count": by_count,
    }
