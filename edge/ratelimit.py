"""Enforcing `[[ratelimit]]` rules with the `limits` package: counters in memory, Redis or any `limits` storage.

Each matching rule is hit once per window (`"10/second;300/hour"` is two windows); the first window that
is exhausted answers 429. The counter's key is the rule id plus the value of the rule's `key` expression,
so rules never share counters. Storage failures follow `[ratelimit] on_storage_error`: "allow" lets the
request through (logged at most once a second), "deny" answers 503; limiting resumes by itself when the
storage answers again, because every request asks it anew.

Headers follow the IETF httpapi rate-limit draft (structured fields):
`RateLimit-Policy: "login";q=5;w=60` and `RateLimit: "login";r=0;t=42`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from edge.config import RateLimitConfig

log = logging.getLogger("edge.ratelimit")

Strategy = FixedWindowRateLimiter | MovingWindowRateLimiter | SlidingWindowCounterRateLimiter
STRATEGIES: dict[str, type[Strategy]] = {
    "fixed-window": FixedWindowRateLimiter,
    "moving-window": MovingWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one rule said about one request: `allowed`, and the numbers for the headers."""

    rule_id: str
    allowed: bool
    limit: int
    window: int
    remaining: int
    reset: int  # seconds until the window frees capacity

    def policy_header(self) -> bytes:
        return f'"{self.rule_id}";q={self.limit};w={self.window}'.encode()

    def state_header(self) -> bytes:
        return f'"{self.rule_id}";r={self.remaining};t={self.reset}'.encode()

    def as_log(self) -> dict[str, object]:
        return {"rule": self.rule_id, "allowed": self.allowed, "remaining": self.remaining}


class StorageDown(Exception):
    """The counter storage failed and `on_storage_error = "deny"`: the caller answers 503."""


class Limiter:
    """One per worker: the storage connection and the strategy of `[ratelimit]`."""

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        uri = config.storage if config.storage.startswith("async+") else "async+" + config.storage
        self.storage = storage_from_string(uri, wrap_exceptions=True)
        self.strategy: Strategy = STRATEGIES[config.strategy](self.storage)
        self.fail_open = config.on_storage_error == "allow"
        self._last_error_log = 0.0

    @property
    def is_shared(self) -> bool:
        """False for memory://, whose counters each worker keeps alone."""
        return not self.config.storage.startswith(("memory://", "async+memory://"))

    async def check(self, rule_id: str, items: Sequence[RateLimitItem], key: str) -> Outcome | None:
        """Hit every window of one rule for `key`; None when the storage failed and we fail open."""
        try:
            tightest: Outcome | None = None
            for item in items:
                allowed = await self.strategy.hit(item, rule_id, key)
                stats = await self.strategy.get_window_stats(item, rule_id, key)
                reset = max(0, math.ceil(stats.reset_time - time.time()))
                outcome = Outcome(rule_id, allowed, item.amount, item.get_expiry(), stats.remaining, reset)
                if not allowed:
                    return outcome
                if tightest is None or outcome.remaining < tightest.remaining:
                    tightest = outcome
            return tightest
        except StorageError as exc:
            self._report(exc)
            if self.fail_open:
                return None
            raise StorageDown(str(exc)) from exc

    def _report(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= 1.0:
            self._last_error_log = now
            action = "allowing requests (fail open)" if self.fail_open else "answering 503 (fail closed)"
            log.error("rate-limit storage %s failed: %s; %s", self.config.storage, exc, action)
