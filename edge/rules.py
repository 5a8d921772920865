"""Loading the rules folder as a whole: parse and compile every file, then run every embedded test.

One function serves `edge check`, `edge rules test`, startup and live reload, so that what the CLI calls
valid is exactly what the running gateway would accept. A set with any problem is refused as a whole;
the caller keeps its last good set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from edge.waf import RuleSet, RuleSetError, load_ruleset, prepare, run_tests


@dataclass(frozen=True, slots=True)
class RulesState:
    """A loaded, tested rule set and when it was loaded."""

    ruleset: RuleSet
    loaded_at: float

    @property
    def active(self) -> bool:
        """False when there is nothing to evaluate: the gateway then skips the WAF phases entirely."""
        return bool(self.ruleset.rules or self.ruleset.ratelimits)


EMPTY = RulesState(RuleSet(), 0.0)


def load_rules(folder: Path, paranoia: int | None = None) -> tuple[RulesState | None, list[str]]:
    """(state, []) when every file loads and every test passes, else (None, problems as `file:line: message`).

    A missing folder is an empty rule set, not an error: a gateway without WAF rules is a valid setup.
    With `paranoia`, the evaluation plans of that level are built now (off the event loop, in the loader's
    thread), not by the first request after a reload, which would wait for their RE2 sets (about 0.5 s).
    """
    if not folder.exists():
        return RulesState(RuleSet(), time.time()), []
    try:
        ruleset = load_ruleset(folder)
    except RuleSetError as exc:
        return None, [str(problem) for problem in exc.problems]
    failures = run_tests(ruleset)
    if failures:
        return None, [str(failure) for failure in failures]
    if paranoia is not None:
        prepare(ruleset, paranoia)
    return RulesState(ruleset, time.time()), []
