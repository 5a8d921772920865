"""Parser of the rule language: expression text -> `ast.Node`, by precedence climbing.

Precedence, loosest first (as in Cloudflare's rules language): `or ||`, `xor ^^`, `and &&`, `not !`,
then one comparison `value op literal`. A value is a field, a function call or a literal, followed by
any number of `["name"]`, `[N]` or `[*]`. The parser raises only `RuleError` (line and column inside
the expression), whatever the input; it checks syntax only, types are the compiler's job.
"""

from __future__ import annotations

from edge.waf.errors import RuleError
from edge.waf.lang import ast
from edge.waf.lang.lexer import Tok, Token, error_at, tokenize

MAX_LENGTH = 65536
MAX_DEPTH = 100

LOGICAL = {"or": ("or", 1), "||": ("or", 1), "xor": ("xor", 2), "^^": ("xor", 2), "and": ("and", 3), "&&": ("and", 3)}
COMPARISON = {
    "eq": "eq", "==": "eq", "ne": "ne", "!=": "ne", "lt": "lt", "<": "lt", "le": "le", "<=": "le",
    "gt": "gt", ">": "gt", "ge": "ge", ">=": "ge", "contains": "contains", "matches": "matches", "~": "matches",
    "wildcard": "wildcard", "in": "in",
}  # fmt: skip
KEYWORDS = frozenset({*LOGICAL, *COMPARISON, "not", "strict", "true", "false"})


def parse(text: str) -> ast.Node:
    """The syntax tree of `text`; `RuleError` (with line and column in `text`) on any syntax error."""
    if len(text) > MAX_LENGTH:
        raise RuleError(f"expression longer than {MAX_LENGTH} characters", line=1, col=1)
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not Tok.EOF:
            self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        return self.tok.kind in (Tok.PUNCT, Tok.NAME) and self.tok.text in texts

    def expect(self, text: str, what: str | None = None) -> Token:
        if not self.at(text):
            raise self.error(f"expected {what or repr(text)}, found {self.tok.describe()}")
        return self.advance()

    def error(self, message: str, pos: int | None = None) -> RuleError:
        return error_at(self.text, self.tok.pos if pos is None else pos, message)

    # -- grammar -------------------------------------------------------------------------------------
    def parse(self) -> ast.Node:
        node = self.expression(0)
        if self.tok.kind is not Tok.EOF:
            raise self.error(f"expected an operator such as 'and' or 'or', found {self.tok.describe()}")
        return node

    def expression(self, min_prec: int) -> ast.Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested more than {MAX_DEPTH} levels deep")
        left = self.unary()
        while self.tok.kind in (Tok.NAME, Tok.PUNCT) and self.tok.text in LOGICAL:
            op, prec = LOGICAL[self.tok.text]
            if prec < min_prec:
                break
            self.advance()
            right = self.expression(prec + 1)
            left = ast.Logical(op, left, right, left.pos, right.end)
        self.depth -= 1
        return left

    def unary(self) -> ast.Node:
        if self.at("not", "!"):
            start = self.advance().pos
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"expression nested more than {MAX_DEPTH} levels deep")
            operand = self.unary()
            self.depth -= 1
            return ast.Not(operand, start, operand.end)
        if self.at("("):
            start = self.advance().pos
            inner = self.expression(0)
            self.expect(")", "')'")
            del start
            return inner
        return self.comparison()

    def comparison(self) -> ast.Node:
        lhs = self.value()
        op_tok = self.tok
        if self.at("strict"):
            self.advance()
            self.expect("wildcard", "'wildcard' after 'strict'")
            op = "strict wildcard"
        elif op_tok.kind in (Tok.NAME, Tok.PUNCT) and op_tok.text in COMPARISON:
            self.advance()
            op = COMPARISON[op_tok.text]
        else:
            return lhs
        rhs = self.set_or_list() if op == "in" else self.literal(f"a value to compare with after '{op_tok.text}'")
        return ast.Compare(op, lhs, rhs, lhs.pos, rhs.end, op_tok.pos)

    def value(self) -> ast.Node:
        tok = self.tok
        if tok.kind is Tok.NAME and tok.text not in KEYWORDS:
            self.advance()
            node: ast.Node = self.call(tok) if self.at("(") else ast.Field(tok.text, tok.pos, tok.end)
        elif tok.kind in (Tok.STRING, Tok.INT, Tok.IP) or self.at("true", "false"):
            node = self.literal("a value")
        else:
            raise self.error(f"expected a field, a function or a value, found {tok.describe()}")
        while self.at("["):
            node = self.index(node)
        return node

    def call(self, name: Token) -> ast.Call:
        self.expect("(")
        args: list[ast.Node] = []
        if not self.at(")"):
            args.append(self.expression(0))
            while self.at(","):
                self.advance()
                args.append(self.expression(0))
        end = self.expect(")", "',' or ')' in the argument list").end
        return ast.Call(name.text, tuple(args), name.pos, end)

    def index(self, base: ast.Node) -> ast.Index:
        self.expect("[")
        tok = self.advance()
        if tok.kind is Tok.STRING and isinstance(tok.value, str):
            key: str | int | None = tok.value
        elif tok.kind is Tok.INT and isinstance(tok.value, int) and tok.value >= 0:
            key = tok.value
        elif tok.text == "*":
            key = None
        else:
            raise self.error(f"expected a \"name\", an index N or '*' inside [...], found {tok.describe()}", tok.pos)
        end = self.expect("]", "']'").end
        return ast.Index(base, key, base.pos, end)

    def literal(self, what: str) -> ast.Str | ast.Int | ast.Bool | ast.Ip:
        tok = self.tok
        if tok.kind is Tok.STRING and isinstance(tok.value, str):
            self.advance()
            return ast.Str(tok.value, tok.pos, tok.end)
        if tok.kind is Tok.INT and isinstance(tok.value, int):
            self.advance()
            return ast.Int(tok.value, tok.pos, tok.end)
        if tok.kind is Tok.IP:
            self.advance()
            return ast.Ip(tok.value, "/" in tok.text, tok.pos, tok.end)
        if self.at("true", "false"):
            self.advance()
            return ast.Bool(tok.text == "true", tok.pos, tok.end)
        raise self.error(f"expected {what}, found {tok.describe()}")

    def set_or_list(self) -> ast.SetLiteral | ast.ListRef:
        tok = self.tok
        if tok.kind is Tok.LIST and isinstance(tok.value, str):
            self.advance()
            return ast.ListRef(tok.value, tok.pos, tok.end)
        start = self.expect("{", "'{' or a $list after 'in'").pos
        items: list[ast.Str | ast.Int | ast.Ip | ast.Range] = []
        while not self.at("}"):
            if self.tok.kind is Tok.EOF:
                raise self.error("expected '}' to close the set")
            item = self.literal("a string, an integer, a range or an IP address in the set")
            if isinstance(item, ast.Bool):
                raise self.error("booleans cannot appear in a set", item.pos)
            if self.at(".."):
                self.advance()
                high = self.literal("the end of the range")
                if not isinstance(item, ast.Int) or not isinstance(high, ast.Int):
                    raise self.error("a range needs two integers, as in 8000..8999", item.pos)
                if high.value < item.value:
                    raise self.error(f"empty range {item.value}..{high.value}", item.pos)
                items.append(ast.Range(item.value, high.value, item.pos, high.end))
            else:
                items.append(item)
            if self.at(","):
                self.advance()
        end = self.advance().end
        if not items:
            raise self.error("empty set: write at least one value inside { }", start)
        return ast.SetLiteral(tuple(items), start, end)
