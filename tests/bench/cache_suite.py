"""The public HTTP cache test suite (http-tests/cache-tests, cache-tests.fyi) against edge: the cache's yardstick.

    .venv/bin/python -m tests.bench.cache_suite --suite ../cache-tests [--keep] [--detect | --block] [--only GROUP]

The suite is not part of a clone (see /work/shared/cache-tests.md: clone it, `npm install --omit=dev`), so
a missing suite is a message, not a failure. Three processes, as the suite expects them, all on loopback:
the suite's origin (`test-engine/server/server.mjs`, preloaded with `cache_suite_loopback.cjs` so it binds
127.0.0.1 only) on a free port; `edge run` with a temporary edge.toml (development certificates, the
repository's `rules/` in `detect` mode because the suite sends odd headers and methods, one site
`localhost` with `[site.cache] enabled = true`); and the suite's client (`node test-engine/cli.mjs`, as its
package.json runs it) against `https://localhost:PORT`, trusting the development CA.

Every test is then classified by the suite's own `determineTestResult` (called in node by
`cache_suite.mjs classify`, not ported, so required/optimal/check and `depends_on` count exactly as on
cache-tests.fyi), and the published results in the suite's `results/*.json` go through the same code: the
table puts edge's required tests per group beside Apache Traffic Server, nginx and Varnish.

`--block` runs the suite a second time with the WAF blocking and reports that figure too; `--only GROUP`
(a group id such as `vary`, or one test id) runs those tests and the tests they depend on. `--keep` keeps
the temporary folder (config, certificates, edge's access log, the origin's log, raw results).
Writes `bench-results/cache-suite.json` (`cache-suite-only-GROUP.json` with --only) with the commit measured.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.waf_score import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
NODE_HELPER = HERE / "cache_suite.mjs"
LOOPBACK_PRELOAD = HERE / "cache_suite_loopback.cjs"
PUBLISHED = (("trafficserver", "ATS"), ("nginx", "nginx"), ("varnish", "Varnish"))  # results/<file>.json, column
CLIENT_TIMEOUT = 900.0  # a full run takes one to two minutes; a hung client must not hang `make cache-score`
PROBLEM_VERDICTS = ("fail", "setup_fail", "harness_fail", "retry")
PROXIES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def write_config(tmp: Path, waf_mode: str, https: int, admin: int, origin: int, set_cookie: bool = False) -> Path:
    """A one-site edge.toml in `tmp`: the site `localhost` in front of the suite's origin, with the cache on.

    `store_set_cookie` stays at the contract's default (false) unless asked: the score is then what an
    operator gets, and the suite's two `headers-store-Set-Cookie*` tests are setup failures by design.
    """
    rules = (ROOT / "rules").as_posix()
    text = f"""
[server]
https = "127.0.0.1:{https}"
admin = "127.0.0.1:{admin}"
workers = 1
grace = "1s"

[tls]
certs = "certs"
default = "localhost"

[waf]
rules = "{rules}"
mode = "{waf_mode}"

[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:{origin}"]
timeouts = {{ connect = "3s", read = "30s" }}
  [site.cache]
  enabled = true
  store_set_cookie = {"true" if set_cookie else "false"}
"""
    config = tmp / "edge.toml"
    config.write_text(text)
    (tmp / "certs").mkdir(exist_ok=True)
    return config


def git_commit(folder: Path) -> dict[str, Any]:
    """The commit a result belongs to, and whether the work tree differed from it (tracked files only)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group we started (newest first), SIGKILL what is still there after 10 s."""
    for proc in reversed(procs):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
                proc.wait(timeout=5)


def client_argv(suite: Path, base: str, only: str | None) -> list[str]:
    """The suite's own CLI for a full run (as `npm run cli`); our node helper for a subset with dependencies."""
    if only:
        return ["node", "--no-warnings", str(NODE_HELPER), "run", str(suite), base, only]
    return ["node", "--no-warnings", "test-engine/cli.mjs"]


def run_suite(suite: Path, tmp: Path, waf_mode: str, only: str | None, set_cookie: bool) -> dict[str, Any]:
    """Start the origin and edge, run the client once, stop both; the raw results and what edge logged."""
    work = tmp / waf_mode
    work.mkdir()
    https, admin, origin = free_port(), free_port(), free_port()
    config = write_config(work, waf_mode, https, admin, origin, set_cookie)
    subprocess.run([str(BIN / "edge"), "certs", "dev", "localhost", "-c", str(config)], check=True, capture_output=True)
    ca = work / "certs" / "dev-ca" / "ca.pem"
    procs: list[subprocess.Popen[bytes]] = []
    with (work / "edge.log").open("wb") as edge_log, (work / "origin.log").open("wb") as origin_log:
        try:
            origin_env = {
                **os.environ,
                "npm_config_protocol": "http",
                "npm_config_port": str(origin),
                "npm_config_pidfile": str(work / "origin.pid"),
            }
            server = [
                "node",
                "-r",
                str(LOOPBACK_PRELOAD),
                "test-engine/server/server.mjs",
            ]
            procs.append(
                subprocess.Popen(
                    server, cwd=suite, env=origin_env, stdout=origin_log, stderr=origin_log, start_new_session=True
                )
            )
            procs.append(
                subprocess.Popen(
                    [str(BIN / "edge"), "run", "-c", str(config)],
                    stdout=edge_log,
                    stderr=edge_log,
                    start_new_session=True,
                )
            )
            wait_port(origin, procs[0])
            wait_port(https, procs[1])
            # no inherited npm_config_* (they would pick the base or a single test id) and no proxy
            env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_") and k.lower() not in PROXIES}
            env.update(
                npm_config_base=f"https://localhost:{https}",  # no trailing slash: the client appends /test/...
                npm_package_config_id="",  # cli.mjs crashes with "Running undefined" without it
                NODE_EXTRA_CA_CERTS=str(ca),
                NO_PROXY="localhost,127.0.0.1",
            )
            started = time.monotonic()
            done = subprocess.run(
                client_argv(suite, env["npm_config_base"], only),
                cwd=suite,
                env=env,
                capture_output=True,
                text=True,
                timeout=CLIENT_TIMEOUT,
                check=False,
            )
            seconds = time.monotonic() - started
        finally:
            stop(procs)
    (work / "client.stderr").write_text(done.stderr)
    start = done.stdout.find("{")
    if done.returncode != 0 or start == -1:
        raise RuntimeError(
            f"the suite's client failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        )
    results: dict[str, Any] = json.loads(done.stdout[start:])
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    return {
        "waf_mode": waf_mode,
        "seconds": round(seconds, 1),
        "results": results,
        "results_path": work / "results.json",
        "gateway": gateway_log(work / "edge.log"),
        "client_errors": [line for line in done.stderr.splitlines() if line.startswith("ERROR")][:50],
    }


def gateway_log(path: Path) -> dict[str, Any]:
    """What edge itself did to the suite's requests: its own answers (no origin), WAF matches and would-blocks."""
    statuses: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    methods: collections.Counter[str] = collections.Counter()
    waf_rules: collections.Counter[str] = collections.Counter()
    blocked: list[dict[str, Any]] = []
    requests = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if "request_id" not in rec:
            continue
        requests += 1
        statuses[str(rec.get("status"))] += 1
        methods[str(rec.get("method"))] += 1
        if rec.get("origin") is None or rec.get("error"):
            own[f"{rec.get('status')} {rec.get('error') or ''}".strip()] += 1
        waf = rec.get("waf") or {}
        waf_rules.update(waf.get("rules", []))
        if waf.get("action") == "block" or waf.get("would_block"):
            blocked.append({"method": rec.get("method"), "path": rec.get("path"), "status": rec.get("status"), **waf})
    return {
        "requests": requests,
        "methods": dict(methods),
        "statuses": dict(statuses),
        "answered_by_edge": dict(own),
        "waf_rule_matches": dict(waf_rules.most_common()),
        "waf_blocked_or_would_block": blocked,
    }


def classify(suite: Path, files: dict[str, Path]) -> dict[str, Any]:
    """The suite's groups and tests, and every result file's verdict per test, from the suite's own code."""
    argv = ["node", "--no-warnings", str(NODE_HELPER), "classify", str(suite)]
    argv += [f"{label}={path}" for label, path in files.items()]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def required_tests(groups: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(group id, test) of the required tests a reverse proxy runs (browser-only tests are skipped by the runner)."""
    return [
        (group["id"], test)
        for group in groups
        for test in group["tests"]
        if test["kind"] == "required" and not test["browser_only"]
    ]


def score(groups: list[dict[str, Any]], verdicts: dict[str, str]) -> dict[str, Any]:
    """Required tests passed per group and in total, and how the others ended (fail, dependency_fail, ...)."""
    per_group: dict[str, dict[str, Any]] = {}
    outcome: collections.Counter[str] = collections.Counter()
    for group_id, test in required_tests(groups):
        row = per_group.setdefault(group_id, {"passed": 0, "total": 0, "verdicts": collections.Counter()})
        verdict = verdicts.get(test["id"], "untested")
        row["total"] += 1
        row["passed"] += verdict == "pass"
        row["verdicts"][verdict] += 1
        outcome[verdict] += 1
    for row in per_group.values():
        row["verdicts"] = dict(row["verdicts"])
    return {
        "passed": outcome["pass"],
        "total": sum(outcome.values()),
        "verdicts": dict(outcome),
        "groups": per_group,
    }


def report(
    groups: list[dict[str, Any]],
    scores: dict[str, dict[str, Any]],
    verdicts: dict[str, str],
    runs: list[dict[str, Any]],
    only: str | None,
) -> None:
    """The per-group table of required tests, the totals, and every required test edge did not pass."""
    columns = [label for label in scores if label != "edge" and not label.startswith("edge-")]
    edge_labels = [label for label in scores if label == "edge" or label.startswith("edge-")]
    names = {group["id"]: group["name"] for group in groups}
    header = f"{'group':20s} {'required':>8s}"
    header += "".join(f" {label:>14s}" for label in edge_labels) + "".join(f" {c:>8s}" for c in columns)
    print(
        f"\nRequired tests passed per group (cache-tests.fyi classification){' (--only ' + only + ')' if only else ''}"
    )
    print(header)
    for group_id, row in scores["edge"]["groups"].items():
        if only and not row["verdicts"].keys() - {"untested"}:
            continue
        line = f"{group_id:20s} {row['total']:8d}"
        for label in edge_labels:
            cell = scores[label]["groups"][group_id]
            dep = cell["verdicts"].get("dependency_fail", 0)
            line += f" {cell['passed']:>3d}/{cell['total']:<3d} {f'(d{dep})' if dep else '':6s}"
        line += "".join(f" {scores[c]['groups'][group_id]['passed']:8d}" for c in columns)
        print(line)
    total = f"{'total':20s} {scores['edge']['total']:8d}"
    total += "".join(f" {scores[label]['passed']:>3d}/{scores[label]['total']:<10d}" for label in edge_labels)
    total += "".join(f" {scores[c]['passed']:8d}" for c in columns)
    print(total)
    print("(dN: required tests whose dependency did not pass: neither pass nor fail, as on cache-tests.fyi)")
    if only:
        print(f"(--only {only}: only its tests and their dependencies ran; the rest count as untested)")
    for run, label in zip(runs, edge_labels, strict=True):
        s = scores[label]
        print(
            f"\nedge, WAF {run['waf_mode']}: {s['passed']} of {s['total']} required passed "
            f"({', '.join(f'{k} {v}' for k, v in sorted(s['verdicts'].items()))}) in {run['seconds']}s"
        )
        gw = run["gateway"]
        print(
            f"  gateway: {gw['requests']} requests, statuses {gw['statuses']}, answered by edge itself "
            f"{gw['answered_by_edge'] or 'none'}, WAF would-block/blocked {len(gw['waf_blocked_or_would_block'])}"
        )
    print("\nRequired tests edge did not pass (WAF detect run), with the suite's message:")
    results = runs[0]["results"]
    for group_id, test in required_tests(groups):
        verdict = verdicts.get(test["id"])
        if verdict in PROBLEM_VERDICTS:
            result = results.get(test["id"])
            message = result[1] if isinstance(result, list) and len(result) > 1 else result
            print(f"  [{names[group_id]}] {test['id']} ({verdict}): {message}")


def run(args: argparse.Namespace) -> int:
    suite = Path(args.suite).resolve()
    if not (suite / "test-engine" / "cli.mjs").is_file():
        print(f"cache-score: no cache test suite at {suite} (test-engine/cli.mjs missing); nothing to measure.")
        print("  get it: clone github.com/http-tests/cache-tests there and run `npm install --omit=dev` in it")
        return 0
    if not (suite / "node_modules").is_dir():
        print(f"cache-score: {suite} has no node_modules: run `npm install --omit=dev` there first")
        return 1
    if shutil.which("node") is None:
        print("cache-score: node is not on PATH (the suite needs node >= 14.8)")
        return 1
    modes = ["detect", "block"] if args.block else ["detect"]
    tmp = Path(tempfile.mkdtemp(prefix="cache-suite-"))
    try:
        runs = []
        for mode in modes:
            print(
                f"cache-score: running the suite through edge (WAF {mode}){' --only ' + args.only if args.only else ''}"
            )
            runs.append(run_suite(suite, tmp, mode, args.only, args.store_set_cookie))
        edge_labels = ["edge"] + [f"edge-{r['waf_mode']}" for r in runs[1:]]
        files = {label: r["results_path"] for label, r in zip(edge_labels, runs, strict=True)}
        files.update({label: suite / "results" / f"{stem}.json" for stem, label in PUBLISHED})
        for path in sorted((suite / "results").glob("*.json")):
            files.setdefault(path.stem, path)
        classified = classify(suite, files)
        groups = classified["groups"]
        scores = {label: score(groups, v) for label, v in classified["verdicts"].items()}
        shown = {label: scores[label] for label in [*edge_labels, *(label for _, label in PUBLISHED)]}
        report(groups, shown, classified["verdicts"]["edge"], runs, args.only)
        out = write_json(args, suite, groups, classified["verdicts"], scores, runs, edge_labels)
        print(f"\nwrote {out}" + (f"; kept {tmp}" if args.keep else ""))
        return 0
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"cache-score: {exc}\n  logs in {tmp}")
        args.keep = True
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(
    args: argparse.Namespace,
    suite: Path,
    groups: list[dict[str, Any]],
    verdicts: dict[str, dict[str, str]],
    scores: dict[str, dict[str, Any]],
    runs: list[dict[str, Any]],
    edge_labels: list[str],
) -> Path:
    """bench-results/cache-suite.json: edge's commit, the suite's, every test's raw result and verdict."""
    tests = []
    for group in groups:
        for test in group["tests"]:
            if test["browser_only"]:
                continue
            entry = {"id": test["id"], "group": group["id"], "kind": test["kind"], "depends_on": test["depends_on"]}
            for label, run_ in zip(edge_labels, runs, strict=True):
                entry[label] = {"verdict": verdicts[label].get(test["id"]), "result": run_["results"].get(test["id"])}
            tests.append(entry)
    summary = {
        "measured": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "edge": git_commit(ROOT),
        "suite": {"path": str(suite), **git_commit(suite)},
        "only": args.only,
        "store_set_cookie": args.store_set_cookie,
        "runs": [
            {"label": label, **{k: v for k, v in r.items() if k not in ("results", "results_path")}}
            for label, r in zip(edge_labels, runs, strict=True)
        ],
        "required": scores,
        "tests": tests,
    }
    name = f"cache-suite-only-{args.only}.json" if args.only else "cache-suite.json"
    dest = Path(args.out) / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(summary, indent=2) + "\n")
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default=str(ROOT.parent / "cache-tests"), help="clone of http-tests/cache-tests")
    waf = parser.add_mutually_exclusive_group()
    waf.add_argument("--detect", action="store_true", help="WAF in detect mode only (the default)")
    waf.add_argument("--block", action="store_true", help="also run with the WAF blocking, and report both")
    parser.add_argument("--only", metavar="GROUP", help="one group id (e.g. vary) or test id, plus its dependencies")
    parser.add_argument(
        "--store-set-cookie", action="store_true", help="[site.cache] store_set_cookie = true (default: false)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder with configs and logs")
    parser.add_argument("--out", default=str(ROOT / "bench-results"), help="folder for cache-suite.json")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
