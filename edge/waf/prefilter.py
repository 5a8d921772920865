"""Prefilter: which rules can be true for this request, decided with one RE2 set pass per source.

A rule's `guard` (from the compiler) is a set of atoms, regexes over a source (a field, or a chain of
functions over a field), at least one of which matches whenever the rule is true. For each source the
prefilter joins the source's values with newlines and runs one `RegexSet` of all its atoms in multi-line
mode; a rule is a candidate when one of its atoms matched, or when it has no guard. This is sound (never
drops a rule that would match) because every atom is `joinable`; it only costs evaluating the few rules
whose atoms fire. Sources whose set cannot be built fall back to "always a candidate".
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from edge.waf.compiler import Atom, Expr
from edge.waf.fields import Ctx, Getter
from edge.waf.regex import RegexSet

MAX_SET_PATTERNS = 256


@dataclass(frozen=True, slots=True)
class _Scan:
    text: Callable[[Ctx], str]
    match: Callable[[str], list[int]]
    hits: tuple[tuple[int, ...], ...]


def _joined(source: Expr) -> Callable[[Ctx], str]:
    get: Getter = source.get
    if not source.each:
        return lambda ctx: get(ctx) or ""

    def text(ctx: Ctx) -> str:
        values = get(ctx)
        try:
            return "\n".join(values)
        except TypeError:  # a missing element (None) among the values
            return "\n".join(v for v in values if isinstance(v, str))

    return text


class Prefilter:
    """Built from the guards of an ordered list of rules; `candidates(ctx)` lists rule positions to evaluate."""

    __slots__ = ("_always", "_scans")

    def __init__(self, guards: Sequence[frozenset[int] | None], atoms: Mapping[int, Atom]) -> None:
        always: set[int] = {i for i, guard in enumerate(guards) if guard is None}
        by_atom: dict[int, list[int]] = {}
        for i, guard in enumerate(guards):
            for atom_id in guard or ():
                by_atom.setdefault(atom_id, []).append(i)
        by_source: dict[Hashable, list[Atom]] = {}
        for atom_id in sorted(by_atom):
            by_source.setdefault(atoms[atom_id].source.key, []).append(atoms[atom_id])
        scans: list[_Scan] = []
        for group in by_source.values():
            for start in range(0, len(group), MAX_SET_PATTERNS):
                chunk = group[start : start + MAX_SET_PATTERNS]
                try:
                    rset = RegexSet([f"(?m:{atom.pattern})" for atom in chunk])
                except ValueError:
                    always.update(i for atom in chunk for i in by_atom[atom.id])
                    continue
                hits = tuple(tuple(by_atom[atom.id]) for atom in chunk)
                scans.append(_Scan(_joined(chunk[0].source), rset.match, hits))
        self._always = tuple(sorted(always))
        self._scans = tuple(scans)

    def candidates(self, ctx: Ctx) -> Sequence[int]:
        """Positions of the rules that may be true for this request, in rule order."""
        found: set[int] | None = None
        for scan in self._scans:
            matched = scan.match(scan.text(ctx))
            if matched:
                if found is None:
                    found = set(self._always)
                for index in matched:
                    found.update(scan.hits[index])
        return self._always if found is None else sorted(found)
