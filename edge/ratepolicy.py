"""A `[[ratelimit]]` rule's windows, worked out once when the rule loads instead of on every request.

A check needs, per window, its budget and length, the counter's name in `limits`' layout (so a gateway
counting through `limits` shares the budget) and the `RateLimit-Policy` member it reports; all of that is
fixed by the rule. Only the client's key changes per request, and it goes between `prefix` and `suffix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem


@dataclass(frozen=True, slots=True)
class Window:
    """One window of a rule (`"10/second;300/hour"` has two)."""

    item: RateLimitItem
    amount: int
    expiry: int  # seconds
    prefix: str  # `limits`' counter name up to the client's key: "LIMITER/<rule>/"
    suffix: str  # and after it: "/<amount>/<multiples>/<granularity>"
    policy: bytes  # the RateLimit-Policy member: "<rule>";q=<amount>;w=<seconds>
    # prefix + key + suffix is `limits`' name of this window's counter of `key` (`item.key_for(rule, key)`)


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A rule id and its windows. Compared (and hashed) by identity: one object per loaded rule."""

    rule_id: str
    windows: tuple[Window, ...]

    @classmethod
    def of(cls, rule_id: str, items: Sequence[RateLimitItem]) -> Policy:
        windows = []
        for item in items:
            name = item.key_for(rule_id, "\0")  # the client's key sits where the NUL is
            prefix, _, suffix = name.partition("\0")
            expiry = item.get_expiry()
            policy = f'"{rule_id}";q={item.amount};w={expiry}'.encode()
            windows.append(Window(item, item.amount, expiry, prefix, suffix, policy))
        return cls(rule_id, tuple(windows))
