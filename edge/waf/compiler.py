"""Compiler: a parsed expression -> a type-checked closure over pre-resolved field getters.

`Compiler(lists).rule(text)` returns a `CompiledRule` whose `predicate(ctx)` is the rule's boolean; any
type or name problem raises `RuleError` at its line and column (with `did you mean` for names).
One `Compiler` serves a whole rule set, so identical sub-expressions (a field, a chain of functions over
a field) compile to one shared getter whose value is computed at most once per request (memo slot in
`ctx.memo`). Every comparison registers an `Atom`, a test on the values of its left-hand side that holds
whenever the comparison does: string comparisons that reduce to a regex (`matches`, `contains`, `wildcard`)
with their pattern, so the prefilter can run many of them in one RE2 set pass, the others (`eq`, `in`,
`gt`, a negated comparison, the booleans of `any(sqli(...))`) with their predicate. A rule's `guard` combines
its atoms in conjunctive normal form (see `Guard`); the prefilter evaluates the atoms once per distinct raw
value, through `Expr.unary` (the chain of one-argument functions over a base) and `Expr.parts` (the
arrays whose elements an expanded array holds), and caches the result (see `prefilter.py`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from edge.waf import regex
from edge.waf.closures import GUARDS, LOGIC, NOT_LITERAL, all_of, any_of, apply, cached, element, memoized
from edge.waf.errors import RuleError, suggest
from edge.waf.fields import FIELDS, Ctx, Getter, ip_text
from edge.waf.functions import FUNCTIONS, FunctionSpec, _to_string
from edge.waf.lang import ast
from edge.waf.lang.lexer import error_at
from edge.waf.lang.parser import parse
from edge.waf.lang.types import BOOL, INT, IP, STR, Kind, Type, a
from edge.waf.operators import OPERATORS, IntSet, IpSet, Predicate, regex_of
from edge.waf.transforms import TRANSFORMS

SCALARS = (Kind.BOOL, Kind.INT, Kind.STR, Kind.IP)
Guard = tuple[frozenset[int], ...]
"""Atom ids in conjunctive normal form: whenever the expression is true, every clause has an atom that holds."""


@dataclass(frozen=True, slots=True)
class Expr:
    """A compiled sub-expression. `each`: the value is a tuple, one value per element of an expanded array.

    `guard`, for booleans: clauses of atom ids (see `Guard`) that hold whenever the expression is true (None: no
    such guarantee). `tests`: the comparisons inside, for explain. `pred`: a comparison's element predicate.
    `chain`: a transformation chain, `(composed function, base)`, run as one function per value. `unary`: any
    chain of one-argument functions (transformations, `len`, `sqli`, ...) as `(steps, base)`: the value (of each
    element, when `each`) is the steps applied in order to the base value, None staying None for a single value. `parts`: for an expanded
    array (`x[*]`, `concat(a, b)[*]`), the arrays whose elements it holds (a superset when one is missing).
    """

    type: Type
    each: bool
    get: Getter
    key: Hashable
    text: str
    fields: frozenset[str]
    guard: Guard | None = None
    tests: tuple[Test, ...] = ()
    pred: Predicate | None = None
    source: Expr | None = None
    chain: tuple[Callable[[str], str], Expr] | None = None
    unary: tuple[tuple[Callable[[Any], Any], ...], Expr] | None = None
    parts: tuple[Expr, ...] | None = None


@dataclass(frozen=True, slots=True)
class Test:
    """One comparison: `source` (the left-hand side) and the predicate its values are tested with; `pattern`, the
    RE2 pattern a regex-like comparison searches (None for the others), lets a report show where it matched."""

    source: Expr
    pred: Predicate
    pattern: str | None = None


@dataclass(frozen=True, slots=True)
class Atom:
    """A test on the values of `source` (on each element, when it is an expanded array) that holds for at least
    one of them whenever the comparison it comes from is true: a regex `pattern` searched in the value, or
    else `pred` (which sees missing values, None, too)."""

    id: int
    source: Expr
    pattern: str | None
    pred: Predicate | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    predicate: Callable[[Ctx], bool]
    phase: str
    fields: frozenset[str]
    guard: Guard | None
    tests: tuple[Test, ...]


class Compiler:
    """Compiles the expressions of one rule set; `lists` are the `[lists]` of its files, by name."""

    def __init__(self, lists: Mapping[str, Sequence[str | int]] | None = None) -> None:
        self.lists = dict(lists or {})
        self.shared: dict[Hashable, Expr] = {}
        self.atoms: dict[Hashable, Atom] = {}
        self.tested: dict[int, tuple[Predicate, Hashable]] = {}  # id(pred) -> (pred, its op and literal)
        self.text = ""

    # -- entry points ------------------------------------------------------------------------------
    def rule(self, text: str) -> CompiledRule:
        """The compiled boolean of a rule expression; `RuleError` unless it is one boolean."""
        expr = self._compile_text(text)
        if expr.type != BOOL or expr.each:
            what = f"an expanded array of {expr.type}" if expr.each else f"{a(expr.type)}"
            hint = ": wrap it in any(...) or all(...)" if expr.each and expr.type == BOOL else ""
            raise error_at(text, 0, f"a rule must be one boolean, this expression is {what}{hint}")
        phase = "body" if any(FIELDS[f].phase == "body" for f in expr.fields) else "head"
        return CompiledRule(expr.get, phase, expr.fields, expr.guard, expr.tests)

    def key(self, text: str) -> tuple[Callable[[Ctx], str], frozenset[str]]:
        """A getter of the expression's value as a string (arrays joined by commas), for rate-limit keys."""
        expr = self._compile_text(text)
        if expr.type.kind is Kind.MAP:
            raise error_at(text, 0, f"a key must be a value or an array, not {a(expr.type)}")
        get = expr.get
        if expr.key == ("field", "ip.src"):  # the default key, on every rate-limited request
            return (lambda ctx: ip_text(ctx.view.client_ip)), expr.fields
        if expr.each or expr.type.kind is Kind.ARRAY:
            return (lambda ctx: ",".join(_to_string(v) for v in get(ctx) if v is not None)), expr.fields
        return (lambda ctx: "" if (v := get(ctx)) is None else _to_string(v)), expr.fields

    def _compile_text(self, text: str) -> Expr:
        self.text = text
        try:
            return self.node(parse(text))
        except RecursionError:
            raise RuleError("expression too deeply nested", line=1, col=1) from None

    # -- helpers -----------------------------------------------------------------------------------
    def fail(self, node: ast.Node | ast.SetLiteral | ast.ListRef | ast.Range, message: str) -> RuleError:
        return error_at(self.text, node.pos, message)

    def share(self, key: Hashable, make: Callable[[], Expr], *, memo: bool = True) -> Expr:
        """The one compiled node for `key`; its getter memoized per request unless it is cheaper than a lookup."""
        found = self.shared.get(key)
        if found is None:
            expr = make()
            get = memoized(len(self.shared), expr.get) if memo else expr.get
            found = self.shared[key] = replace(expr, get=get, key=key)
        return found

    def node(self, node: ast.Node) -> Expr:
        return _NODES[type(node)](self, node)

    def _text(self, node: ast.Node) -> str:
        return self.text[node.pos : node.end]

    # -- nodes -------------------------------------------------------------------------------------
    def literal(self, node: ast.Str | ast.Int | ast.Bool | ast.Ip) -> Expr:
        if isinstance(node, ast.Ip) and node.is_network:
            raise self.fail(node, "a CIDR is not a value; test membership with 'in { ... }'")
        value, type_ = node.value, _LITERAL_TYPES[type(node)]
        return Expr(type_, False, lambda ctx: value, ("lit", type_.kind, value), self._text(node), frozenset())

    def field(self, node: ast.Field) -> Expr:
        spec = FIELDS.get(node.name)
        if spec is None:
            raise self.fail(node, f"unknown field '{node.name}'{suggest(node.name, FIELDS)}")
        return self.share(
            ("field", node.name), lambda: Expr(spec.type, False, spec.get, None, node.name, frozenset({node.name}))
        )

    def index(self, node: ast.Index) -> Expr:
        base = self.node(node.base)
        kind, key = base.type.kind, node.key
        if base.each:
            raise self.fail(node, "cannot index an expanded array ([*]) again")
        if base.type.elem is None:
            raise self.fail(node, f"cannot index {a(base.type)}")
        elem, get = base.type.elem, base.get
        if kind is Kind.MAP and isinstance(key, str):
            if base.key == ("field", "http.request.headers") and key != key.lower():
                raise self.fail(node, f'header names are lower-case: write ["{key.lower()}"]')
            make = Expr(elem, False, lambda ctx: (get(ctx) or {}).get(key, ()), None, self._text(node), base.fields)
        elif kind is Kind.ARRAY and isinstance(key, int):
            make = Expr(elem, False, lambda ctx: element(get(ctx), key), None, self._text(node), base.fields)
        elif kind is Kind.ARRAY and key is None:
            parts = base.parts or (base,)
            make = Expr(elem, True, lambda ctx: get(ctx) or (), None, self._text(node), base.fields, parts=parts)
        else:
            wanted = '["name"]' if kind is Kind.MAP else "[N] or [*]"
            raise self.fail(node, f"{a(base.type)} is indexed with {wanted}")
        return self.share(("index", base.key, key), lambda: make, memo=kind is Kind.MAP)

    def call(self, node: ast.Call) -> Expr:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise self.fail(node, f"unknown function '{node.name}'{suggest(node.name, FUNCTIONS)}")
        required, allowed = len(spec.params) - spec.optional, len(spec.params)
        if len(node.args) < required or (len(node.args) > allowed and not spec.variadic):
            raise self.fail(node, f"{spec.name}() takes {_count(spec)} arguments: {spec.signature()}")
        args = [self.node(arg) for arg in node.args]
        for i, (arg, expr) in enumerate(zip(node.args, args, strict=True)):
            kinds = spec.params[min(i, len(spec.params) - 1)]
            if expr.type.kind not in kinds:
                raise self.fail(arg, f"argument {i + 1} of {spec.signature()} cannot be {a(expr.type)}")
        if spec.reducer:
            return self.reduce(node, spec, args[0])
        if len({a.type for a in args}) > 1 and spec.name == "concat":
            raise self.fail(node, "concat() needs arguments of one type: all strings or all arrays")
        if sum(a.each for a in args) > 1:
            raise self.fail(node, f"{spec.name}() can expand ([*]) at most one argument")
        if spec.name in TRANSFORMS:
            return self.share(("call", spec.name, args[0].key), lambda: self.transform(node, spec, args[0]))
        unary, parts = None, None
        if len(args) == 1:
            unary = _compose(spec.impl, args[0])
        elif spec.name == "concat" and all(a.type.kind is Kind.ARRAY and not a.each for a in args):
            parts = tuple(part for a in args for part in (a.parts or (a,)))
        result = Expr(
            spec.returns([a.type for a in args]),
            any(a.each for a in args),
            apply(spec.impl, [a.get for a in args], [a.each for a in args], [_literal(a) for a in args]),
            None,
            self._text(node),
            frozenset().union(*(a.fields for a in args)),
            unary=unary,
            parts=parts,
        )
        return self.share(("call", spec.name, *(a.key for a in args)), lambda: result)

    def transform(self, node: ast.Call, spec: FunctionSpec, arg: Expr) -> Expr:
        """A string transformation; a chain of them over one source runs as one composed function per value,
        so `lower(url_decode(x[*]))` builds one tuple per request, not one per function."""
        fn: Callable[[str], str] = spec.impl
        base = arg
        if arg.chain is not None:
            inner, base = arg.chain
            outer = fn
            fn = lambda s: outer(inner(s))  # noqa: E731
        source, run = base.get, cached(fn)
        if base.each:
            get: Getter = lambda ctx: tuple(map(run, source(ctx)))  # noqa: E731
        else:
            get = lambda ctx: None if (v := source(ctx)) is None else run(v)  # noqa: E731
        unary = _compose(spec.impl, arg)
        return Expr(STR, base.each, get, None, self._text(node), base.fields, chain=(fn, base), unary=unary)

    def reduce(self, node: ast.Call, spec: FunctionSpec, arg: Expr) -> Expr:
        if not (arg.each and arg.type == BOOL) and arg.type != Type(Kind.ARRAY, BOOL):
            raise self.fail(node, f"{spec.name}() needs booleans of an expanded array, as in any(x[*] eq 1)")
        fields = arg.fields
        if arg.pred is not None and arg.source is not None:
            values, pred = arg.source.get, arg.pred
            get = any_of(values, pred) if spec.name == "any" else all_of(values, pred)
        else:
            inner, reducer = arg.get, spec.impl
            get = lambda ctx: reducer(inner(ctx))  # noqa: E731
        guard = None
        if spec.name == "any":
            # any(x[*] op y) holds when the comparison holds for an element; any(f(x[*])) when an element is true
            guard = arg.guard if arg.guard is not None or not arg.each else self.atom(arg, None, bool, ("truthy",))
        return Expr(BOOL, False, get, None, self._text(node), fields, guard, arg.tests)

    def compare(self, node: ast.Compare) -> Expr:
        lhs = self.node(node.lhs)
        kind = lhs.type.kind
        if kind not in SCALARS:
            raise self.fail(node.lhs, f"cannot compare {a(lhs.type)}: use [N], or [*] inside any(...)")
        build = OPERATORS.get((node.op, kind))
        if build is None:
            raise error_at(self.text, node.op_pos, f"operator '{node.op}' does not apply to {a(lhs.type)}")
        literal = self.operand(node, lhs.type)
        if node.op == "matches" and (problem := regex.check(literal)) is not None:
            raise self.fail(node.rhs, f"invalid regular expression: {problem}")
        pred = build(literal)
        source = lhs.get
        pattern = regex_of(node.op, literal) if kind is Kind.STR else None
        if pattern is not None:
            guard = self.atom(lhs, pattern, None, ("regex", pattern))
        else:
            guard = self.atom(lhs, None, pred, ("pred", node.op, _hashable(literal)))
        self.tested[id(pred)] = (pred, (node.op, _hashable(literal)))
        get: Getter = (lambda ctx: tuple(map(pred, source(ctx)))) if lhs.each else (lambda ctx: pred(source(ctx)))
        test = Test(lhs, pred, pattern)
        return Expr(BOOL, lhs.each, get, None, self._text(node), lhs.fields, guard, (test,), pred, lhs)

    def operand(self, node: ast.Compare, want: Type) -> Any:
        rhs = node.rhs
        if isinstance(rhs, ast.SetLiteral):
            return self.set_literal(rhs, want)
        if isinstance(rhs, ast.ListRef):
            return self.list_ref(rhs, want)
        got = IP if isinstance(rhs, ast.Ip) else _LITERAL_TYPES[type(rhs)]
        if got != want:
            raise self.fail(rhs, f"cannot compare {a(want)} with {a(got)}")
        if isinstance(rhs, ast.Ip) and rhs.is_network:
            raise self.fail(rhs, f"'{node.op}' takes an address; test a CIDR with 'in {{ ... }}'")
        return rhs.value

    def set_literal(self, rhs: ast.SetLiteral, want: Type) -> Any:
        items = rhs.items
        for item in items:
            got = INT if isinstance(item, ast.Range) else IP if isinstance(item, ast.Ip) else _LITERAL_TYPES[type(item)]
            if got != want:
                raise self.fail(item, f"set item is {a(got)}, expected {a(want)}")
        if want == IP:
            return IpSet(item.value for item in items if isinstance(item, ast.Ip))  # type: ignore[misc]
        if want == INT:
            ranges = [(i.low, i.high) for i in items if isinstance(i, ast.Range)]
            return IntSet((i.value for i in items if isinstance(i, ast.Int)), ranges)
        return frozenset(item.value for item in items if isinstance(item, ast.Str))

    def list_ref(self, rhs: ast.ListRef, want: Type) -> Any:
        if rhs.name not in self.lists:
            raise self.fail(rhs, f"unknown list '${rhs.name}'{suggest(rhs.name, self.lists)}")
        values = self.lists[rhs.name]
        try:
            if want == IP:
                return IpSet(ipaddress.ip_network(str(v), strict=False) for v in values)
            if want == INT:
                return IntSet((int(v) for v in values), ())
        except ValueError:
            raise self.fail(rhs, f"list '${rhs.name}' holds values that are not of type {want}") from None
        if want == STR:
            return frozenset(str(v) for v in values)
        raise self.fail(rhs, f"{a(want)} cannot be tested against a list")

    def atom(self, source: Expr, pattern: str | None, pred: Predicate | None, what: Hashable) -> Guard:
        """The one-clause guard of one atom on `source` (an atom of the same test on the same source is shared)."""
        key = (source.key if source.key is not None else ("expr", id(source)), what)
        atom = self.atoms.get(key)
        if atom is None:
            atom = self.atoms[key] = Atom(len(self.atoms), source, pattern, pred)
        return (frozenset({atom.id}),)

    def negate(self, node: ast.Not) -> Expr:
        inner = self._boolean(node.operand, "not")
        get, guard = inner.get, None
        if inner.pred is not None and inner.source is not None and not inner.source.each:
            # `not (x op y)` on a single value: the negated predicate of x is an atom
            pred = inner.pred
            negated: Predicate = lambda v: not pred(v)  # noqa: E731
            guard = self.atom(inner.source, None, negated, ("not", self.tested[id(pred)][1]))
        return Expr(BOOL, False, lambda ctx: not get(ctx), None, self._text(node), inner.fields, guard, inner.tests)

    def logical(self, node: ast.Logical) -> Expr:
        left, right = self._boolean(node.left, node.op), self._boolean(node.right, node.op)
        a, b = left.get, right.get
        get, guard = LOGIC[node.op](a, b), GUARDS[node.op](left.guard, right.guard)
        fields, tests = left.fields | right.fields, left.tests + right.tests
        return Expr(BOOL, False, get, None, self._text(node), fields, guard, tests)

    def _boolean(self, node: ast.Node, op: str) -> Expr:
        expr = self.node(node)
        if expr.each:
            raise self.fail(node, f"'{op}' needs single booleans, not an expanded array: wrap it in any(...)")
        if expr.type != BOOL:
            raise self.fail(node, f"'{op}' needs booleans, found {a(expr.type)}")
        return expr


def _compose(fn: Callable[[Any], Any], arg: Expr) -> tuple[tuple[Callable[[Any], Any], ...], Expr]:
    """`unary` of `fn(arg)`: the steps of `arg`'s chain, when it has one, then `fn`; over the same base."""
    if arg.unary is None:
        return (fn,), arg
    steps, base = arg.unary
    return (*steps, fn), base


def _hashable(literal: Any) -> Hashable:
    try:
        hash(literal)
    except TypeError:
        return ("object", id(literal))
    return (type(literal).__name__, literal)


def _count(spec: FunctionSpec) -> str:
    low, high = len(spec.params) - spec.optional, len(spec.params)
    return f"at least {low}" if spec.variadic else str(low) if low == high else f"{low} to {high}"


_LITERAL_TYPES: dict[type, Type] = {ast.Str: STR, ast.Int: INT, ast.Bool: BOOL, ast.Ip: IP}
_NODES: dict[type, Callable[[Compiler, Any], Expr]] = {
    ast.Str: Compiler.literal,
    ast.Int: Compiler.literal,
    ast.Bool: Compiler.literal,
    ast.Ip: Compiler.literal,
    ast.Field: Compiler.field,
    ast.Index: Compiler.index,
    ast.Call: Compiler.call,
    ast.Compare: Compiler.compare,
    ast.Not: Compiler.negate,
    ast.Logical: Compiler.logical,
}


def _literal(expr: Expr) -> Any:
    """The value of a literal argument, else NOT_LITERAL."""
    key = expr.key
    return key[2] if isinstance(key, tuple) and len(key) == 3 and key[0] == "lit" else NOT_LITERAL
