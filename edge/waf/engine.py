"""Rule evaluation: `evaluate(ruleset, view, phase=..., state=...) -> Verdict` (CONTRACT section 4).

Rules run in file order. `block` ends evaluation with the rule's status; `allow` ends WAF evaluation and
lets the request pass; `skip` turns rules off for this request by id or tag; `log` records; `score` adds.
Rules that read `http.request.body.*` run in the body phase, all others in the head phase. The head phase
answers `needs_body` when body rules remain and the request announces a body; when it has none, the body
rules run at once (over an empty body) and the head verdict is final. When the last phase ends, a score at
or over `threshold` blocks (403). In `detect` mode nothing blocks: matches are recorded and `would_block`
tells what block mode would have done. Rules above `paranoia` are off (plans are built per level, cached).
`WafState` carries score, matches, skips and the per-request memo from head to body. Evaluation never
raises on a request: a rule whose evaluation fails counts as not matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from edge.waf.fields import Ctx
from edge.waf.model import RateLimit, Rule, RuleSet
from edge.waf.prefilter import Prefilter
from edge.waf.request import RequestView

Phase = Literal["head", "body"]
Mode = Literal["block", "detect"]
MAX_TRACE_VALUE = 200


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched; `field`/`value` (the comparison and transformed value) are filled when tracing."""

    rule_id: str
    action: str
    score: int
    tags: tuple[str, ...]
    field: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """`action`: "pass", "block" or "allow"; `status` is the response status for a block, else 0."""

    action: str
    status: int
    score: int
    matches: tuple[Match, ...]
    needs_body: bool = False
    would_block: bool = False


_PASS = Verdict("pass", 0, 0, ())


@dataclass(slots=True)
class WafState:
    """Per-request state shared by the phases; create one per request and pass it to every call."""

    score: int = 0
    matches: list[Match] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    action: str = "pass"
    status: int = 0
    would_block: bool = False
    done: bool = False
    ctx: Ctx | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    rules: tuple[Rule, ...]
    prefilter: Prefilter


def plan_for(ruleset: RuleSet, phase: str, paranoia: int) -> Plan:
    """The rules of `phase` at or under `paranoia`, with their prefilter; built once per ruleset and level.
    Phase "head+body" is the head rules followed by the body rules, run in one pass when there is no body."""
    key = (phase, paranoia)
    plan: Plan | None = ruleset.plans.get(key)
    if plan is None:
        phases = phase.split("+")
        rules = tuple(r for p in phases for r in ruleset.rules if r.compiled.phase == p and r.paranoia <= paranoia)
        plan = Plan(rules, Prefilter([r.compiled.guard for r in rules], ruleset.atoms))
        ruleset.plans[key] = plan
    return plan


def prepare(ruleset: RuleSet, paranoia: int) -> None:
    """Build every plan `evaluate` may need at `paranoia`, so that no request pays for it."""
    for phase in ("head", "body", "head+body"):
        plan_for(ruleset, phase, paranoia)


def context(state: WafState, view: RequestView) -> Ctx:
    """The state's evaluation context, bound to `view` (a new view object keeps the memo of the head)."""
    ctx = state.ctx
    if ctx is None:
        ctx = state.ctx = Ctx(view)
    elif ctx.view is not view:
        ctx.view = view
    return ctx


def evaluate(
    ruleset: RuleSet,
    view: RequestView,
    *,
    phase: Phase,
    state: WafState,
    mode: Mode = "block",
    paranoia: int = 1,
    threshold: int = 5,
    trace: bool = False,
) -> Verdict:
    """Run the rules of `phase` (see the module docstring); `trace` fills `Match.field` and `Match.value`."""
    ctx = context(state, view)
    needs_body = False
    if state.done:
        pass
    elif phase != "head":
        _run(plan_for(ruleset, phase, paranoia), ctx, state, mode, trace)
    elif plan_for(ruleset, "body", paranoia).rules and view.declares_body():
        _run(plan_for(ruleset, "head", paranoia), ctx, state, mode, trace)
        needs_body = not state.done
    else:  # the head rules, then the body rules over an empty body: one plan, one prefilter pass
        _run(plan_for(ruleset, "head+body", paranoia), ctx, state, mode, trace)
    if not needs_body and not state.done and state.score >= threshold:
        _block(state, mode, 403)
    if not state.matches and not needs_body and state.action == "pass" and not state.would_block:
        return _PASS
    return Verdict(state.action, state.status, state.score, tuple(state.matches), needs_body, state.would_block)


def _block(state: WafState, mode: str, status: int) -> None:
    state.would_block = True
    if mode == "block":
        state.action, state.status, state.done = "block", status, True


def _run(plan: Plan, ctx: Ctx, state: WafState, mode: str, trace: bool) -> None:
    rules = plan.rules
    try:
        candidates = plan.prefilter.candidates(ctx)
    except Exception:  # a prefilter failure must not drop rules: evaluate them all
        candidates = range(len(rules))
    skipped = state.skipped
    for index in candidates:
        rule = rules[index]
        if skipped and not rule.names.isdisjoint(skipped):
            continue
        try:
            if not rule.compiled.predicate(ctx):
                continue
        except Exception:  # evaluation never raises on a request; the rule does not match
            continue
        _ACTIONS[rule.action](rule, state, mode)
        state.matches.append(_witness(rule, ctx) if trace else Match(rule.id, rule.action, rule.score, rule.tags))
        if state.done:
            return


def _score(rule: Rule, state: WafState, mode: str) -> None:
    state.score += rule.score


def _skip(rule: Rule, state: WafState, mode: str) -> None:
    state.skipped |= rule.skip


def _allow(rule: Rule, state: WafState, mode: str) -> None:
    state.action, state.done = "allow", True


def _block_rule(rule: Rule, state: WafState, mode: str) -> None:
    _block(state, mode, rule.status)


def _log(rule: Rule, state: WafState, mode: str) -> None:
    return None


_ACTIONS = {"score": _score, "skip": _skip, "allow": _allow, "block": _block_rule, "log": _log}


def _witness(rule: Rule, ctx: Ctx) -> Match:
    """The match with the first comparison that holds and the (transformed) value it held for."""
    for test in rule.compiled.tests:
        try:
            values: Any = test.source.get(ctx)
            for value in values if test.source.each else (values,):
                if test.pred(value):
                    return Match(rule.id, rule.action, rule.score, rule.tags, test.source.text, _show(value))
        except Exception:  # tracing is best effort
            continue
    return Match(rule.id, rule.action, rule.score, rule.tags)


def _show(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_TRACE_VALUE else text[:MAX_TRACE_VALUE] + "..."


def match_ratelimits(ruleset: RuleSet, view: RequestView, state: WafState) -> list[tuple[RateLimit, str]]:
    """The `[[ratelimit]]` rules whose expression holds for this request, each with its counter key."""
    ctx = context(state, view)
    found: list[tuple[RateLimit, str]] = []
    for limit in ruleset.ratelimits:
        try:
            if limit.predicate(ctx):
                found.append((limit, limit.key(ctx)))
        except Exception:  # a failing rate-limit rule does not apply
            continue
    return found
