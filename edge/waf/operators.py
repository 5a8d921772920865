"""Comparison operators: from (operator, left-hand kind, literal) to an element predicate `value -> bool`.

`OPERATORS[(op, kind)]` builds the predicate from the decoded literal. Every predicate is false on a
missing value (None). Set membership uses frozensets (strings, integers), sorted ranges (integers) and
`IpSet` (per-prefix-length sets of network numbers). `wildcard` is case-insensitive, `strict wildcard`
case-sensitive; both match the whole value, `*` standing for any run of characters (`\\*` and `\\\\` are
a literal star and backslash). `regex_of` gives the RE2 pattern that a regex-like comparison implies,
for the prefilter.
"""

from __future__ import annotations

import ipaddress
import operator
from collections.abc import Callable, Iterable
from typing import Any

import re2

from edge.waf import regex
from edge.waf.lang.types import Kind

Predicate = Callable[[Any], bool]
IpValue = ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network | ipaddress.IPv6Network


class IpSet:
    """Addresses and networks; `ip in ipset` tests membership with one set lookup per prefix length."""

    __slots__ = ("_tables",)

    def __init__(self, items: Iterable[IpValue]) -> None:
        tables: dict[tuple[int, int], set[int]] = {}
        for item in items:
            net = ipaddress.ip_network(item, strict=False)
            bits = net.max_prefixlen
            shift = bits - net.prefixlen
            tables.setdefault((net.version, shift), set()).add(int(net.network_address) >> shift)
        self._tables = tuple((version, shift, frozenset(nums)) for (version, shift), nums in sorted(tables.items()))

    def __contains__(self, addr: object) -> bool:
        if not isinstance(addr, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        number, version = int(addr), addr.version
        return any(v == version and (number >> shift) in nums for v, shift, nums in self._tables)


class IntSet:
    __slots__ = ("_ranges", "_values")

    def __init__(self, values: Iterable[int], ranges: Iterable[tuple[int, int]]) -> None:
        self._values = frozenset(values)
        self._ranges = tuple(sorted(ranges))

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        return value in self._values or any(low <= value <= high for low, high in self._ranges)


def wildcard_regex(pattern: str, *, strict: bool) -> str:
    """The RE2 pattern of a wildcard: `*` -> `.*`, everything else literal, anchored at both ends."""
    parts: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and pattern[i + 1 : i + 2] in ("*", "\\"):
            literal.append(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            parts.append(str(re2.escape("".join(literal))))
            parts.append(".*")
            literal = []
        else:
            literal.append(ch)
        i += 1
    parts.append(str(re2.escape("".join(literal))))
    return ("(?s)" if strict else "(?is)") + "^" + "".join(parts) + "$"


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any], Predicate]:
    def build(lit: Any) -> Predicate:
        return lambda v: v is not None and compare(v, lit)

    return build


def _eq(lit: Any) -> Predicate:
    return lambda v: v == lit


def _ne(lit: Any) -> Predicate:
    return lambda v: v is not None and v != lit


def _contains(lit: str) -> Predicate:
    return lambda v: v is not None and lit in v


def _matches(pattern: str) -> Predicate:
    search = regex.searcher(pattern)
    return lambda v: v is not None and search(v)


def _wildcard(strict: bool) -> Callable[[str], Predicate]:
    def build(lit: str) -> Predicate:
        search = regex.searcher(wildcard_regex(lit, strict=strict))
        return lambda v: v is not None and search(v)

    return build


def _member(container: Any) -> Predicate:
    return lambda v: v in container


_ORDER = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
OPERATORS: dict[tuple[str, Kind], Callable[[Any], Predicate]] = {
    **{("eq", k): _eq for k in (Kind.STR, Kind.INT, Kind.BOOL, Kind.IP)},
    **{("ne", k): _ne for k in (Kind.STR, Kind.INT, Kind.BOOL, Kind.IP)},
    **{(op, k): _ordered(fn) for op, fn in _ORDER.items() for k in (Kind.STR, Kind.INT)},
    ("contains", Kind.STR): _contains,
    ("matches", Kind.STR): _matches,
    ("wildcard", Kind.STR): _wildcard(strict=False),
    ("strict wildcard", Kind.STR): _wildcard(strict=True),
    **{("in", k): _member for k in (Kind.STR, Kind.INT, Kind.IP)},
}


def regex_of(op: str, lit: Any) -> str | None:
    """The RE2 pattern equivalent to `op lit` on a string (for the prefilter), or None for other operators."""
    if op == "matches" and isinstance(lit, str):
        return lit
    if op == "contains" and isinstance(lit, str) and lit:
        return str(re2.escape(lit))
    if op in ("wildcard", "strict wildcard") and isinstance(lit, str):
        return wildcard_regex(lit, strict=op == "strict wildcard")
    return None
