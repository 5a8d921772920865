"""Decoders for the name/value structures inside a request: query strings, cookies and bodies.

Every function takes untrusted input and never raises: what does not parse yields fewer (or no) pairs.
Names and values are `str`; bytes are decoded as UTF-8 with replacement characters.

`parse_body` splits a body by what it is (see `Body`): form fields (urlencoded, multipart, JSON, JSON lines,
XML), uploaded files (multipart file parts, or the whole body when it is a file), or text that no parser
splits, which rules then read whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from edge.waf import documents
from edge.waf.errors import Incomplete, Unparsable
from edge.waf.multipart import FilePart, excerpt, header_param, split_mime, split_multipart
from edge.waf.transforms import url_decode_once

Pairs = list[tuple[str, str]]

MAX_PAIRS = 10000
MAX_INFLATED = 1024 * 1024
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


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
    """The parameter `name` of a Content-Type value (`boundary`, `charset`), unquoted; None when absent."""
    return header_param(content_type, name)


def decode_content(encoding: str | None, data: bytes) -> tuple[bytes, bool, bool]:
    """A body sent with `Content-Encoding: gzip` or `deflate` (zlib, or raw deflate as some clients send it),
    inflated: (bytes, cut at MAX_INFLATED, could not be inflated). Bounded, so a decompression bomb costs at
    most MAX_INFLATED bytes; any other encoding (or none) returns the data as it is."""
    wbits = _WBITS.get((encoding or "").strip().lower())
    if wbits is None or not data:
        return data, False, False
    for bits in (wbits, -zlib.MAX_WBITS) if wbits == zlib.MAX_WBITS else (wbits,):
        inflater = zlib.decompressobj(bits)
        try:
            out = inflater.decompress(data, MAX_INFLATED)
        except zlib.error:
            continue
        return out, bool(inflater.unconsumed_tail), False
    return data, False, True


@dataclass(frozen=True, slots=True)
class Body:
    """A body split by what it is.

    `fields`: form fields and the values of structured documents. `files`: uploaded files. `text`: the body as
    text when rules must read it whole (no parser split it into fields and it is not a file, or it claims a
    structured type and does not parse); "" otherwise. `invalid`: it claims urlencoded, multipart or JSON and
    is not that (or holds more than MAX_PAIRS fields): CRS's REQBODY_ERROR and MULTIPART_STRICT_ERROR, so that
    a parser that cannot parse never lets the payload through uninspected.
    """

    fields: Pairs
    files: tuple[FilePart, ...] = ()
    text: str = ""
    invalid: bool = False
    code: tuple[tuple[str, str], ...] = ()


EMPTY = Body([])

FILE_TYPES = frozenset(
    {
        "application/octet-stream",
        "application/offset+octet-stream",  # tus resumable uploads
        "application/pdf",
        "application/zip",
        "application/x-zip-compressed",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-7z-compressed",
        "application/x-rar-compressed",
        "application/vnd.rar",
        "application/x-bzip2",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/java-archive",
    }
)
FILE_PREFIXES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "model/",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)


def is_file(mime: str, method: str) -> bool:
    """Whether a body of this media type is one uploaded file rather than data: a file type (images, media,
    archives, office documents, octet streams), or any type no parser reads sent with PUT (a WebDAV or S3
    upload stores the body as a resource: an iCalendar event, a vCard, a text file)."""
    return mime in FILE_TYPES or mime.startswith(FILE_PREFIXES) or (method == "PUT" and _decoder(mime) is None)


def parse_body(
    content_type: str | None,
    body: bytes,
    *,
    truncated: bool = False,
    method: str = "POST",
    filename: str = "",
    size: int = 0,
) -> Body:
    """The `Body` of a request (see `Body`). `truncated`: the body was cut at waf.max_body, so a missing end
    (JSON, multipart) is not an error, and what could not be parsed is read as text. `filename` and `size`
    describe a whole-body upload (the last path segment, the declared length)."""
    if not body:
        return EMPTY
    mime = media_type(content_type)
    decoder = _decoder(mime)
    if decoder is None:
        if is_file(mime, method):
            upload = FilePart("", filename, (content_type or "").strip(), max(size, len(body)), excerpt(body))
            return Body([], (upload,))
        return Body([], text=_text(body))
    strict = mime in STRICT or mime.endswith(("+json", "/json"))
    try:
        pairs, files = decoder(content_type or "", body)
    except Incomplete as exc:
        return Body(exc.pairs, tuple(exc.files), "" if truncated else _text(body), not truncated)
    except (Unparsable, ValueError, RecursionError, TypeError):
        return Body([], text=_text(body), invalid=strict and not truncated)
    pairs, code = documents.split_code(pairs)
    if len(pairs) + len(files) + len(code) >= MAX_PAIRS:
        return Body(pairs, tuple(files), _text(body), invalid=True, code=tuple(code))
    return Body(pairs, tuple(files), code=tuple(code))


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


Decoded = tuple[Pairs, list[FilePart]]


def _urlencoded(content_type: str, body: bytes) -> Decoded:
    return documents.expand_nested(parse_query(_text(body)), parse_query), []


def _multipart(content_type: str, body: bytes) -> Decoded:
    try:
        pairs, files = split_multipart(body, content_type_param(content_type, "boundary"))
    except Incomplete as exc:
        raise Incomplete(str(exc), documents.expand_nested(exc.pairs, parse_query), exc.files) from None
    return documents.expand_nested(pairs, parse_query), files


def _mime(content_type: str, body: bytes) -> Decoded:
    return split_mime(body, content_type_param(content_type, "boundary"), parse_query), []


def _json(content_type: str, body: bytes) -> Decoded:
    return documents.json_pairs(_text(body)), []


def _json_lines(content_type: str, body: bytes) -> Decoded:
    return documents.json_lines_pairs(_text(body)), []


def _xml(content_type: str, body: bytes) -> Decoded:
    return documents.xml_pairs(body), []


STRICT = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "application/json"})
BODY_DECODERS: dict[str, Callable[[str, bytes], Decoded]] = {
    "application/x-www-form-urlencoded": _urlencoded,
    "multipart/form-data": _multipart,
    "multipart/mixed": _mime,
    "multipart/related": _mime,
    "application/json": _json,
    "application/x-ndjson": _json_lines,
    "application/jsonl": _json_lines,
    "application/x-jsonlines": _json_lines,
    "application/json-seq": _json_lines,
    "application/x-sentry-envelope": _json_lines,
    "application/xml": _xml,
    "text/xml": _xml,
}


def _decoder(mime: str) -> Callable[[str, bytes], Decoded] | None:
    decoder = BODY_DECODERS.get(mime)
    if decoder is None:
        if mime.endswith(("+json", "/json")):
            return _json
        if mime.endswith("+xml"):
            return _xml
    return decoder
