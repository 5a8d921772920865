"""`bigbody`: what the WAF costs on a 1 MiB JSON POST, and whether other clients wait meanwhile.

    .venv/bin/python -m tests.bench.run --only bigbody [--quick]

Two edges in front of the origin's UPLOAD_PATH (it reads each body whole, then answers 200), alike but for
the rules: `waf-on` has the repository's managed rules (`rules/`, copied at the start, as in the `waf`
scenario), `waf-off` an empty rules folder (no body is read for inspection; it streams to the origin). Both:
`[waf] max_body = "2MiB"`, site `max_body = "4MiB"`, so the whole body is inspected.

The bodies are BODIES distinct benign JSON documents of about 1 MiB each (tests/bench/json_bodies.py: a
customer export with names, emails, addresses, notes), posted in turn. Before measuring: each body through
each edge must be answered 200, and the first body with an attack in its last record's note must get 403
from `waf-on` (the whole body is really read).

1. wrk with a Lua script (`-s`: cycles through the bodies) and POST_CONNECTIONS connections posts for a bounded
   time, alternately on both edges: POSTs/s, p99 and the gateway's CPU per POST (target: < 100 ms with the
   WAF). In this process, `edge.waf.evaluate` (head + body phase) on five of the bodies: the WAF's own part.
2. A Python client sends a small GET (FILE_PATH, proxied, keep-alive) every PROBE_INTERVAL, first with
   nothing else going on (idle), then while wrk posts the big bodies: median and p99 of the GETs' latency,
   and their ratio to idle. Bodies of 64 KiB and more are inspected in a worker thread so that the event
   loop keeps serving; this is what says whether it does.
"""

from __future__ import annotations

import dataclasses
import http.client
import ssl
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench.json_bodies import json_body
from tests.bench.load import LoadResult, https_request, run_wrk
from tests.bench.measure import print_table, warm_rounds, wrk_example, wrk_settings
from tests.bench.registry import Options, scenario
from tests.bench.scenario_waf import rule_set
from tests.bench.stack import FILE_PATH, HOST, UPLOAD_PATH, BenchError, Stack, Target

BODIES = 16
POST_CONNECTIONS = 2  # one body being received while another is inspected: the gateway is never idle
PROBE_INTERVAL = 0.01
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
Post = Callable[[Target, float], LoadResult]  # a wrk run of the bodies against a target, for so many seconds


def write_bodies(folder: Path) -> tuple[list[bytes], Path]:
    """The bodies as files, and the wrk script that posts them in turn."""
    folder.mkdir(exist_ok=True)
    bodies = [json_body(n) for n in range(BODIES)]
    paths = []
    for n, body in enumerate(bodies):
        paths.append(folder / f"body-{n:02d}.json")
        paths[-1].write_bytes(body)
    script = folder / "post.lua"
    names = ", ".join(f'"{path}"' for path in paths)
    script.write_text(
        f"""-- POST the bodies in turn (tests/bench/scenario_bigbody.py)
local bodies = {{}}
for i, path in ipairs({{{names}}}) do
  local file = assert(io.open(path, "rb"))
  bodies[i] = file:read("*a")
  file:close()
end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json", ["Accept"] = "application/json"}}, bodies[n])
end
"""
    )
    return bodies, script


def bigbody_edge(stack: Stack, name: str, rules: str) -> Target:
    extra = f'max_body = "4MiB"\n\n[waf]\nrules = "{rules}"\nmax_body = "2MiB"\n'
    return stack.edge(name, site_extra=extra)


def check(stack: Stack, targets: list[Target], bodies: list[bytes]) -> int:
    """Every body through every edge is answered 200; the attack body's status from `waf-on`."""
    assert stack.ca is not None
    for target in targets:
        for n, body in enumerate(bodies):
            answer = https_request(target, stack.ca, UPLOAD_PATH, method="POST", headers=HEADERS, body=body)
            if answer.status != 200:
                raise BenchError(f"{target.name}: POST of body {n} ({len(body):,} bytes) answered {answer.status}")
    attack = json_body(0, attack=True)
    status = https_request(targets[0], stack.ca, UPLOAD_PATH, method="POST", headers=HEADERS, body=attack).status
    if status != 403:
        raise BenchError(f"{targets[0].name}: the attack body got {status}, not 403: is the body inspected?")
    return status


def evaluate_ms(folder: Path, bodies: list[bytes]) -> dict[str, float]:
    """ms of `edge.waf.evaluate` (head and body phases, as the gateway runs them) per body, in this process,
    after `prepare` (as a reload does) and one evaluation of another body (not counted)."""
    from edge.waf import RequestView, WafState, evaluate, load_ruleset, prepare

    ruleset = load_ruleset(folder)
    prepare(ruleset, 1)
    headers = [f"{k}: {v}" for k, v in {"Host": HOST, "User-Agent": "edge-bench", **HEADERS}.items()]
    times = []
    for body in [json_body(BODIES), *bodies]:
        view = RequestView.from_request_line(f"POST {UPLOAD_PATH}", headers=headers, body=body)
        start = time.perf_counter()
        state = WafState()
        verdict = evaluate(ruleset, view, phase="head", state=state)
        if verdict.needs_body:
            verdict = evaluate(ruleset, view, phase="body", state=state)
        times.append((time.perf_counter() - start) * 1000)
        if verdict.action != "pass":
            raise BenchError(f"evaluate blocks a benign body in process: {verdict}")
    times = times[1:]
    return {"ms_median": statistics.median(times), "ms_min": min(times), "ms_max": max(times), "bodies": len(times)}


def probe(stack: Stack, target: Target, seconds: float) -> list[float]:
    """Latencies (ms) of GET FILE_PATH on one keep-alive connection, one every PROBE_INTERVAL for `seconds`
    (the next is sent when the last has returned: a stalled gateway shows as long latencies, fewer GETs)."""
    assert stack.ca is not None
    context = ssl.create_default_context(cafile=str(stack.ca))
    conn = http.client.HTTPSConnection(HOST, target.port, context=context, timeout=30)
    out: list[float] = []
    try:
        conn.request("GET", FILE_PATH)  # the handshake is not a sample
        conn.getresponse().read()
        deadline = time.perf_counter() + seconds
        due = time.perf_counter()
        while (now := time.perf_counter()) < deadline:
            if now < due:
                time.sleep(due - now)
            start = time.perf_counter()
            conn.request("GET", FILE_PATH)
            response = conn.getresponse()
            response.read()
            out.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise BenchError(f"{target.name}: probe GET {FILE_PATH} answered {response.status}")
            due += PROBE_INTERVAL
    finally:
        conn.close()
    return out


def latency_stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"gets": len(ordered), "median_ms": statistics.median(ordered), "p99_ms": p99}


def latency_under_load(stack: Stack, target: Target, post: Post, seconds: float) -> dict[str, Any]:
    """Probe GETs idle, then while `post(target, seconds + 1)` runs in a thread; the figures and ratios."""
    idle = latency_stats(probe(stack, target, seconds))
    posted: list[LoadResult] = []
    thread = threading.Thread(target=lambda: posted.append(post(target, seconds + 1.0)), name="bigbody-post")
    thread.start()
    time.sleep(0.5)
    loaded = latency_stats(probe(stack, target, seconds))
    thread.join(seconds + 60)
    if not posted:
        raise BenchError(f"{target.name}: the POST load beside the probe did not finish")
    ratio_median, ratio_p99 = loaded["median_ms"] / idle["median_ms"], loaded["p99_ms"] / idle["p99_ms"]
    print(
        f"  {target.name:<8} GET {FILE_PATH}: idle median {idle['median_ms']:.2f} ms, p99 {idle['p99_ms']:.2f} ms "
        f"({idle['gets']:.0f} GETs); while posting ({posted[0].rate:.1f} POSTs/s): median {loaded['median_ms']:.2f} "
        f"ms, p99 {loaded['p99_ms']:.2f} ms ({loaded['gets']:.0f} GETs); ratio {ratio_median:.1f}x median, "
        f"{ratio_p99:.1f}x p99",
        flush=True,
    )
    return {
        "idle": idle,
        "loaded": loaded,
        "ratio_median": ratio_median,
        "ratio_p99": ratio_p99,
        "posts_per_s_meanwhile": posted[0].rate,
        "post_errors_meanwhile": posted[0].errors,
    }


@scenario("bigbody")
def bigbody(stack: Stack, opts: Options) -> dict[str, Any]:
    """1 MiB JSON POSTs through edge with the managed rules vs none: CPU per POST; small GETs' latency meanwhile."""
    (stack.dir / "bigbody-none").mkdir(exist_ok=True)
    source, count = rule_set(stack.dir / "bigbody-rules")
    if source.startswith("generated"):
        raise BenchError("the repository's rules/ do not load (see the note above): bigbody measures the managed set")
    bodies, script = write_bodies(stack.dir / "bigbody")
    sizes = sorted(len(body) for body in bodies)
    targets = [bigbody_edge(stack, "waf-on", "bigbody-rules"), bigbody_edge(stack, "waf-off", "bigbody-none")]
    attack_status = check(stack, targets, bodies)
    print(
        f"\n[bigbody] rule set: {source}, {count} rules; {BODIES} JSON bodies of {sizes[0]:,}-{sizes[-1]:,} bytes, "
        f"each 200 through both edges; the first with an attack in its last record: {attack_status} from waf-on",
        flush=True,
    )
    wrk, pin = stack.tools["wrk"], stack.pinning.load()
    extra = ("-s", str(script))
    post_opts = dataclasses.replace(opts, connections=POST_CONNECTIONS)

    def post(target: Target, seconds: float) -> LoadResult:
        return run_wrk(
            wrk,
            target,
            stack.meter(target),
            connections=POST_CONNECTIONS,
            seconds=seconds,
            pin=pin,
            path=UPLOAD_PATH,
            extra_args=extra,
        )

    example = wrk_example(stack, post_opts, f"https://{HOST}:PORT{UPLOAD_PATH}", extra)
    print(f"  {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)", flush=True)
    rows = warm_rounds(targets, opts.rounds, post, warmup=opts.warmup, seconds=opts.seconds)
    ratio = print_table(
        f"bigbody: POST of ~1 MiB JSON over keep-alive HTTPS, {POST_CONNECTIONS} connections, median of {opts.rounds}",
        "POSTs/s",
        rows,
        first="waf-on",
        second="waf-off",
    )
    cpu = {name: row["gateway_cpu_us_per_request"] / 1000 for name, row in rows.items()}
    added = cpu["waf-on"] - cpu["waf-off"]
    print(
        f"  gateway CPU per POST: waf-on {cpu['waf-on']:.1f} ms, waf-off {cpu['waf-off']:.1f} ms: the WAF adds "
        f"{added:.1f} ms (target: under 100 ms with the WAF)",
        flush=True,
    )
    in_process = evaluate_ms(stack.dir / "bigbody-rules", bodies[:5])
    print(
        f"  in process: edge.waf.evaluate (head + body) {in_process['ms_median']:.1f} ms per body "
        f"(min {in_process['ms_min']:.1f}, max {in_process['ms_max']:.1f}, {in_process['bodies']} bodies)",
        flush=True,
    )
    probe_seconds = max(3.0, opts.seconds / 2)
    print(
        f"\n[bigbody] small GETs ({FILE_PATH}, one keep-alive connection, one every {PROBE_INTERVAL * 1000:g} ms "
        f"for {probe_seconds:g}s) idle, then while wrk posts the bodies",
        flush=True,
    )
    latency = {target.name: latency_under_load(stack, target, post, probe_seconds) for target in targets}
    return {
        **wrk_settings(example, post_opts),
        "rule_set": source,
        "rules": count,
        "waf_max_body": "2MiB",
        "site_max_body": "4MiB",
        "bodies": BODIES,
        "body_bytes": {"min": sizes[0], "max": sizes[-1]},
        "attack_status_with_rules": attack_status,
        "results": rows,
        "ratio_throughput_waf_on_off": ratio,
        "gateway_cpu_ms_per_post": cpu,
        "gateway_cpu_ms_added_by_waf": added,
        "evaluate_ms_in_process": in_process,
        "probe": {"path": FILE_PATH, "interval_ms": PROBE_INTERVAL * 1000, "seconds": probe_seconds},
        "latency_small_gets": latency,
    }
