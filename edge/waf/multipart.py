"""multipart/form-data (RFC 7578) -> form fields and file parts; multipart/mixed (batches) -> values; header
parameters (`; name="value"`).

A part with a `filename` (or `filename*`) parameter is a file: it is not a form value (its bytes are an image,
a document, an archive, not text a person typed), so the generic injection rules never read it. What rules
can read of it is a `FilePart`: the field name, the file name (inspected like an argument value), the part's
Content-Type, the size and a bounded excerpt of the content (`excerpt`), for the rules written for uploads
(web shells, polyglots, SVG with script). Every other part is a form field, decoded as UTF-8.

Raises only `Unparsable` and `Incomplete` (see `forms.parse_body`), never anything else on any input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from edge.waf.documents import json_pairs
from edge.waf.errors import Incomplete, Unparsable

Pairs = list[tuple[str, str]]

EXCERPT_HEAD = 32 * 1024
EXCERPT_TAIL = 8 * 1024
EXCERPT_GAP = "\n[...]\n"
MAX_PARTS = 10000
_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


@dataclass(frozen=True, slots=True)
class FilePart:
    """One uploaded file. `content` is the excerpt of `excerpt()`, `size` the length of the whole content."""

    name: str
    filename: str
    content_type: str
    size: int
    content: str


def header_param(value: str, name: str) -> str | None:
    """The parameter `name` (lower-case) of a header value such as `form-data; name="a"; filename=b.txt`."""
    for m in _PARAM.finditer(value):
        if m.group(1).lower() == name:
            return m.group(2) if m.group(2) is not None else m.group(3)
    return None


def excerpt(data: bytes) -> str:
    """The first EXCERPT_HEAD and the last EXCERPT_TAIL bytes of `data` as Latin-1 text (one character per
    byte, so any byte pattern can be searched): a payload appended to an image is seen, and a 1 MiB upload
    costs a 40 KiB scan."""
    if len(data) <= EXCERPT_HEAD + EXCERPT_TAIL:
        return data.decode("latin-1")
    return data[:EXCERPT_HEAD].decode("latin-1") + EXCERPT_GAP + data[-EXCERPT_TAIL:].decode("latin-1")


def split_multipart(body: bytes, boundary: str | None) -> tuple[Pairs, list[FilePart]]:
    """The fields and files of a multipart body; `Unparsable` when it is not multipart with this boundary,
    `Incomplete` (with what was read) when the closing boundary is missing."""
    if not boundary:
        raise Unparsable("multipart body without a boundary parameter")
    pairs: Pairs = []
    files: list[FilePart] = []
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    chunks = body.split(delimiter)
    if len(chunks) < 2 or chunks[0].strip(b"\r\n"):
        raise Unparsable("multipart body does not start with its Content-Type's boundary")
    last = len(chunks) - 1
    for index, chunk in enumerate(chunks[1:], 1):
        if chunk.startswith(b"--") or len(pairs) + len(files) >= MAX_PARTS:
            return pairs, files
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            if index == last:
                break  # cut short: an error unless the body was truncated
            raise Unparsable("multipart part without a header block")
        text = head.decode("utf-8", "replace")
        disposition = part_header(text, "content-disposition")
        name = header_param(disposition, "name") if disposition is not None else None
        if name is None:
            raise Unparsable("multipart part without a Content-Disposition name")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        filename = _filename(disposition or "")
        if filename is None:
            pairs.append((name, content.decode("utf-8", "replace")))
        else:
            kind = (part_header(text, "content-type", whole=True) or "").strip()
            files.append(FilePart(name, filename, kind, len(content), excerpt(content)))
    raise Incomplete("multipart body without its closing boundary", pairs, files)


def _filename(disposition: str) -> str | None:
    """`filename*=UTF-8''%e2%82%ac.txt` (RFC 5987) wins over `filename="..."`; None when the part has neither."""
    extended = header_param(disposition, "filename*")
    if extended is not None:
        _, _, encoded = extended.partition("''")
        return unquote(encoded or extended, errors="replace")
    return header_param(disposition, "filename")


def part_header(head: str, wanted: str, *, whole: bool = False) -> str | None:
    """The value of header `wanted` in a part's header block: its parameters from the first `;` (what
    `header_param` reads), or with `whole` the entire value; None when absent."""
    for line in head.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == wanted:
            if whole:
                return value
            return ";" + value.split(";", 1)[1] if ";" in value else ""
    return None


def split_mime(body: bytes, boundary: str | None, parse_query: Callable[[str], Pairs], depth: int = 0) -> Pairs:
    """The values of a multipart/mixed or multipart/related body (an OData or Microsoft Graph `$batch`, a
    MIME message): each part by its Content-Type. An `application/http` part is a request the origin will run:
    its target's query arguments, its headers and its body become values; a nested multipart part (an OData
    changeset) is split in turn (MAX_MIME_DEPTH levels); JSON parts are read by `json_pairs`; other parts are
    one value each. The parts' own MIME headers are structure, not values. `Unparsable` when the body is not
    multipart with this boundary."""
    if not boundary:
        raise Unparsable("multipart body without a boundary parameter")
    chunks = body.split(b"--" + boundary.encode("latin-1", "replace"))
    if len(chunks) < 2 or chunks[0].strip(b"\r\n"):
        raise Unparsable("multipart body does not start with its Content-Type's boundary")
    pairs: Pairs = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--") or len(pairs) >= MAX_PARTS:
            break
        head, sep, content = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            head, sep, content = chunk.lstrip(b"\n").partition(b"\n\n")
        kind = (part_header(head.decode("utf-8", "replace"), "content-type", whole=True) or "").strip()
        pairs.extend(_mime_part(kind, content.rstrip(b"\r\n"), parse_query, depth))
    return pairs


MAX_MIME_DEPTH = 2


def _mime_part(kind: str, content: bytes, parse_query: Callable[[str], Pairs], depth: int) -> Pairs:
    mime = kind.split(";", 1)[0].strip().lower()
    if mime.startswith("multipart/") and depth < MAX_MIME_DEPTH:
        try:
            return split_mime(content, header_param(kind, "boundary"), parse_query, depth + 1)
        except Unparsable:
            pass
    if mime == "application/http":
        return _embedded_request(content, parse_query)
    if mime.endswith(("/json", "+json")):
        try:
            return json_pairs(content.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            pass
    text = content.decode("utf-8", "replace")
    return [("", text)] if text.strip() else []


def _embedded_request(content: bytes, parse_query: Callable[[str], Pairs]) -> Pairs:
    """`GET Customers('ALFKI')?$select=x HTTP/1.1`, headers, a blank line and a body -> values."""
    text = content.decode("utf-8", "replace").replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    line, _, headers = head.strip("\n").partition("\n")
    pairs: Pairs = []
    parts = line.split(" ")
    target = parts[1] if len(parts) >= 3 and parts[-1].upper().startswith("HTTP/") else line
    path, _, query = target.partition("?")
    pairs.append(("", unquote(path, errors="replace")))
    pairs.extend(parse_query(query) if query else [])
    for header in headers.split("\n"):
        name, colon, value = header.partition(":")
        if colon:
            pairs.append((name.strip().lower(), value.strip()))
    if body.strip():
        try:
            pairs.extend(json_pairs(body))
        except (ValueError, RecursionError):
            pairs.append(("", body))
    return pairs
