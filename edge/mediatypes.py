"""File name suffix -> Content-Type, for the files the static phase serves.

Python's own table (`mimetypes.MimeTypes()` without the system's files) plus the web types it lacks or has
old names for. The system's `/etc/mime.types`, which `mimetypes.guess_type` (and so Starlette's
FileResponse) also reads, is left out on purpose: a response's type must not change with the machine edge
runs on. Text types are sent as UTF-8, as Starlette does; anything unknown is `application/octet-stream`.
`mimetypes.guess_type` would also call `app.css.gz` a text/css file (with a gzip "encoding" that
FileResponse drops): a `.gz` or `.br` file asked for by its own name is served as what it is.
"""

from __future__ import annotations

import mimetypes

DEFAULT = b"application/octet-stream"

_WEB = {
    ".js": "text/javascript",  # RFC 9239
    ".mjs": "text/javascript",
    ".map": "application/json",  # source maps
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".xml": "application/xml",
    ".gz": "application/gzip",
    ".br": "application/octet-stream",
}


def _table() -> dict[str, bytes]:
    types = {**mimetypes.MimeTypes().types_map[True], **_WEB}
    return {
        suffix.lower(): (f"{kind}; charset=utf-8" if kind.startswith("text/") else kind).encode("ascii")
        for suffix, kind in types.items()
    }


TYPES = _table()


def content_type(name: str) -> bytes:
    """The Content-Type for a file name (its last suffix, case-insensitive)."""
    dot = name.rfind(".")
    if dot <= 0:  # no suffix, or a dotfile's name such as `.htaccess`
        return DEFAULT
    return TYPES.get(name[dot:].lower(), DEFAULT)
