"""The loaded rule set: immutable records of rules, rate limits and their compiled predicates.

Built by `ruleset.build_ruleset` / `load_ruleset`; read by the engine, the rule tests and explain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import limits

from edge.ratepolicy import Policy
from edge.waf.compiler import Atom, CompiledRule
from edge.waf.fields import Ctx


@dataclass(frozen=True, slots=True)
class RuleTest:
    """An embedded example: `match` says whether the rule's expression is true for this request.

    `ip` is the client address the request comes from (`ip.src`; 127.0.0.1 when absent). In a
    `[[ratelimit.test]]`, `key` is the counter key the rate limit must compute (checked when it matches).
    """

    request: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    match: bool
    line: int
    ip: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    expr: str
    action: str
    compiled: CompiledRule
    description: str = ""
    score: int = 0
    status: int = 403
    paranoia: int = 1
    tags: tuple[str, ...] = ()
    skip: frozenset[str] = frozenset()
    tests: tuple[RuleTest, ...] = ()
    file: str = ""
    line: int = 0
    names: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`[[ratelimit]]`: when `predicate` holds, count the request under `key(ctx)` against `items`."""

    id: str
    expr: str
    limit: str
    items: tuple[limits.RateLimitItem, ...]
    key_expr: str
    predicate: Callable[[Ctx], bool]
    key: Callable[[Ctx], str]
    policy: Policy  # the windows of `items`, worked out at load
    file: str = ""
    line: int = 0
    tests: tuple[RuleTest, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the rule files define, validated and compiled. `plans` caches per-phase evaluation plans."""

    rules: tuple[Rule, ...] = ()
    ratelimits: tuple[RateLimit, ...] = ()
    lists: Mapping[str, tuple[str | int, ...]] = field(default_factory=dict)
    atoms: Mapping[int, Atom] = field(default_factory=dict)
    fingerprint: str = hashlib.sha256(b"").hexdigest()
    files: tuple[str, ...] = ()
    plans: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
