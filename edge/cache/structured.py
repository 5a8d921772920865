"""A Structured Field Dictionary parser (RFC 8941 section 4.2.2), the syntax of targeted cache fields.

RFC 9213 section 2.1 makes `CDN-Cache-Control` and its siblings Dictionaries, and a cache MUST ignore one
that fails to parse; that is the only use here, so the parser answers "a dict, or None when invalid" and
keeps no error detail. Item types map to Python: Integer -> int, Decimal -> float, String -> str,
Token -> `Token`, Byte Sequence -> bytes, Boolean -> bool, Inner List -> list of items. Parameters are
parsed (to reject bad ones) and dropped: RFC 9213 gives them no meaning for cache directives.
"""

from __future__ import annotations

import base64
import binascii
import string

_KEY_FIRST = frozenset(string.ascii_lowercase + "*")
_KEY_REST = frozenset(string.ascii_lowercase + string.digits + "_-.*")
_TOKEN_FIRST = frozenset(string.ascii_letters + "*")
_TOKEN_REST = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:/")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/=")
_DIGITS = frozenset(string.digits)
_NUMBER = frozenset(string.digits + ".")

Item = int | float | str | bytes | bool | list["Item"]


class Token(str):
    """An sf-token, kept apart from an sf-string so that `max-age="5"` can be told from `max-age=5`."""

    __slots__ = ()


class _Invalid(Exception):
    pass


class _Reader:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _Invalid
        self.pos += 1
        return char

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1


def parse_dictionary(value: bytes) -> dict[str, Item] | None:
    """The Dictionary in `value` (lines already combined with ", "), or None if it is not valid (RFC 8941 4.2)."""
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    reader = _Reader(text)
    reader.skip(" ")
    result: dict[str, Item] = {}
    try:
        while reader.peek():
            key = _key(reader)
            if reader.peek() == "=":
                reader.pos += 1
                result[key] = _inner_list(reader) if reader.peek() == "(" else _bare_item(reader)
            else:
                result[key] = True
            _parameters(reader)
            reader.skip(" \t")
            if not reader.peek():
                break
            if reader.take() != ",":
                return None
            reader.skip(" \t")
            if not reader.peek():
                return None  # trailing comma
    except _Invalid:
        return None
    return result


def _key(reader: _Reader) -> str:
    start = reader.pos
    if reader.take() not in _KEY_FIRST:
        raise _Invalid
    while reader.peek() and reader.peek() in _KEY_REST:
        reader.pos += 1
    return reader.text[start : reader.pos]


def _parameters(reader: _Reader) -> None:
    while reader.peek() == ";":
        reader.pos += 1
        reader.skip(" ")
        _key(reader)
        if reader.peek() == "=":
            reader.pos += 1
            _bare_item(reader)


def _inner_list(reader: _Reader) -> list[Item]:
    reader.take()  # "("
    items: list[Item] = []
    while True:
        reader.skip(" ")
        if reader.peek() == ")":
            reader.pos += 1
            return items
        items.append(_bare_item(reader))
        _parameters(reader)
        if reader.peek() not in (" ", ")"):
            raise _Invalid


def _bare_item(reader: _Reader) -> Item:
    char = reader.peek()
    if char == "-" or char in _DIGITS:
        return _number(reader)
    if char == '"':
        return _string(reader)
    if char == ":":
        return _bytes(reader)
    if char == "?":
        reader.pos += 1
        flag = reader.take()
        if flag not in "01":
            raise _Invalid
        return flag == "1"
    if char and char in _TOKEN_FIRST:
        start = reader.pos
        while reader.peek() and reader.peek() in _TOKEN_REST:
            reader.pos += 1
        return Token(reader.text[start : reader.pos])
    raise _Invalid


def _number(reader: _Reader) -> int | float:
    start = reader.pos
    if reader.peek() == "-":
        reader.pos += 1
    if not reader.peek() or reader.peek() not in _DIGITS:
        raise _Invalid
    while reader.peek() and reader.peek() in _NUMBER:
        reader.pos += 1
    text = reader.text[start : reader.pos]
    digits = text.lstrip("-")
    if "." not in digits:
        if len(digits) > 15:
            raise _Invalid
        return int(text)
    whole, _, fraction = digits.partition(".")
    if len(whole) > 12 or not 1 <= len(fraction) <= 3 or "." in fraction:
        raise _Invalid
    return float(text)


def _string(reader: _Reader) -> str:
    reader.take()  # opening quote
    out: list[str] = []
    while True:
        char = reader.take()
        if char == "\\":
            escaped = reader.take()
            if escaped not in '"\\':
                raise _Invalid
            out.append(escaped)
        elif char == '"':
            return "".join(out)
        elif not " " <= char <= "~":
            raise _Invalid
        else:
            out.append(char)


def _bytes(reader: _Reader) -> bytes:
    reader.take()  # opening colon
    start = reader.pos
    while reader.peek() != ":":
        if reader.take() not in _BASE64:
            raise _Invalid
    encoded = reader.text[start : reader.pos]
    reader.pos += 1
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise _Invalid from error
