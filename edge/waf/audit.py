"""The WAF audit record of one request: which rules matched, where, on what (redacted), and the score.

`findings(ruleset, state)` re-runs, for each rule that matched, the comparisons of its expression on the
values they read, and reports the first that holds: the field (`http.request.body.form.values`), the name
of the element when the field has one (the form field `comment`, the header `user-agent`), and a snippet of
the transformed value around what matched. It runs after the verdict, only for requests a rule matched, on
the memo of the request (no value is parsed twice). `record(...)` is the JSON-ready dict of an audit line.

Snippets are redacted so that an audit line can be read and shared while triaging: at most SNIPPET characters
around the match; long tokens (16+ characters of base64/hex/JWT alphabet) cut to their first 4 characters;
the whole value hidden when its name looks like a secret (password, token, cookie, authorization, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import re2

from edge.waf.compiler import Test
from edge.waf.engine import WafState
from edge.waf.fields import FIELDS, Ctx
from edge.waf.model import RuleSet

SNIPPET = 120
CONTEXT = 30
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|auth|cookie|session|api[-_]?key|card|cvv|ssn|otp|credential", re.I)
NAMES = {
    "http.request.uri.args.values": "http.request.uri.args.names",
    "http.request.body.form.values": "http.request.body.form.names",
    "http.request.cookies.values": "http.request.cookies.names",
    "http.request.headers.values": "http.request.headers.names",
    "http.request.body.files.contents": "http.request.body.files.names",
    "http.request.body.files.filenames": "http.request.body.files.names",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """Where one rule matched: `field` (a field name, or the expression text when it reads a computed value),
    `name` (the element's name, "" when the field has none) and the redacted `snippet`."""

    rule_id: str
    action: str
    score: int
    field: str
    name: str
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule_id, "action": self.action, "score": self.score, "field": self.field}
        if self.name:
            out["name"] = self.name
        out["value"] = self.snippet
        return out


def findings(ruleset: RuleSet, state: WafState) -> list[Finding]:
    """One `Finding` per matched rule of `state` (evaluated with `state.ctx`); never raises."""
    ctx = state.ctx
    out: list[Finding] = []
    for match in state.matches:
        rule = ruleset.rule(match.rule_id)
        found = None
        if rule is not None and ctx is not None:
            try:
                found = next(_witnesses(rule.compiled.tests, ctx), None)
            except Exception:  # a report is best effort; the verdict stands
                found = None
        field, name, snippet = found or ("", "", "")
        out.append(Finding(match.rule_id, match.action, match.score, field, name, snippet))
    return out


def _witnesses(tests: tuple[Test, ...], ctx: Ctx) -> Iterator[tuple[str, str, str]]:
    for test in tests:
        source = test.source
        steps, base = source.unary if source.unary is not None else ((), source)
        parts = base.parts if base.each and base.parts else (base,)
        for part in parts:
            values = part.get(ctx)
            elements = values if part.each or (base.each and isinstance(values, tuple)) else (values,)
            for index, raw in enumerate(elements or ()):
                value = raw
                for step in steps:
                    value = None if value is None else step(value)
                if value is not None and test.pred(value):
                    field = part.text if part.text in FIELDS else source.text
                    name = _name_of(part.text, index, ctx)
                    yield field, name, _snippet(value, test.pattern, name)


def _name_of(field: str, index: int, ctx: Ctx) -> str:
    names_field = NAMES.get(field)
    if names_field is None:
        return ""
    names = FIELDS[names_field].get(ctx) or ()
    return str(names[index]) if index < len(names) else ""


def _snippet(value: object, pattern: str | None, name: str) -> str:
    text = value if isinstance(value, str) else str(value)
    if name and _SECRET_NAME.search(name):
        return f"[redacted: {len(text)} characters]"
    start, end = 0, min(len(text), SNIPPET)
    if pattern is not None:
        try:
            m = re2.search(pattern, text)
        except Exception:  # a pattern the wrapper cannot take: show the start
            m = None
        if m is not None:
            start = max(0, m.start() - CONTEXT)
            end = min(len(text), max(m.end(), start + 1) + CONTEXT, start + SNIPPET)
    piece = _TOKEN.sub(lambda t: t.group(0)[:4] + "…", text[start:end])
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


def record(
    ruleset: RuleSet,
    state: WafState,
    *,
    request_id: str,
    host: str,
    method: str,
    path: str,
    client: str,
    status: int,
    mode: str,
    paranoia: int,
    threshold: int,
) -> dict[str, Any]:
    """The audit line of one request (see the module docstring); `status` is what the client was answered."""
    return {
        "request_id": request_id,
        "host": host,
        "method": method,
        "path": path,
        "client": client,
        "status": status,
        "action": state.action,
        "would_block": state.would_block,
        "score": state.score,
        "threshold": threshold,
        "paranoia": paranoia,
        "mode": mode,
        "rules_fingerprint": ruleset.fingerprint[:12],
        "matches": [f.as_dict() for f in findings(ruleset, state)],
    }
