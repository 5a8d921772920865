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


def parse_body(content_type: str | None, body: bytes) -> Pairs:
    """Form fields of a body by media type: urlencoded, multipart/form-data, JSON (scalar leaves)."""
    mime = media_type(content_type)
    decoder = BODY_DECODERS.get(mime)
    if decoder is None and (mime.endswith("+json") or mime.endswith("/json")):
        decoder = _json
    if decoder is None or not body:
        return []
    try:
        return decoder(content_type or "", body)
    except (ValueError, RecursionError, TypeError):
        return []


def _urlencoded(content_type: str, body: bytes) -> Pairs:
    return parse_query(body.decode("utf-8", "replace"))


def _multipart(content_type: str, body: bytes) -> Pairs:
    boundary = content_type_param(content_type, "boundary")
    if not boundary:
        return []
    pairs: Pairs = []
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--") or len(pairs) >= MAX_PAIRS:
            break
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            continue
        disposition = _part_header(head.decode("latin-1"), "content-disposition")
        name = content_type_param(disposition, "name") if disposition else None
        if name is None:
            continue
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        pairs.append((name, content.decode("utf-8", "replace")))
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
        for i, item in enumerate(value):
            _flatten(item, f"{path}.{i}" if path else str(i), out)
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
