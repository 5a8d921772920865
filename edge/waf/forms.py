"""Decoders for the name/value structures inside a request: query strings, cookies and bodies.

Every function takes untrusted input and never raises: what does not parse yields fewer (or no) pairs.
Names and values are `str`; bytes are decoded as UTF-8 with replacement characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from edge.waf.transforms import url_decode_once

Pairs = list[tuple[str, str]]

MAX_PAIRS = 10000
_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


def parse_query(query: str) -> Pairs:
    """`a=1&b=x+y&c` -> [("a", "1"), ("b", "x y"), ("c", "")]; names and values percent-decoded once.

    Decoded like `url_decode` does one round (overlong `%c0%ae` is `.`, not U+FFFD), so that a rule reading
    args sees what an origin with a lax decoder would see.
    """
    pairs: Pairs = []
    for part in query.split("&", MAX_PAIRS)[:MAX_PAIRS]:
        if part:
            name, _, value = part.partition("=")
            if "%" in part or "+" in part:
                name, value = url_decode_once(name), url_decode_once(value)
            pairs.append((name, value))
    return pairs


def parse_cookies(headers: list[tuple[str, str]]) -> Pairs:
    """Every `name=value` of every Cookie header, values as sent (not decoded)."""
    pairs: Pairs = []
    for key, value in headers:
        if key == "cookie":
            for part in value.split(";"):
                name, eq, val = part.strip().partition("=")
                if name or eq:
                    pairs.append((name.strip(), val.strip()))
    return pairs


def media_type(content_type: str | None) -> str:
    """`"Multipart/Form-Data; boundary=x"` -> `"multipart/form-data"`; "" when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def content_type_param(content_type: str, name: str) -> str | None:
    for m in _PARAM.finditer(content_type):
        if m.group(1).lower() == name:
            return m.group(2) if m.group(2) is not None else m.group(3)
    return None


class Unparsable(ValueError):
    """A body that claims a structured type but is not that type."""


class Incomplete(ValueError):
    """A body whose end is missing; `pairs` is what was read before it (all of it when the body was cut)."""

    def __init__(self, message: str, pairs: Pairs) -> None:
        super().__init__(message)
        self.pairs = pairs


def parse_body(content_type: str | None, body: bytes, *, truncated: bool = False) -> tuple[Pairs, bool]:
    """Form fields of a body by media type (urlencoded, multipart/form-data, JSON scalar leaves), and whether
    the body is *invalid*: it claims one of those types and does not parse as it, or has more than
    MAX_PAIRS fields. An invalid body is inspected as raw text by the rules instead (CRS's REQBODY_ERROR and
    MULTIPART_STRICT_ERROR): a parser that cannot parse must not let the payload through uninspected.
    `truncated`: the body was cut at waf.max_body, so a missing end (JSON, multipart) is not an error."""
    mime = media_type(content_type)
    decoder = BODY_DECODERS.get(mime)
    if decoder is None and (mime.endswith("+json") or mime.endswith("/json")):
        decoder = _json
    if decoder is None or not body:
        return [], False
    try:
        pairs = decoder(content_type or "", body)
    except Unparsable:
        return [], True
    except Incomplete as exc:
        return exc.pairs, not truncated
    except (ValueError, RecursionError, TypeError):
        return [], not truncated
    return pairs, len(pairs) >= MAX_PAIRS


def _urlencoded(content_type: str, body: bytes) -> Pairs:
    return parse_query(body.decode("utf-8", "replace"))


def _multipart(content_type: str, body: bytes) -> Pairs:
    boundary = content_type_param(content_type, "boundary")
    if not boundary:
        raise Unparsable("multipart body without a boundary parameter")
    pairs: Pairs = []
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    chunks = body.split(delimiter)
    if len(chunks) < 2 or chunks[0].strip(b"\r\n"):
        raise Unparsable("multipart body does not start with its Content-Type's boundary")
    closed = False
    last = len(chunks) - 1
    for index, chunk in enumerate(chunks[1:], 1):
        if chunk.startswith(b"--"):
            closed = True
            break
        if len(pairs) >= MAX_PAIRS:
            return pairs
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            if index == last:
                break  # cut short: an error unless the body was truncated
            raise Unparsable("multipart part without a header block")
        disposition = _part_header(head.decode("latin-1"), "content-disposition")
        name = content_type_param(disposition, "name") if disposition else None
        if name is None:
            raise Unparsable("multipart part without a Content-Disposition name")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        pairs.append((name, content.decode("utf-8", "replace")))
    if not closed:
        raise Incomplete("multipart body without its closing boundary", pairs)
    return pairs


def _part_header(head: str, wanted: str) -> str | None:
    for line in head.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == wanted:
            return ";" + value.split(";", 1)[1] if ";" in value else ""
    return None


def _json(content_type: str, body: bytes) -> Pairs:
    pairs: Pairs = []
    _flatten(json.loads(body.decode("utf-8", "replace")), "", pairs)
    return pairs


def _flatten(value: object, path: str, out: Pairs) -> None:
    if len(out) >= MAX_PAIRS:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list):
        # Array items share their parent's name (`tags` for every tag, as a form repeats a field): an index in
        # the name carries no signal, and distinct names would defeat the per-value caches of the WAF.
        for item in value:
            _flatten(item, path, out)
    elif isinstance(value, str):
        out.append((path, value))
    elif isinstance(value, bool) or value is None:
        out.append((path, json.dumps(value)))
    else:
        out.append((path, str(value)))


BODY_DECODERS: dict[str, Callable[[str, bytes], Pairs]] = {
    "application/x-www-form-urlencoded": _urlencoded,
    "multipart/form-data": _multipart,
}
