"""The secondary cache key: request header values named by a response's Vary (RFC 9111 section 4.1).

A stored response matches a request when, for every field named by its Vary, the request's value equals the
value in the request that produced the stored response, after the normalisations section 4.1 allows:
repeated field lines combined with ", " (RFC 9110 section 5.3) and whitespace around list commas removed
("1,2", " 1, 2 " and two lines "1" and "2" are one value). A field that is absent (None) never matches one
that is present, even empty (b""). Some fields also have a known case-insensitive syntax, and are
lower-cased (the table below). `Vary: *` (alone or among other names, on any line) never matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from edge.cache.fields import split_list, values

VARY_STAR: tuple[bytes, ...] = (b"*",)
NO_VARY: tuple[bytes, ...] = ()

# Fields whose values are case-insensitive tokens (RFC 9110 sections 12.5.3 and 12.5.4): lower-case them.
_NORMALISERS: dict[bytes, Callable[[bytes], bytes]] = {
    b"accept-encoding": bytes.lower,
    b"accept-language": bytes.lower,
}


_MEMO: dict[tuple[bytes, bytes], bytes] = {}
_MEMO_LIMIT = 4096


def vary_names(response_headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, ...]:
    """The field names in the response's Vary lines, lower-cased, sorted, deduplicated; VARY_STAR for `*`."""
    names: set[bytes] = set()
    for line in values(response_headers, b"vary"):
        names.update(member.lower() for member in split_list(line))
    if b"*" in names:
        return VARY_STAR
    return tuple(sorted(names))


def request_values(request_headers: Sequence[tuple[bytes, bytes]], names: Sequence[bytes]) -> tuple[bytes | None, ...]:
    """The normalised value of each field in `names` in the request (None when the request lacks it)."""
    if not names:
        return ()
    found: dict[bytes, list[bytes]] = {}
    for key, value in request_headers:  # one pass: this runs on every lookup of a varying resource
        key = key.lower()
        if key in names:
            found.setdefault(key, []).append(value)
    return tuple(normalised(name, found.get(name, ())) for name in names)


def normalised(name: bytes, lines: Sequence[bytes]) -> bytes | None:
    """One field's lines as one comparable value: members trimmed and joined with ", "; None when absent."""
    if not lines:
        return None
    if len(lines) == 1:  # the common case, memoised: the same few values come with every request
        key = (name, lines[0])
        found = _MEMO.get(key)
        if found is None:
            found = _normalise(name, lines)
            if len(_MEMO) >= _MEMO_LIMIT:
                _MEMO.clear()
            _MEMO[key] = found
        return found
    return _normalise(name, lines)


def _normalise(name: bytes, lines: Sequence[bytes]) -> bytes:
    value = b", ".join([member for line in lines for member in split_list(line)])
    normalise = _NORMALISERS.get(name)
    return value if normalise is None else normalise(value)


def matches(
    names: Sequence[bytes], stored_values: Sequence[bytes | None], request_headers: Sequence[tuple[bytes, bytes]]
) -> bool:
    """True when a response stored with `names`/`stored_values` may answer this request (section 4.1)."""
    if names == VARY_STAR:
        return False
    return request_values(request_headers, names) == tuple(stored_values)
