"""Enforcing `[[ratelimit]]` rules: `limits` items and storages (Redis, memcached, ...), local counters for memory://.

Each matching rule is hit once per window (`"10/second;300/hour"` is two windows); a rule counts the hit
in all its windows or, when one is exhausted, in none, and that window answers 429. The counter's key is
the rule id plus the value of the rule's `key` expression, so rules never share counters. With Redis, all
the rules of one request are checked in one round trip (`edge.shared_counters`: one Lua script); other
shared storages go through `limits`' strategies, two calls per window. Storage failures follow
`[ratelimit] on_storage_error`: "allow" lets the request through (logged at most once a second), "deny"
answers 503; limiting resumes by itself when the storage answers again, because every request asks it anew.

Headers follow the IETF httpapi rate-limit draft (structured fields):
`RateLimit-Policy: "login";q=5;w=60` and `RateLimit: "login";r=0;t=42`.
"""

from __future__ import annotations

import asyncio
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
from edge.counters import LocalCounters, WindowState
from edge.ratepolicy import Policy, Window
from edge.shared_counters import SharedCounters, supports

log = logging.getLogger("edge.ratelimit")

# The Redis client `limits` drives (`implementation=`): redis-py with hiredis costs less CPU per check than
# coredis (PERF_NOTES.md), and edge.shared_counters pipelines through it.
REDIS_CLIENT = "redispy"
_REDIS_SCHEMES = ("async+redis://", "async+rediss://", "async+redis+unix://", "async+redis+sentinel://")

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
    policy: bytes  # the window's RateLimit-Policy member, formatted when the rule loaded (`Window.policy`)

    def policy_header(self) -> bytes:
        return self.policy

    def state_header(self) -> bytes:
        return b'"%s";r=%d;t=%d' % (self.rule_id.encode(), self.remaining, self.reset)

    def as_log(self) -> dict[str, object]:
        return {"rule": self.rule_id, "allowed": self.allowed, "remaining": self.remaining}


_RETIRING: set[asyncio.Task[None]] = set()  # closing replaced limiters (the loop keeps only weak references)


class StorageDown(Exception):
    """The counter storage failed and `on_storage_error = "deny"`: the caller answers 503."""


class Limiter:
    """One per worker: the counters of `[ratelimit]` (local for memory://, else a `limits` storage).

    A shared storage gets a deadline per check and a short breaker: after a failure it is left alone for
    `BREAKER_SECONDS` (requests fail open or closed at once instead of each waiting for a dead server),
    then tried again, so limiting resumes by itself when the storage is back.
    """

    TIMEOUT = 0.5  # seconds a shared storage may take to answer one check
    BREAKER_SECONDS = 1.0

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self.fail_open = config.on_storage_error == "allow"
        self.local: LocalCounters | None = None
        self.shared: SharedCounters | None = None
        self.strategy: Strategy | None = None
        if not self.is_shared:
            self.local = LocalCounters(config.strategy)
        else:
            uri = config.storage if config.storage.startswith("async+") else "async+" + config.storage
            options = {"implementation": REDIS_CLIENT} if uri.startswith(_REDIS_SCHEMES) else {}
            self.storage = storage_from_string(uri, wrap_exceptions=True, **options)
            if supports(self.storage):
                self.shared = SharedCounters(self.storage, config.strategy, timeout=self.TIMEOUT)
            else:
                self.strategy = STRATEGIES[config.strategy](self.storage)
        self._last_error_log = 0.0
        self._broken_until = 0.0

    @property
    def is_shared(self) -> bool:
        """False for memory://, whose counters each worker keeps alone."""
        return not self.config.storage.startswith(("memory://", "async+memory://"))

    async def close(self) -> None:
        """Close the connections of a shared storage checked with the one script (others close when dropped)."""
        if self.shared is not None:
            await self.shared.close()

    def retire(self) -> None:
        """Close the storage connections of a limiter that a reload replaced, once the checks already waiting
        on it are past their deadline (a request that took this limiter before the swap still gets its answer)."""
        if self.shared is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: no connection was ever opened
            return

        def close() -> None:
            task = loop.create_task(self.close())
            _RETIRING.add(task)
            task.add_done_callback(_RETIRING.discard)

        loop.call_later(2 * self.TIMEOUT + 1, close)

    async def check(self, rule_id: str, items: Sequence[RateLimitItem], key: str) -> Outcome | None:
        """`check_all` for one rule given as `limits` items (for tests and tools: the gateway passes the
        `Policy` its rule loaded with); its outcome, or None (no windows, or failing open)."""
        outcomes = await self.check_all([(Policy.of(rule_id, items), key)])
        return outcomes[0] if outcomes else None

    async def check_all(self, rules: Sequence[tuple[Policy, str]]) -> list[Outcome | None]:
        """Count one request against the rules that matched it, `(policy, key)` in order.

        A rule counts the hit in all its windows or, when one refuses, in none; its outcome is the window
        that refused, else the one with the least left. The outcomes go up to and including the first
        refusal (later rules are not counted). [] when the storage failed and we fail open; StorageDown
        when we fail closed. A shared storage is asked once for all the rules (one round trip).
        """
        if self.local is not None:
            outcomes: list[Outcome | None] = []
            for policy, key in rules:
                outcome = _outcome(policy.rule_id, policy.windows, self.local.check(policy.windows, key))
                outcomes.append(outcome)
                if outcome is not None and not outcome.allowed:
                    break
            return outcomes
        if time.monotonic() < self._broken_until:
            self._failed(None)
            return []
        try:
            if self.shared is not None:  # the deadline is the batch's (SharedCounters.timeout)
                return _shared_outcomes(rules, await self.shared.check(rules))
            async with asyncio.timeout(self.TIMEOUT):
                return await self._check_with_limits(rules)
        except (StorageError, TimeoutError) as exc:
            self._broken_until = time.monotonic() + self.BREAKER_SECONDS
            self._failed(exc)
            return []

    async def _check_with_limits(self, rules: Sequence[tuple[Policy, str]]) -> list[Outcome | None]:
        """Storages without scripts (memcached, MongoDB, Redis Cluster): `limits`' strategies, window by window.
        Shortest window first: a request refused by a short window is then not counted by the long ones."""
        assert self.strategy is not None
        outcomes: list[Outcome | None] = []
        for policy, key in rules:
            windows, states = [], []
            for window in sorted(policy.windows, key=lambda window: window.expiry):
                allowed = await self.strategy.hit(window.item, policy.rule_id, key)
                stats = await self.strategy.get_window_stats(window.item, policy.rule_id, key)
                windows.append(window)
                states.append((allowed, stats.remaining, stats.reset_time - time.time()))
                if not allowed:
                    break
            outcome = _outcome(policy.rule_id, windows, states)
            outcomes.append(outcome)
            if outcome is not None and not outcome.allowed:
                break
        return outcomes

    def _failed(self, exc: Exception | None) -> None:
        """Fail open (return) or closed (raise StorageDown), as `on_storage_error` says."""
        if exc is not None:
            self._report(exc)
        if not self.fail_open:
            raise StorageDown(str(exc) if exc else "storage unavailable (retrying shortly)")

    def _report(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= 1.0:
            self._last_error_log = now
            action = "allowing requests (fail open)" if self.fail_open else "answering 503 (fail closed)"
            reason = str(exc) or f"no answer within {self.TIMEOUT}s"
            log.error("rate-limit storage %s failed: %s; %s", self.config.storage, reason, action)


def _outcome(rule_id: str, windows: Sequence[Window], states: Sequence[WindowState]) -> Outcome | None:
    """The refusing window, or the allowed one with the least left; None for a rule without windows."""
    chosen = -1
    for index, (allowed, remaining, _) in enumerate(states):
        if not allowed:
            chosen = index
            break
        if chosen < 0 or remaining < states[chosen][1]:
            chosen = index
    if chosen < 0:
        return None
    allowed, remaining, reset = states[chosen]
    window = windows[chosen]
    return Outcome(
        rule_id, allowed, window.amount, window.expiry, max(0, remaining), max(0, math.ceil(reset)), window.policy
    )


def _shared_outcomes(rules: Sequence[tuple[Policy, str]], flat: Sequence[int]) -> list[Outcome | None]:
    """The script's answer, (allowed, remaining, reset ms) per window of each rule it reached, as outcomes."""
    outcomes: list[Outcome | None] = []
    position = 0
    for policy, _ in rules:
        if position >= len(flat):
            break
        states = []
        for _ in policy.windows:
            allowed, remaining, reset = flat[position : position + 3]
            states.append((bool(allowed), remaining, reset / 1000))
            position += 3
        outcomes.append(_outcome(policy.rule_id, policy.windows, states))
    return outcomes
