"""`explain(...)`: a human report of how the rule set judges one request (for `edge rules explain`).

Runs both phases with tracing: every rule that matched, with its action and score, the comparison that held
and the transformed value it held for, the total score and the verdict; then the `[[ratelimit]]` rules the
request counts against and the key of each counter (rate limits apply even when a rule allows). Never sends
anything anywhere and counts nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from edge.waf.engine import Mode, Verdict, WafState, evaluate, match_ratelimits
from edge.waf.model import RateLimit, RuleSet
from edge.waf.request import RequestView


def explain(ruleset: RuleSet, view: RequestView, mode: Mode = "block", paranoia: int = 1, threshold: int = 5) -> str:
    """The report for `view` (body phase included when the view carries a body)."""
    state = WafState()
    counted = match_ratelimits(ruleset, view, WafState())
    verdict = evaluate(
        ruleset, view, phase="head", state=state, mode=mode, paranoia=paranoia, threshold=threshold, trace=True
    )
    if verdict.needs_body:
        if view.body is None:
            view.body = b""
        verdict = evaluate(
            ruleset, view, phase="body", state=state, mode=mode, paranoia=paranoia, threshold=threshold, trace=True
        )
    report = _report(ruleset, view, verdict, mode, paranoia, threshold)
    return report + _ratelimit_report(ruleset, counted)


def _ratelimit_report(ruleset: RuleSet, counted: list[tuple[RateLimit, str]]) -> str:
    if not ruleset.ratelimits:
        return ""
    if not counted:
        return f"rate limits: none of {len(ruleset.ratelimits)} counts this request\n"
    lines = [f"rate limits: counted by {len(counted)} of {len(ruleset.ratelimits)}"]
    for limit, key in counted:
        lines.append(
            f"  {limit.id}: {limit.limit} per key {key!r} (key = {limit.key_expr})  ({limit.file}:{limit.line})"
        )
    return "\n".join(lines) + "\n"


def explain_request(
    ruleset: RuleSet,
    request: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[str] = (),
    body: str | bytes | None = None,
    *,
    mode: Mode = "block",
    paranoia: int = 1,
    threshold: int = 5,
    client_ip: str = "127.0.0.1",
) -> str:
    """`explain` for the CLI: `request` is `"METHOD TARGET"`, headers as `"Name: value"` strings (`-H`), body `-d`,
    `client_ip` the address the request comes from (`--ip`)."""
    view = RequestView.from_request_line(request, headers=headers, body=body, client_ip=client_ip)
    return explain(ruleset, view, mode, paranoia, threshold)


def _report(ruleset: RuleSet, view: RequestView, verdict: Verdict, mode: str, paranoia: int, threshold: int) -> str:
    lines = [f"request: {view.method} {view.target} (host {view.host}, client {view.client_ip})"]
    lines.append(
        f"rule set: {len(ruleset.rules)} rules, fingerprint {ruleset.fingerprint[:12]}, "
        f"mode {mode}, paranoia {paranoia}, threshold {threshold}"
    )
    if not verdict.matches:
        lines.append("no rule matched")
    for match in verdict.matches:
        rule = ruleset.rule(match.rule_id)
        where = f"  ({rule.file}:{rule.line})" if rule else ""
        extra = f" +{match.score}" if match.action == "score" else ""
        tags = f" [{', '.join(match.tags)}]" if match.tags else ""
        lines.append(f"matched {match.rule_id}: {match.action}{extra}{tags}{where}")
        if match.field:
            lines.append(f"    {match.field} = {match.value!r}")
        elif rule:
            lines.append(f"    expr: {rule.expr}")
    outcome = verdict.action
    if verdict.action == "block":
        outcome = f"block {verdict.status}"
    elif verdict.would_block:
        outcome += " (detect mode: block mode would block)"
    lines.append(f"score: {verdict.score} (threshold {threshold})")
    lines.append(f"verdict: {outcome}")
    return "\n".join(lines) + "\n"
