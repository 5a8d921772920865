"""Closure builders for the compiler: per-request memo, function application, reducers and logic.

Each builder returns a getter `ctx -> value`. These run on every request, so they stay small: no
allocation beyond the values they produce, no exceptions on missing values (None propagates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.waf.fields import Ctx, Getter
from edge.waf.operators import Predicate


def memoized(slot: int, compute: Getter) -> Getter:
    def get(ctx: Ctx) -> Any:
        memo = ctx.memo
        value = memo.get(slot, memo)
        if value is memo:
            value = memo[slot] = compute(ctx)
        return value

    return get


def element(array: tuple[Any, ...] | None, index: int) -> Any:
    return array[index] if array is not None and index < len(array) else None


def apply(impl: Callable[..., Any], getters: list[Getter], each: list[bool]) -> Getter:
    """The getter of a call of `impl` on the values of `getters`: a missing (None) argument makes the result
    missing; the one argument marked in `each` (an expanded array) is mapped over, giving a tuple."""
    if len(getters) == 1:
        (one,) = getters
        if each[0]:
            return lambda ctx: tuple(map(impl, one(ctx)))
        return lambda ctx: None if (v := one(ctx)) is None else impl(v)
    spread = next((i for i, flag in enumerate(each) if flag), -1)

    def get(ctx: Ctx) -> Any:
        values = [g(ctx) for g in getters]
        if spread < 0:
            return None if None in values else impl(*values)
        out = []
        for item in values[spread]:
            values[spread] = item
            out.append(None if None in values else impl(*values))
        return tuple(out)

    return get


def any_of(values: Getter, pred: Predicate) -> Callable[[Ctx], bool]:
    def get(ctx: Ctx) -> bool:
        return any(map(pred, values(ctx)))

    return get


def all_of(values: Getter, pred: Predicate) -> Callable[[Ctx], bool]:
    def get(ctx: Ctx) -> bool:
        return all(map(pred, values(ctx)))

    return get


def _either(a: frozenset[int] | None, b: frozenset[int] | None) -> frozenset[int] | None:
    return a | b if a is not None and b is not None else None


def _smaller(a: frozenset[int] | None, b: frozenset[int] | None) -> frozenset[int] | None:
    if a is None or b is None:
        return a if b is None else b
    return a if len(a) <= len(b) else b


LOGIC: dict[str, Callable[[Getter, Getter], Getter]] = {
    "and": lambda x, y: lambda ctx: bool(x(ctx)) and bool(y(ctx)),
    "or": lambda x, y: lambda ctx: bool(x(ctx)) or bool(y(ctx)),
    "xor": lambda x, y: lambda ctx: bool(x(ctx)) != bool(y(ctx)),
}
GUARDS = {"and": _smaller, "or": _either, "xor": _either}
