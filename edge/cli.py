"""`edge run | check | certs | rules`: the command line of CONTRACT section 1."""

from __future__ import annotations

import argparse
import base64
import ipaddress
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edge import __version__
from edge.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from edge.tls.entries import InventoryRow
    from edge.waf import RuleSet


def _load(path: str) -> Config | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return None


def cmd_run(args: argparse.Namespace) -> int:
    from edge.master import run

    config = _load(args.config)
    if config is None:
        return 1
    return run(config, pidfile=Path(args.pidfile).resolve() if args.pidfile else None)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate config, certificates and rules; one `path:line: message` per problem; 1 if any."""
    config = _load(args.config)
    if config is None:
        return 1
    from edge.tls.sni import load_cert_state

    problems: list[str] = []
    state = load_cert_state(config)
    problems += [f"{path}:1: {message}" for path, message in state.store.problems]
    for site in config.sites:
        for label, path in (("client_ca", site.client_ca), ("origin_ca", site.origin_ca)):
            if path is not None and not path.is_file():
                problems.append(f"{config.path}:1: site {site.hosts[0]}: {label} file {path} does not exist")
    from edge.rules import load_rules

    rules, rule_problems = load_rules(config.waf.rules)
    problems += rule_problems
    if config.tls.default and not state.store.choose(config.tls.default):
        problems.append(
            f"{config.path}:1: tls.default {config.tls.default!r}: no certificate in {config.tls.certs} covers it"
        )
    for problem in problems:
        print(problem)
    if not problems and rules is not None:
        from edge.waf import count_tests

        tests = count_tests(rules.ruleset)
        print(
            f"{config.path}: ok ({len(config.sites)} site(s), {len(state.store.entries)} certificate(s), "
            f"{len(rules.ruleset.rules)} rule(s) with {tests} passing test(s), {len(rules.ruleset.ratelimits)} rate limit(s))"
        )
    return 1 if problems else 0


def cmd_certs(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 1
    if args.action == "dev":
        from edge.tls.devcerts import write_dev_certs

        if not args.names:
            print("edge certs dev: give at least one name, e.g. `edge certs dev localhost`", file=sys.stderr)
            return 2
        ca, leaf = write_dev_certs(config.tls.certs, args.names)
        print(f"wrote {leaf} for {', '.join(args.names)}; trust {ca} (e.g. curl --cacert {ca})")
        return 0
    from edge.tls.certstore import format_rows, format_table
    from edge.tls.sni import load_cert_state

    served = None if args.folder else _served_rows(config)
    if served is not None:
        print(f"(as served by the running gateway on {config.server.admin}; --folder scans the files instead)")
        print(format_rows(served))
    else:
        print(format_table(load_cert_state(config).store))
    return 0


def _served_rows(config: Config) -> list[InventoryRow] | None:
    """The running gateway's table (admin `/certs`), which keeps a broken file's last good version; None
    when no gateway of this config answers."""
    from datetime import datetime

    from edge.adminclient import get_json
    from edge.tls.entries import InventoryRow

    answer = get_json(config, "/certs")
    if not isinstance(answer, dict):
        return None
    return [
        InventoryRow(
            files=tuple(row["files"]),
            names=tuple(row["names"]),
            key_type=row["key_type"],
            issuer=row["issuer"],
            not_after=datetime.fromisoformat(row["not_after"]) if row["not_after"] else None,
            state=row["state"],
            note=row["note"],
        )
        for row in answer.get("certificates", [])
    ]


def cmd_rules(args: argparse.Namespace) -> int:
    """`edge rules test` (0: all examples pass) and `edge rules explain` (one request, no network)."""
    config = _load(args.config)
    if config is None:
        return 1
    from edge.waf import RuleSetError, count_tests, explain_request, load_ruleset, run_tests

    try:
        ruleset = load_ruleset(config.waf.rules)
    except RuleSetError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    if args.action == "test":
        failures = run_tests(ruleset)
        for failure in failures:
            print(failure)
        total = count_tests(ruleset)
        print(f"{total - len(failures)} passed, {len(failures)} failed")
        return 1 if failures else 0
    waf = config.waf
    mode: Literal["block", "detect"] = "detect" if waf.mode == "detect" else "block"
    if args.id:
        return _explain_recorded(config, ruleset, args.id, mode)
    if not args.request:
        print("edge rules explain: give a request ('GET /path?q=1') or --id REQUEST_ID", file=sys.stderr)
        return 2
    headers = list(args.header)
    if args.data is not None and not any(h.lower().startswith("content-type:") for h in headers):
        headers.append("Content-Type: application/x-www-form-urlencoded")  # what curl -d sends
    if not any(h.lower().startswith("host:") for h in headers):
        headers.append(f"Host: {config.sites[0].hosts[0].removeprefix('*.')}")  # a real request always has one
    try:
        ipaddress.ip_address(args.ip)
    except ValueError:
        print(f"edge rules explain: --ip {args.ip!r} is not an IP address (e.g. --ip 192.0.2.7)", file=sys.stderr)
        return 2
    report = explain_request(
        ruleset,
        args.request,
        headers,
        args.data,
        mode=mode,
        paranoia=waf.paranoia,
        threshold=waf.anomaly_threshold,
        client_ip=args.ip,
    )
    print(report.rstrip("\n"))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """`edge init [DIR]`: a starting edge.toml, the managed rules and a development certificate."""
    from edge.scaffold import init_folder

    folder = Path(args.folder)
    for line in init_folder(folder, upgrade_rules=args.upgrade_rules, dev_cert=not args.no_dev_cert):
        print(line)
    config = folder / "edge.toml"
    print(f"next: edge check -c {config} && edge run -c {config}")
    return 0


def _explain_recorded(config: Config, ruleset: RuleSet, request_id: str, mode: Literal["block", "detect"]) -> int:
    """`edge rules explain --id`: fetch the request from the running gateway's ring of recent matched requests
    (admin API `GET /waf/recent/<id>`, edge/waf_audit.py) and explain it with the rules on disk."""
    from edge.waf import RequestView, explain
    from edge.waf_recent import RecentError, fetch_recent

    try:
        entry = fetch_recent(config, request_id)
    except RecentError as exc:
        print(f"edge rules explain --id {request_id}: {exc}", file=sys.stderr)
        return 1
    recorded, request = entry["audit"], entry["request"]
    rules = ", ".join(m["rule"] for m in recorded.get("matches", [])) or "none"
    print(
        f"recorded {recorded.get('ts', '?')}: {request['method']} {request['target']} -> {recorded.get('action')} "
        f"(status {recorded.get('status')}, score {recorded.get('score')}/{recorded.get('threshold')}, rules: {rules})"
    )
    if recorded.get("rules_fingerprint") and not ruleset.fingerprint.startswith(recorded["rules_fingerprint"]):
        print("note: the rules on disk changed since; the report below uses them")
    if request.get("body_truncated"):
        print("note: only the first part of the body was kept; body rules may judge it differently")
    view = RequestView.from_request_line(
        f"{request['method']} {request['target']} {request.get('version', 'HTTP/1.1')}",
        [(name, value) for name, value in request["headers"]],
        base64.b64decode(request.get("body_b64") or "") or None,
    )
    waf = config.waf
    print(explain(ruleset, view, mode, waf.paranoia, waf.anomaly_threshold).rstrip("\n"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge", description="A TLS-terminating edge gateway.")
    parser.add_argument("--version", action="version", version=f"edge {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("-c", "--config", default="edge.toml", help="path to edge.toml (default: ./edge.toml)")
        sub.set_defaults(handler=handler)
        return sub

    run = command("run", cmd_run, "serve until SIGTERM/SIGINT/SIGQUIT, then drain; SIGHUP reloads")
    run.add_argument("--pidfile", default=None, help="write the master's pid to this file (removed at exit)")
    command("check", cmd_check, "validate the config, every certificate and every rule file")
    certs = command("certs", cmd_certs, "list the certificate folder, or write development certificates")
    certs.add_argument("action", nargs="?", choices=["list", "dev"], default="list")
    certs.add_argument("names", nargs="*", help="with `dev`: the names the leaf certificate covers")
    certs.add_argument("--folder", action="store_true", help="scan the folder even when a running gateway could answer")
    init = commands.add_parser(
        "init", help="write a starting edge.toml, rules/ and certs/ into a folder", description=cmd_init.__doc__
    )
    init.add_argument("folder", nargs="?", default=".", help="where to write (default: the current folder)")
    init.add_argument("--upgrade-rules", action="store_true", help="replace the managed rule files with this version's")
    init.add_argument("--no-dev-cert", action="store_true", help="do not write a development certificate")
    init.set_defaults(handler=cmd_init, config=None)
    rules = commands.add_parser("rules", help="run the rules' embedded tests, or explain one request")
    rule_commands = rules.add_subparsers(dest="action", required=True)
    for name, text in (("test", "run every [[rule.test]] example"), ("explain", "evaluate one request, send nothing")):
        sub = rule_commands.add_parser(name, help=text, description=text)
        sub.add_argument("-c", "--config", default="edge.toml", help="path to edge.toml (default: ./edge.toml)")
        sub.set_defaults(handler=cmd_rules)
        if name == "explain":
            sub.add_argument("request", nargs="?", help="'METHOD TARGET', e.g. 'GET /search?q=1'")
            sub.add_argument(
                "--id",
                metavar="REQUEST_ID",
                help="explain a request the running gateway recorded (the request_id of an audit-log line), "
                "fetched from its admin API while it is among the recent matched requests",
            )
            sub.add_argument("-H", "--header", action="append", default=[], help="a request header, 'Name: value'")
            sub.add_argument("-d", "--data", default=None, help="the request body")
            sub.add_argument("--ip", default="127.0.0.1", help="the client address (ip.src), default 127.0.0.1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.config is not None and not Path(args.config).exists() and args.command != "certs":
        print(f"{args.config}: no such config file (give one with -c PATH)", file=sys.stderr)
        return 1
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
