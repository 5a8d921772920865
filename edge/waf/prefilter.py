"""Prefilter: which rules can be true for this request, decided from per-value atom results cached across requests.

A rule's `guard` (from the compiler) is a tuple of clauses of atoms: whenever the rule is true, every clause
has an atom that holds for some value of the atom's source. A source is a chain of one-argument functions
(`Expr.unary`) over a base, and the prefilter reads a base through lanes: one value (a field, a header's
array, a call), or the elements of the arrays an expanded array holds (`lower(concat(a, b)[*])` reads the
elements of `a` and of `b`). For each lane it knows every atom over it, grouped by chain; for a raw value it
runs each step of the chains once, one RE2 set pass per distinct text over the regex atoms, the predicates
of the others, and keeps the ids of the atoms that hold in a bounded cache (value -> ids, cleared when full;
long values are not kept). Header values, cookies, argument names and values repeat across requests, so a
new request mostly costs one dict lookup per value. Above that, lanes are grouped by the raw inputs of the
request they read (`fields.INPUTS`: the target, the header list, the body, ...) and the union of their atom
ids is cached under those inputs: a request whose header list was seen before costs one lookup for all the
header lanes. A context rebound to another view (`Ctx.origin`) skips those caches, since its memo may hold
values of the first view.

A rule is a candidate when every clause of its guard has an atom that holds, or when it has no guard. This
is sound (never drops a rule that would match): an atom is the very test (regex search or predicate) a
comparison makes, applied to the very values (or a superset: every element of every part) it is applied to.
Patterns RE2 cannot put in a set are searched one by one. Each rule is looked at only when an atom of one
chosen clause holds: the clause with the fewest atoms that hold on a few plain requests (`PROBES`), so that
atoms true on most requests (`method in {"GET" "HEAD"}`, `not body.mime in {...}`) wake few rules.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from edge.waf import regex
from edge.waf.bounded import BoundedCache
from edge.waf.compiler import Atom, Expr
from edge.waf.fields import FIELDS, INPUTS, Ctx, Getter
from edge.waf.lang.types import Kind, Type
from edge.waf.operators import Predicate
from edge.waf.regex import RegexSet
from edge.waf.request import RequestView

MAX_SET_PATTERNS = 256
# Bounds of the caches (a cache is cleared when it would exceed one): per lane, values up to CACHE_MAX_LENGTH
# characters; per set of inputs, keys up to INPUT_CACHE_MAX_SIZE. About 30 lanes and 8 input sets for the
# managed rules: at worst (every value new and long) some 10 MB in all.
CACHE_MAX_ENTRIES = 2048
CACHE_MAX_LENGTH = 512
CACHE_MAX_CHARS = 1 << 17
INPUT_CACHE_MAX_ENTRIES = 2048
INPUT_CACHE_MAX_SIZE = 4096
INPUT_CACHE_MAX_CHARS = 1 << 19
_CACHED_KINDS = frozenset({Kind.STR, Kind.INT, Kind.BOOL, Kind.IP})

_BROWSER = [
    ("host", "example.com"),
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"),
    ("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("accept-language", "en-US,en;q=0.5"),
    ("accept-encoding", "gzip, deflate, br"),
    ("cookie", "session=3f2a9c0e1b; theme=dark"),
    ("referer", "https://example.com/products"),
]
PROBES = (
    RequestView("GET", "/", "HTTP/1.1", "example.com", [("host", "example.com")], "192.0.2.1"),
    RequestView("GET", "/products/1?page=2&sort=price&q=blue+shoes", "HTTP/1.1", "example.com", _BROWSER, "192.0.2.1"),
    RequestView(
        "POST",
        "/checkout",
        "HTTP/1.1",
        "example.com",
        [*_BROWSER, ("content-type", "application/x-www-form-urlencoded"), ("content-length", "20")],
        "192.0.2.1",
        body=b"name=Jane+Doe&qty=2",
    ),
    RequestView(
        "POST",
        "/api/orders",
        "HTTP/1.1",
        "example.com",
        [*_BROWSER, ("content-type", "application/json"), ("content-length", "21")],
        "192.0.2.1",
        body=b'{"sku": "A-1", "n": 2}',
    ),
    RequestView(
        "POST",
        "/api/customers",
        "HTTP/1.1",
        "example.com",
        [*_BROWSER, ("content-type", "application/json"), ("content-length", "187")],
        "192.0.2.1",
        body=(
            b'{"name": "Sof\xc3\xada D\'Angelo", "email": "sofia.dangelo@example.com", "phone": "+1-555-0100", '
            b'"note": "Customer\'s order #1492 (see ticket 7), 10% off & free shipping: don\'t ship on Fridays."}'
        ),
    ),
)
"""Plain requests: the atoms that hold on them are taken to hold on most requests (see `Prefilter`), and
the ways their values' texts fall apart under the transformations are the ones whose combined regex sets
are compiled in advance (a JSON document of people, phone numbers and notes among them)."""

Hits = tuple[int, ...]
Clauses = tuple[frozenset[int], ...]
Unary = Callable[[Any], Any]


def _key(expr: Expr) -> Hashable:
    return expr.key if expr.key is not None else ("expr", id(expr))


Lane = tuple[Hashable, Getter, bool, Type, frozenset[str]]
Steps = tuple[Unary, ...]


def lanes(source: Expr) -> tuple[Steps, list[Lane]]:
    """The chain of `source` (its steps; none: the base itself) and its lanes: (key, getter, each, type, inputs)."""
    steps, base = source.unary if source.unary is not None else ((), source)
    if not base.each:
        return steps, [((_key(base), False), base.get, False, base.type, _inputs(base))]
    if base.parts is None:
        return steps, [((_key(base), True), base.get, True, base.type, _inputs(base))]
    return steps, [
        ((_key(part), True), part.get, True, part.type.elem or part.type, _inputs(part)) for part in base.parts
    ]


def _inputs(expr: Expr) -> frozenset[str]:
    return frozenset(name for field in expr.fields for name in FIELDS[field].inputs)


class _Group:
    """The atoms of one source within a lane: its chain, its regex atoms and its predicate atoms."""

    __slots__ = ("patterns", "preds", "steps")

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        self.patterns: list[Atom] = []
        self.preds: list[tuple[int, Predicate]] = []


_SetMatch = tuple[tuple[Callable[[str], list[int]], Hits], ...]


def _sets(patterns: Sequence[Atom]) -> _SetMatch | None:
    """RE2 sets of `patterns` (MAX_SET_PATTERNS a set); None when RE2 cannot build one."""
    out = []
    for start in range(0, len(patterns), MAX_SET_PATTERNS):
        chunk = patterns[start : start + MAX_SET_PATTERNS]
        try:
            out.append((RegexSet([atom.pattern or "" for atom in chunk]).match, tuple(atom.id for atom in chunk)))
        except ValueError:
            return None
    return tuple(out)


class _Lane:
    """The atoms over one lane, evaluated for one raw value at a time.

    The chains of the groups form a tree of steps (`url_decode`, then `html_decode`, then `lower`, ...) so that
    a step shared by several chains runs once per value. Chains often leave a value as it is (no `%`, no `&`,
    lower case already): the groups whose texts are equal then run their regex atoms in one RE2 pass, with a
    set of the union of their patterns. Such sets are compiled while the prefilter is built (for all the
    groups, and for the combinations the `PROBES` meet, at most MAX_COMBINED), never on a request: a
    combination without its set runs one pass per group.
    """

    MAX_COMBINED = 16
    __slots__ = ("combined", "each", "frozen", "nodes", "patterns", "plan", "preds", "regex", "regex_nodes", "steps")

    def __init__(self, groups: Sequence[_Group], each: bool) -> None:
        self.each = each
        self.frozen = False
        tree: dict[tuple[int, Unary], int] = {}
        steps: list[tuple[int, Unary]] = []
        nodes: list[int] = []
        for group in groups:
            node = 0
            for fn in group.steps:
                found = tree.get((node, fn))
                if found is None:
                    steps.append((node, fn))
                    found = tree[(node, fn)] = len(steps)
                node = found
            nodes.append(node)
        self.steps = tuple(steps)
        # Different chains often reach the same text by different routes (`html_decode(url_decode(v))` and
        # `html_decode(strip_markdown_code(url_decode(v)))` when `v` has no code): a step whose input equals
        # the input of an earlier step with the same function takes that step's output instead of running
        # again (the transformations are pure). Half the steps of a body's values are such repeats.
        self.plan = tuple(
            (parent, fn, tuple((steps[d][0], d + 1) for d in range(c) if steps[d][1] is fn))
            for c, (parent, fn) in enumerate(steps)
        )
        self.nodes = tuple(nodes)
        self.preds = tuple(
            (node, atom_id, pred) for node, g in zip(nodes, groups, strict=True) for atom_id, pred in g.preds
        )
        self.patterns = tuple(tuple(g.patterns) for g in groups)
        self.regex = tuple(i for i, g in enumerate(groups) if g.patterns)
        self.combined: dict[tuple[int, ...], _SetMatch | None] = {}
        for i in self.regex:
            found_sets = _sets(self.patterns[i])
            if found_sets is None:  # search these patterns one by one
                searches = [(atom.id, regex.searcher(atom.pattern or "")) for atom in self.patterns[i]]
                self.preds += tuple((nodes[i], atom_id, _searching(search)) for atom_id, search in searches)
                found_sets = ()
            self.combined[(i,)] = found_sets
        self.regex = tuple(i for i in self.regex if self.combined[(i,)])
        # The groups with regex atoms by the step whose text they read: groups of one node always share a
        # text, so a value groups its texts node by node; the members of a text, in node order, are the key
        # of its combined set.
        by_node: dict[int, list[int]] = {}
        for i in self.regex:
            by_node.setdefault(nodes[i], []).append(i)
        self.regex_nodes = tuple((node, tuple(members)) for node, members in sorted(by_node.items()))
        every = tuple(i for _, members in self.regex_nodes for i in members)
        if len(every) > 1:
            self.combine(every)

    def combine(self, members: tuple[int, ...]) -> _SetMatch | None:
        """The sets of the union of the patterns of `members`, compiled now (None: one pass per member)."""
        if members in self.combined:
            return self.combined[members]
        if self.frozen:
            return None
        found = None
        if len(self.combined) < self.MAX_COMBINED + len(self.regex):
            found = _sets([atom for i in members for atom in self.patterns[i]])
        self.combined[members] = found
        return found

    def compute(self, value: Any) -> Hits:
        texts = [value]
        if value is None and not self.each:
            texts += [None] * len(self.steps)
        else:
            for parent, fn, earlier in self.plan:
                source = texts[parent]
                if earlier and type(source) is str:
                    for other_parent, other in earlier:
                        if texts[other_parent] == source:
                            texts.append(texts[other])
                            break
                    else:
                        texts.append(fn(source))
                else:
                    texts.append(fn(source))
        hit: list[int] = []
        if self.regex_nodes:
            by_text: dict[str, tuple[int, ...]] = {}
            for node, members in self.regex_nodes:
                text = texts[node]
                if isinstance(text, str):
                    found = by_text.get(text)
                    by_text[text] = members if found is None else found + members
            for text, key in by_text.items():
                sets = self.combined.get(key) if len(key) == 1 else self.combine(key)
                if sets is None:
                    for i in key:
                        for match, ids in self.combined[(i,)] or ():
                            if matched := match(text):
                                hit.extend([ids[index] for index in matched])
                else:
                    for match, ids in sets:
                        if matched := match(text):
                            hit.extend([ids[index] for index in matched])
        for node, atom_id, pred in self.preds:
            if pred(texts[node]):
                hit.append(atom_id)
        return tuple(hit)


def _searching(search: Callable[[str], bool]) -> Predicate:
    return lambda v: v is not None and search(v)


def _evaluator(lane: _Lane, cache: BoundedCache[Any, Hits] | None) -> Callable[[Any], Hits]:
    """`compute(value)`: the ids of the atoms of the lane that hold for one raw value, stored in `cache`."""
    run = lane.compute
    if cache is None:
        return run
    put = cache.put

    def compute(value: Any) -> Hits:
        found = run(value)
        put(value, found)
        return found

    return compute


class Prefilter:
    """Built from the guards of an ordered list of rules; `candidates(ctx)` lists rule positions to evaluate.

    A guard is a tuple of clauses (see `compiler.Guard`); a bare frozenset is one clause; None is no guard.
    """

    __slots__ = ("_always", "_clauses", "_sources", "_watchers")

    def __init__(self, guards: Sequence[Clauses | frozenset[int] | None], atoms: Mapping[int, Atom]) -> None:
        clauses: list[Clauses] = []
        for guard in guards:
            clauses.append(() if guard is None else (guard,) if isinstance(guard, frozenset) else tuple(guard))
        self._always = tuple(i for i, c in enumerate(clauses) if not c)
        self._clauses = tuple(clauses)
        used = sorted({atom_id for rule_clauses in clauses for clause in rule_clauses for atom_id in clause})
        by_lane: dict[Hashable, tuple[Getter, bool, Type, frozenset[str], dict[Hashable, _Group]]] = {}
        for atom_id in used:
            atom = atoms[atom_id]
            steps, found = lanes(atom.source)
            for key, get, each, type_, inputs in found:
                groups = by_lane.setdefault(key, (get, each, type_, inputs, {}))[4]
                group = groups.get(_key(atom.source))
                if group is None:
                    group = groups[_key(atom.source)] = _Group(steps)
                if atom.pattern is not None:
                    group.patterns.append(atom)
                elif atom.pred is not None:
                    group.preds.append((atom.id, atom.pred))
        by_inputs: dict[frozenset[str], tuple[list[_LaneScan], list[_LaneScan]]] = {}
        built: list[_Lane] = []
        for get, is_each, type_, inputs, groups in by_lane.values():
            cached = type_.kind in _CACHED_KINDS or (type_.elem is not None and type_.elem.kind in _CACHED_KINDS)
            cache: BoundedCache[Any, Hits] | None = None
            if cached and type_.kind is not Kind.MAP:
                cache = BoundedCache(CACHE_MAX_ENTRIES, CACHE_MAX_LENGTH, CACHE_MAX_CHARS, size_of=_size)
            lane = _Lane(list(groups.values()), is_each)
            built.append(lane)
            compute = _evaluator(lane, cache)
            lookup = cache.get if cache is not None else _miss
            by_inputs.setdefault(inputs, ([], []))[is_each].append((get, lookup, compute))
        self._sources = tuple(
            (_input_key(inputs), *_scanner(tuple(single), tuple(each)))
            for inputs, (single, each) in sorted(by_inputs.items(), key=lambda item: sorted(item[0]))
        )
        self._watchers: dict[int, tuple[int, ...]] = {}
        common = self._common()
        for lane in built:
            lane.frozen = True
        watchers: dict[int, list[int]] = {}
        for i, rule_clauses in enumerate(clauses):
            if rule_clauses:
                watched = min(rule_clauses, key=lambda c: (len(c & common), len(c)))
                for atom_id in watched:
                    watchers.setdefault(atom_id, []).append(i)
        self._watchers = {atom_id: tuple(rules) for atom_id, rules in watchers.items()}

    def _common(self) -> frozenset[int]:
        """The atoms that hold on the `PROBES`."""
        common: set[int] = set()
        for view in PROBES:
            try:
                common |= self._found(Ctx(view)) or set()
            except Exception:  # a probe only steers the choice of clauses
                continue
        return frozenset(common)

    def candidates(self, ctx: Ctx) -> Sequence[int]:
        """Positions of the rules that may be true for this request, in rule order."""
        found = self._found(ctx)
        if found is None:
            return self._always
        chosen = set(self._always)
        clauses = self._clauses
        for atom_id in found:
            for rule in self._watchers.get(atom_id, ()):
                if rule not in chosen:
                    for clause in clauses[rule]:
                        if clause.isdisjoint(found):
                            break
                    else:
                        chosen.add(rule)
        if len(chosen) == len(self._always):
            return self._always
        return sorted(chosen)

    def _found(self, ctx: Ctx) -> set[int] | None:
        """The atoms that hold for this request (None: none)."""
        found: set[int] | None = None
        view = ctx.view
        rebound = view is not ctx.origin
        for key_of, lookup, scan in self._sources:
            key = None if rebound else key_of(view)
            hits = lookup(key)
            if hits is None:
                hits = scan(ctx, key)
            if hits:
                if found is None:
                    found = set(hits)
                else:
                    found.update(hits)
        return found


_LaneScan = tuple[Getter, Callable[[Any], Hits | None], Callable[[Any], Hits]]
_Scan = Callable[[Ctx, Hashable], Hits]


def _scanner(
    single: tuple[_LaneScan, ...], each: tuple[_LaneScan, ...]
) -> tuple[Callable[[Hashable], Hits | None], _Scan]:
    """(lookup, scan) for the lanes of one set of inputs: `scan(ctx, key)` reads every lane (values through
    the lanes' caches) and keeps the atom ids that hold under `key`, the raw inputs (None: not kept)."""
    cache: BoundedCache[Hashable, Hits] = BoundedCache(
        INPUT_CACHE_MAX_ENTRIES, INPUT_CACHE_MAX_SIZE, INPUT_CACHE_MAX_CHARS, size_of=_size
    )

    def scan(ctx: Ctx, key: Hashable) -> Hits:
        found: set[int] = set()
        for get, lookup, compute in single:
            value = get(ctx)
            hits = lookup(value)
            found.update(compute(value) if hits is None else hits)
        for get, lookup, compute in each:
            for value in get(ctx) or ():
                hits = lookup(value)
                found.update(compute(value) if hits is None else hits)
        result = tuple(sorted(found))
        if key is not None:
            cache.put(key, result)
        return result

    return (lambda key: None if key is None else cache.get(key)), scan


def _input_key(inputs: frozenset[str]) -> Callable[[RequestView], Hashable]:
    """The cache key of a view's `inputs` (None when the body is too large to be a key)."""
    getters = tuple(INPUTS[name] for name in sorted(inputs))
    if "body" in inputs:
        return lambda v: None if len(v.body or b"") > INPUT_CACHE_MAX_SIZE else tuple(g(v) for g in getters)
    if len(getters) == 1:
        return getters[0]
    return lambda v: tuple(g(v) for g in getters)


def _size(key: Any) -> int:
    """About the memory a key holds, in characters: strings, bytes, and tuples of them (headers: of pairs)."""
    kind = type(key)
    if kind is str or kind is bytes:
        return len(key)
    if kind is not tuple:
        return 1
    size = len(key)
    for item in key:
        kind = type(item)
        if kind is str or kind is bytes:
            size += len(item)
        elif kind is tuple:
            size += _size(item)
    return size


def _miss(value: Any) -> Hits | None:
    return None
