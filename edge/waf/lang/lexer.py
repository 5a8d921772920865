"""Tokens of the rule language.

`tokenize(text)` turns an expression into tokens or raises `RuleError` at the offending line and column.
Literals are decoded here: quoted strings (escapes `\\" \\\\ \\n \\r \\t \\0 \\xHH`), raw strings `r"..."` and
`r#"..."#` (any number of `#`), integers, IPv4/IPv6 addresses and CIDRs (validated with `ipaddress`).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass

from edge.waf.errors import RuleError


class Tok(enum.Enum):
    NAME = "name"
    STRING = "string"
    INT = "integer"
    IP = "IP address"
    LIST = "list"
    PUNCT = "symbol"
    EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: `text` is the source text, `value` the decoded literal (str, int, ip network) or name."""

    kind: Tok
    text: str
    value: object
    pos: int
    end: int

    def describe(self) -> str:
        return "end of expression" if self.kind is Tok.EOF else f"'{self.text}'"


PUNCTS = ("&&", "||", "^^", "==", "!=", "<=", ">=", "..", "<", ">", "!", "~", "(", ")", "{", "}", "[", "]", ",", "*")
_SPACE = re.compile(r"\s+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,3})?(?![\w.])")
_IPV6 = re.compile(r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f.]*(?:/\d{1,3})?")
_INT = re.compile(r"-?\d+(?![\w])")
_LIST = re.compile(r"\$([A-Za-z_][A-Za-z0-9_-]*)")
_RAW = re.compile(r'r(#*)"')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "0": "\0"}


def position(text: str, pos: int) -> tuple[int, int]:
    """1-based (line, column) of offset `pos` in `text`."""
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def error_at(text: str, pos: int, message: str) -> RuleError:
    line, col = position(text, pos)
    return RuleError(message, line=line, col=col)


def tokenize(text: str) -> list[Token]:
    """All tokens of `text`, ending with one EOF token; `RuleError` on anything unreadable."""
    tokens: list[Token] = []
    pos, size = 0, len(text)
    while True:
        space = _SPACE.match(text, pos)
        if space:
            pos = space.end()
        if pos >= size:
            tokens.append(Token(Tok.EOF, "", None, size, size))
            return tokens
        token = _next(text, pos)
        tokens.append(token)
        pos = token.end


def _next(text: str, pos: int) -> Token:
    ch = text[pos]
    raw = _RAW.match(text, pos)
    if raw:
        return _raw_string(text, pos, len(raw.group(1)))
    if ch == '"':
        return _quoted_string(text, pos)
    if ch == "$":
        m = _LIST.match(text, pos)
        if not m:
            raise error_at(text, pos, "expected a list name after '$'")
        return Token(Tok.LIST, m.group(0), m.group(1), pos, m.end())
    for pattern in (_IPV4, _IPV6):
        m = pattern.match(text, pos)
        if m and (pattern is _IPV4 or m.group(0).count(":") >= 2):
            return _ip(text, pos, m.group(0))
    m = _INT.match(text, pos)
    if m:
        return Token(Tok.INT, m.group(0), int(m.group(0)), pos, m.end())
    m = _NAME.match(text, pos)
    if m:
        return Token(Tok.NAME, m.group(0), m.group(0), pos, m.end())
    for punct in PUNCTS:
        if text.startswith(punct, pos):
            return Token(Tok.PUNCT, punct, punct, pos, pos + len(punct))
    raise error_at(text, pos, f"unexpected character {ch!r}")


def _ip(text: str, pos: int, literal: str) -> Token:
    try:
        value: object = ipaddress.ip_network(literal, strict=False) if "/" in literal else ipaddress.ip_address(literal)
    except ValueError:
        raise error_at(text, pos, f"invalid IP address or CIDR '{literal}'") from None
    return Token(Tok.IP, literal, value, pos, pos + len(literal))


def _raw_string(text: str, pos: int, hashes: int) -> Token:
    start = pos + 2 + hashes
    close = '"' + "#" * hashes
    end = text.find(close, start)
    if end < 0:
        raise error_at(text, pos, f"unterminated raw string: expected {close!r}")
    return Token(Tok.STRING, text[pos : end + len(close)], text[start:end], pos, end + len(close))


def _quoted_string(text: str, pos: int) -> Token:
    out: list[str] = []
    i, size = pos + 1, len(text)
    while i < size:
        ch = text[i]
        if ch == '"':
            return Token(Tok.STRING, text[pos : i + 1], "".join(out), pos, i + 1)
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt in _ESCAPES and nxt:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2 : i + 4]):
            out.append(chr(int(text[i + 2 : i + 4], 16)))
            i += 4
        else:
            raise error_at(
                text, i, f"unknown escape '\\{nxt}' in a quoted string; use a raw string r\"...\" for regexes"
            )
    raise error_at(text, pos, "unterminated string: expected '\"'")
