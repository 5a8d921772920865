"""The `[[rule.test]]` examples of a rule set: `run_tests(ruleset) -> list[TestFailure]` (empty: all pass).

A test's `match` means: the rule's own expression is true for that request (evaluated in isolation, not
the whole chain, so skips and earlier blocks do not interfere). Body rules see the test's body. A test's
`ip` is the client address (`ip.src`). `[[ratelimit.test]]` examples say whether the rate limit counts the
request (`match`) and, when it does, under which counter key (`key`).
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.waf.fields import Ctx
from edge.waf.model import RateLimit, Rule, RuleSet, RuleTest
from edge.waf.request import RequestView


@dataclass(frozen=True, slots=True)
class TestFailure:
    """One failing example; `str()` is `file:line: message`, the form `edge check` prints."""

    __test__ = False  # not a pytest test class

    rule_id: str
    index: int
    file: str
    line: int
    request: str
    expected: bool
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def test_view(test: RuleTest) -> RequestView:
    """The request of an example, from its client address when it names one."""
    return RequestView.from_request_line(
        test.request, headers=test.headers, body=test.body, client_ip=test.ip or "127.0.0.1"
    )


def run_test(rule: Rule, test: RuleTest) -> bool:
    """Whether `rule`'s expression is true for the test's request (evaluation errors count as false)."""
    view = test_view(test)
    if view.body is None and rule.compiled.phase == "body":
        view.body = b""
    try:
        return bool(rule.compiled.predicate(Ctx(view)))
    except Exception:  # a test reports the failure instead of raising
        return False


def run_tests(ruleset: RuleSet) -> list[TestFailure]:
    """Every embedded example of every rule; the failures, in file order."""
    failures: list[TestFailure] = []
    for rule in ruleset.rules:
        for n, test in enumerate(rule.tests):
            got = run_test(rule, test)
            if got != test.match:
                want = "match" if test.match else "no match"
                found = "it matched" if got else "it did not match"
                message = f"rule '{rule.id}' test {n + 1} ({test.request!r}): expected {want}, {found}"
                failures.append(TestFailure(rule.id, n, rule.file, test.line, test.request, test.match, message))
    for limit in ruleset.ratelimits:
        for n, test in enumerate(limit.tests):
            message = ratelimit_test_failure(limit, test, n)
            if message:
                failures.append(TestFailure(limit.id, n, limit.file, test.line, test.request, test.match, message))
    return failures


def ratelimit_test_failure(limit: RateLimit, test: RuleTest, n: int) -> str:
    """Why a `[[ratelimit.test]]` fails ("" when it passes)."""
    ctx = Ctx(test_view(test))
    label = f"rate limit '{limit.id}' test {n + 1} ({test.request!r})"
    try:
        counted = bool(limit.predicate(ctx))
        key = limit.key(ctx) if counted else None
    except Exception as exc:  # reported, not raised
        return f"{label}: evaluation failed: {exc}"
    if counted != test.match:
        want = "counted" if test.match else "not counted"
        return f"{label}: expected the request to be {want}, it was{'' if counted else ' not'}"
    if counted and test.key is not None and key != test.key:
        return f"{label}: expected key {test.key!r}, got {key!r}"
    return ""


def count_tests(ruleset: RuleSet) -> int:
    """Embedded examples of rules and rate limits."""
    return sum(len(rule.tests) for rule in ruleset.rules) + sum(len(limit.tests) for limit in ruleset.ratelimits)
