"""Closure builders for the compiler: per-request memo, function application, reducers and logic.

Each builder returns a getter `ctx -> value`. These run on every request, so they stay small: no
allocation beyond the values they produce, no exceptions on missing values (None propagates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.waf.bounded import BoundedCache
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


TRANSFORM_CACHE_ENTRIES = 512
TRANSFORM_CACHE_LENGTH = 256


def cached(fn: Callable[[str], str]) -> Callable[[str], str]:
    """`fn` with its results on short strings kept in a bounded dict (cleared when full): the values of headers,
    cookies and arguments repeat across requests, and a chain of transformations costs a microsecond or so."""
    cache: BoundedCache[str, str] = BoundedCache(TRANSFORM_CACHE_ENTRIES, TRANSFORM_CACHE_LENGTH)
    lookup, put = cache.get, cache.put

    def get(text: str) -> str:
        out = lookup(text)
        if out is None:
            out = fn(text)
            if type(text) is str:
                put(text, out)
        return out

    return get


def element(array: tuple[Any, ...] | None, index: int) -> Any:
    return array[index] if array is not None and index < len(array) else None


NOT_LITERAL = object()


def apply(
    impl: Callable[..., Any], getters: list[Getter], each: list[bool], literals: list[Any] | None = None
) -> Getter:
    """The getter of a call of `impl` on the values of `getters`: a missing (None) argument makes the result
    missing; the one argument marked in `each` (an expanded array) is mapped over, giving a tuple. `literals`
    holds the value of each argument written as a literal (else NOT_LITERAL): a call of one value and one
    literal, `starts_with(http.request.uri.path, "/api/")`, is the common case and gets its own getter."""
    if len(getters) == 1:
        (one,) = getters
        if each[0]:
            return lambda ctx: tuple(map(impl, one(ctx)))
        return lambda ctx: None if (v := one(ctx)) is None else impl(v)
    if literals and len(getters) == 2 and literals[0] is NOT_LITERAL and literals[1] not in (NOT_LITERAL, None):
        first, const = getters[0], literals[1]
        if each[0]:
            return lambda ctx: tuple(None if v is None else impl(v, const) for v in first(ctx))
        return lambda ctx: None if (v := first(ctx)) is None else impl(v, const)
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


Clauses = tuple[frozenset[int], ...]
MAX_CLAUSES = 16


def _both(a: Clauses | None, b: Clauses | None) -> Clauses | None:
    """The guard of `a and b`: every clause of both."""
    if a is None or b is None:
        return a if b is None else b
    return _reduced(a + b)


def _either(a: Clauses | None, b: Clauses | None) -> Clauses | None:
    """The guard of `a or b` (and of `a xor b`, which implies it): one clause per pair of clauses, their union.
    Dropping clauses only weakens a guard, so the largest go first when there would be more than MAX_CLAUSES."""
    if a is None or b is None:
        return None
    left, right = list(_reduced(a)), list(_reduced(b))
    while len(left) * len(right) > MAX_CLAUSES:
        longer = left if len(left) >= len(right) else right
        longer.pop()
    return _reduced(tuple(x | y for x in left for y in right))


def _reduced(clauses: Clauses) -> Clauses:
    """Without duplicates and without clauses implied by a smaller one (a superset), smallest first."""
    out: list[frozenset[int]] = []
    for clause in sorted(set(clauses), key=lambda c: (len(c), sorted(c))):
        if not any(kept <= clause for kept in out):
            out.append(clause)
    return tuple(out)


LOGIC: dict[str, Callable[[Getter, Getter], Getter]] = {
    "and": lambda x, y: lambda ctx: bool(x(ctx)) and bool(y(ctx)),
    "or": lambda x, y: lambda ctx: bool(x(ctx)) or bool(y(ctx)),
    "xor": lambda x, y: lambda ctx: bool(x(ctx)) != bool(y(ctx)),
}
GUARDS = {"and": _both, "or": _either, "xor": _either}
