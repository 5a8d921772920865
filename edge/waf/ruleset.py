"""Rule files -> one immutable, validated `RuleSet`.

`load_ruleset(folder)` reads `folder/*.toml` in name order; `build_ruleset([(path, text), ...])` does the
same from text. Each file may hold `[lists]`, `[[rule]]` and `[[ratelimit]]` (see CONTRACT section 4). Every
problem is collected (unknown keys with `did you mean`, wrong types, duplicate ids, bad expressions with
file:line:col, bad limits, unknown skip targets) and raised together as `RuleSetError`; a caller that
reloads keeps its last good set. A `RuleSet` carries a fingerprint of the files' content.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import limits

from edge.ratepolicy import Policy
from edge.tomlpos import FilePos, TablePos, expression_start, locate
from edge.waf.compiler import Compiler
from edge.waf.errors import RuleError, RuleSetError, suggest
from edge.waf.model import RateLimit, Rule, RuleSet, RuleTest

ACTIONS = ("block", "score", "log", "allow", "skip")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]*")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


# key -> (accepted Python types, description); tables over branches.
RULE_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "id": ((str,), "a string"),
    "description": ((str,), "a string"),
    "expr": ((str,), "a string"),
    "action": ((str,), "a string"),
    "score": ((int,), "an integer"),
    "status": ((int,), "an integer"),
    "paranoia": ((int,), "an integer"),
    "tags": ((list,), "a list of strings"),
    "skip": ((list,), "a list of strings"),
    "test": ((list,), "an array of [[rule.test]] tables"),
}
TEST_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "request": ((str,), "a string"),
    "headers": ((dict, list), "a table or a list"),
    "body": ((str,), "a string"),
    "ip": ((str,), 'a client address such as "192.0.2.7"'),
    "match": ((bool,), "true or false"),
}
RATELIMIT_TEST_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    **TEST_KEYS,
    "key": ((str,), "the counter key the rate limit computes, a string"),
}
RATELIMIT_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "id": ((str,), "a string"),
    "description": ((str,), "a string"),
    "expr": ((str,), "a string"),
    "limit": ((str,), "a string"),
    "key": ((str,), "a string"),
    "test": ((list,), "an array of [[ratelimit.test]] tables"),
}
TOP_KEYS = ("lists", "rule", "ratelimit")


def load_ruleset(folder: str | Path) -> RuleSet:
    """The rule set of `folder/*.toml`; `RuleSetError` listing every problem when any file is invalid."""
    path = Path(folder)
    if not path.is_dir():
        raise RuleSetError([RuleError("rules folder not found", file=str(path), line=0, col=0)])
    files: list[tuple[str, str]] = []
    problems: list[RuleError] = []
    for file in sorted(path.glob("*.toml")):
        try:
            files.append((str(file), file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(RuleError(f"cannot read: {exc}", file=str(file), line=0, col=0))
    if problems:
        raise RuleSetError(problems)
    return build_ruleset(files)


def build_ruleset(files: Sequence[tuple[str, str]]) -> RuleSet:
    """The rule set of `(path, text)` files in the given order; `RuleSetError` listing every problem."""
    return _Loader(files).build()


class _Loader:
    def __init__(self, files: Sequence[tuple[str, str]]) -> None:
        self.files = files
        self.problems: list[RuleError] = []
        self.compiler = Compiler()
        self.rules: list[Rule] = []
        self.ratelimits: list[RateLimit] = []
        self.ids: dict[str, str] = {}
        self.file, self.text = "", ""

    def problem(self, message: str, line: int, col: int = 1) -> None:
        self.problems.append(RuleError(message, file=self.file, line=line, col=col))

    def build(self) -> RuleSet:
        parsed: list[tuple[str, str, dict[str, Any], FilePos]] = []
        for path, text in self.files:
            self.file = path
            try:
                parsed.append((path, text, tomllib.loads(text), locate(text)))
            except tomllib.TOMLDecodeError as exc:
                m = _TOML_AT.search(str(exc))
                # "(at end of document)" has no position: point at the last line, where the text ran out.
                where = _ints(m) if m else (max(1, text.count("\n") + (not text.endswith("\n"))), 1)
                message = _TOML_AT.sub("", str(exc)).replace("(at end of document)", "").strip()
                self.problem(f"invalid TOML: {message}", *where)
        for path, text, data, pos in parsed:
            self.file, self.text = path, text
            self.load_lists(data, pos)
        for path, text, data, pos in parsed:
            self.file, self.text = path, text
            self.load_file(data, pos)
        self.check_skips()
        if self.problems:
            order = {path: n for n, (path, _) in enumerate(self.files)}
            raise RuleSetError(sorted(self.problems, key=lambda p: (order.get(p.file, -1), p.line, p.col)))
        digest = hashlib.sha256()
        for path, text in self.files:
            digest.update(Path(path).name.encode() + b"\0" + text.encode() + b"\0")
        return RuleSet(
            tuple(self.rules),
            tuple(self.ratelimits),
            {name: tuple(values) for name, values in self.compiler.lists.items()},
            {atom.id: atom for atom in self.compiler.atoms.values()},
            digest.hexdigest(),
            tuple(path for path, _ in self.files),
        )

    def load_lists(self, data: dict[str, Any], pos: FilePos) -> None:
        table = data.get("lists", {})
        where = pos.tables.get("lists", TablePos(1))
        if not isinstance(table, dict):
            self.problem("[lists] must be a table of name = [values]", where.line)
            return
        for name, values in table.items():
            line = where.key(name)[0]
            if not isinstance(values, list) or not all(isinstance(v, str | int) for v in values):
                self.problem(f"list '{name}' must be an array of strings or integers", line)
            elif name in self.compiler.lists:
                self.problem(f"list '{name}' is defined twice", line)
            else:
                self.compiler.lists[name] = tuple(values)

    def load_file(self, data: dict[str, Any], pos: FilePos) -> None:
        for key in data:
            if key not in TOP_KEYS:
                line = pos.tables.get(key, pos.tables.get("", TablePos(1))).key(key)[0]
                if key in pos.tables or key in pos.arrays:
                    line = (pos.tables.get(key) or pos.arrays[key][0]).line
                self.problem(f"unknown table '{key}'{suggest(key, TOP_KEYS)}", line)
        for kind, loader in (("rule", self.load_rule), ("ratelimit", self.load_ratelimit)):
            tables = data.get(kind, [])
            if not isinstance(tables, list):
                self.problem(f"'{kind}' must be an array of tables: write [[{kind}]]", 1)
                continue
            for n, table in enumerate(tables):
                loader(table, pos.array(kind, n))

    def check_keys(self, table: dict[str, Any], where: TablePos, schema: dict[str, Any], what: str) -> bool:
        ok = True
        for key, value in table.items():
            line, col = where.key(key)
            if key not in schema:
                self.problem(f"unknown key '{key}' in {what}{suggest(key, schema)}", *where.key_start(key))
                ok = False
            elif not isinstance(value, schema[key][0]) or (isinstance(value, bool) and bool not in schema[key][0]):
                self.problem(f"'{key}' must be {schema[key][1]}", line, col)
                ok = False
        for key in ("id", "expr") if not what.endswith(".test]]") else ("request",):
            if key not in table:
                self.problem(f"{what} is missing '{key}'", where.line)
                ok = False
        return ok

    def compile_expr(self, table: dict[str, Any], where: TablePos, key: str, build: Callable[[str], Any]) -> Any:
        line, col = expression_start(self.text, *where.key(key))
        try:
            return build(table[key])
        except RuleError as err:
            self.problems.append(err.relocated(self.file, line, col))
            return None

    def claim_id(self, rule_id: str, where: TablePos, namespace: str) -> None:
        if not _ID.fullmatch(rule_id):
            self.problem(f"id '{rule_id}' must be letters, digits and _ . : -", where.key("id")[0])
        seen = self.ids.get(f"{namespace}:{rule_id}")
        if seen is not None:
            self.problem(f"duplicate {namespace} id '{rule_id}' (first defined at {seen})", where.key("id")[0])
        self.ids[f"{namespace}:{rule_id}"] = f"{self.file}:{where.line}"

    def load_rule(self, table: dict[str, Any], where: TablePos) -> None:
        if not self.check_keys(table, where, RULE_KEYS, "[[rule]]"):
            return
        self.claim_id(table["id"], where, "rule")
        compiled = self.compile_expr(table, where, "expr", self.compiler.rule)
        action = table.get("action", "")
        if action not in ACTIONS:
            self.problem(
                f"action must be one of {', '.join(ACTIONS)}{suggest(action, ACTIONS)}", where.key("action")[0]
            )
        checks = (
            ("score", action == "score" and table.get("score", 0) < 1, "a score rule needs score = N (N >= 1)"),
            ("status", not 100 <= table.get("status", 403) <= 599, "status must be an HTTP status, 100..599"),
            ("paranoia", not 1 <= table.get("paranoia", 1) <= 4, "paranoia must be 1..4"),
            ("skip", action == "skip" and not table.get("skip"), "a skip rule needs skip = [rule ids or tags]"),
            ("tags", not all(isinstance(t, str) for t in table.get("tags", [])), "tags must be strings"),
            ("skip", not all(isinstance(t, str) for t in table.get("skip", [])), "skip must list strings"),
        )
        for key, failed, message in checks:
            if failed:
                self.problem(message, where.key(key)[0])
        tests = tuple(self.load_test(t, where, n) for n, t in enumerate(table.get("test", [])))
        if compiled is None or any(t is None for t in tests):
            return
        tags = tuple(table.get("tags", []))
        self.rules.append(
            Rule(
                id=table["id"],
                expr=table["expr"],
                action=action,
                compiled=compiled,
                description=table.get("description", ""),
                score=table.get("score", 0),
                status=table.get("status", 403),
                paranoia=table.get("paranoia", 1),
                tags=tags,
                skip=frozenset(table.get("skip", [])),
                tests=tuple(t for t in tests if t is not None),
                file=self.file,
                line=where.line,
                names=frozenset({table["id"], *tags}),
            )
        )

    def load_test(self, table: Any, rule_where: TablePos, n: int, kind: str = "rule") -> RuleTest | None:
        tests = rule_where.subtables.get("test", [])
        where = tests[n] if n < len(tests) else rule_where
        schema = TEST_KEYS if kind == "rule" else RATELIMIT_TEST_KEYS
        if not isinstance(table, dict) or not self.check_keys(table, where, schema, f"[[{kind}.test]]"):
            return None
        ip = table.get("ip")
        if ip is not None:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                self.problem(f'ip {ip!r} is not an IP address; write e.g. ip = "192.0.2.7"', where.key("ip")[0])
                return None
        headers = table.get("headers", {})
        pairs = headers.items() if isinstance(headers, dict) else [_header_pair(h) for h in headers]
        if any(p is None for p in pairs):
            self.problem('headers must be a table or a list of "Name: value" strings', where.key("headers")[0])
            return None
        clean = tuple((str(k), str(v)) for k, v in pairs if k is not None)  # type: ignore[misc]
        match = table.get("match", True)
        return RuleTest(table["request"], clean, table.get("body"), match, where.line, ip, table.get("key"))

    def load_ratelimit(self, table: dict[str, Any], where: TablePos) -> None:
        if not self.check_keys(table, where, RATELIMIT_KEYS, "[[ratelimit]]"):
            return
        self.claim_id(table["id"], where, "ratelimit")
        compiled = self.compile_expr(table, where, "expr", self.compiler.rule)
        key = self.compile_expr({"key": table.get("key", "ip.src")}, where, "key", self.compiler.key)
        if compiled is not None and compiled.phase == "body":
            self.problem(
                "rate limits run before the body is read: the expression cannot read http.request.body.*",
                where.key("expr")[0],
            )
        limit = table.get("limit")
        try:
            items = tuple(limits.parse_many(limit)) if isinstance(limit, str) else ()
        except ValueError as exc:
            self.problem(f'invalid limit {limit!r}: {exc}; write e.g. "10/second;300/hour"', where.key("limit")[0])
            return
        if not items:
            self.problem('a rate limit needs limit = "N/second|minute|hour|day"', where.key("limit")[0])
            return
        tests = tuple(self.load_test(t, where, n, "ratelimit") for n, t in enumerate(table.get("test", [])))
        if compiled is None or key is None or compiled.phase == "body" or any(t is None for t in tests):
            return
        self.ratelimits.append(
            RateLimit(
                table["id"],
                table["expr"],
                str(limit),
                items,
                table.get("key", "ip.src"),
                compiled.predicate,
                key[0],
                Policy.of(table["id"], items),
                self.file,
                where.line,
                tuple(t for t in tests if t is not None),
            )
        )

    def check_skips(self) -> None:
        known = {name for rule in self.rules for name in rule.names}
        for rule in self.rules:
            for name in sorted(rule.skip - known):
                self.problems.append(
                    RuleError(
                        f"skip names no rule id or tag '{name}'{suggest(name, known)}",
                        file=rule.file,
                        line=rule.line,
                        col=1,
                    )
                )


def _header_pair(item: Any) -> tuple[str, str] | None:
    if isinstance(item, str) and ":" in item:
        name, _, value = item.partition(":")
        return name.strip(), value.strip()
    if isinstance(item, list) and len(item) == 2:
        return str(item[0]), str(item[1])
    return None


def _ints(m: re.Match[str] | None) -> tuple[int, int]:
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)
