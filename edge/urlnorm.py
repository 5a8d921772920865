"""The request path as rules, rate limits and the origin see it: normalised once, at the door.

A rule `http.request.uri.path eq "/admin"` means nothing if `/%61dmin`, `//admin` or `/./admin` reach the
same handler on the origin. So the path is normalised as Cloudflare's URL normalisation does, and the
origin receives the normalised path: what the rules judged is what the origin serves.

- percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded, other percent-encodings get
  upper-case hex (RFC 3986 section 6.2.2.1 and 6.2.2.2); reserved characters such as `%2F` stay encoded;
- `\\` becomes `/` (IIS and some frameworks treat it as a separator), repeated slashes are merged;
- `.` and `..` segments are resolved (RFC 3986 section 5.2.4); `..` above the root stays at the root.

A `%` not followed by two hex digits is not a URL at all: the caller answers 400, as nginx does.
The query is left as received (its arguments are decoded by the WAF's own parser).
"""

from __future__ import annotations

_HEX = b"0123456789ABCDEFabcdef"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT, _BACKSLASH = ord("%"), ord("\\")


class BadPath(ValueError):
    """The path holds a `%` that is not followed by two hex digits."""


def normalize_path(raw: bytes) -> bytes:
    """The normalised form of a request path (no query). Paths that are already normal are returned as is."""
    if not raw.startswith(b"/"):
        return raw  # `*` (OPTIONS) or empty: nothing to normalise
    # `int in bytes` and `find` cost no exception: `bytes in bytes` raises and clears a TypeError first.
    percent, backslash = _PERCENT in raw, _BACKSLASH in raw
    if not percent and not backslash and raw.find(b"//") < 0 and raw.find(b"/.") < 0:
        return raw
    path = _decode_unreserved(raw) if percent else raw
    if backslash:
        path = path.replace(b"\\", b"/")
    return _remove_dot_segments(path)


def _decode_unreserved(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        byte = raw[i]
        if byte != 0x25:  # '%'
            out.append(byte)
            i += 1
            continue
        pair = raw[i + 1 : i + 3]
        if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
            raise BadPath(f"bad percent-encoding at byte {i} of the path")
        value = int(pair, 16)
        if value in _UNRESERVED:
            out.append(value)
        else:
            out += b"%" + pair.upper()
        i += 3
    return bytes(out)


def _remove_dot_segments(path: bytes) -> bytes:
    """RFC 3986 section 5.2.4 on a path that starts with `/`, with empty segments (`//`) merged too."""
    segments = path.split(b"/")[1:]
    out: list[bytes] = []
    for segment in segments[:-1]:
        if segment == b"..":
            if out:
                out.pop()
        elif segment not in (b".", b""):
            out.append(segment)
    last = segments[-1]
    if last == b"..":
        if out:
            out.pop()
        last = b""
    elif last == b".":
        last = b""
    return b"/" + b"/".join([*out, last]) if out else b"/" + last


def normalize_target(target: bytes) -> bytes:
    """`path?query` with the path normalised and the query untouched."""
    path, mark, query = target.partition(b"?")
    normal = normalize_path(path)
    return normal + mark + query if normal is not path else target
