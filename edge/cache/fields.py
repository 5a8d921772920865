"""Reading HTTP fields out of raw header lists, the form ASGI and the upstream client hand us.

A header list is a sequence of `(name, value)` byte pairs in the order received. Request headers from ASGI
have lower-case names; response headers may come in any case, so every lookup here lower-cases the name it
compares. Repeated field lines are combined as RFC 9110 section 5.3 says: joined with ", " in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Headers = Sequence[tuple[bytes, bytes]]
HeaderList = list[tuple[bytes, bytes]]

_OWS = b" \t"


def values(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every field line value of `name` (lower-case), in order; empty when the field is absent."""
    return [value for key, value in headers if key.lower() == name]


def connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The options of every Connection line, lower case: the fields they name are hop-by-hop (RFC 9110
    section 7.6.1), for the forwarded request, the client's response, the store and a 101 alike."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(token.strip(_OWS).lower() for token in value.split(b","))
    return frozenset(tokens)


def combined(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The field's lines joined with ", " (RFC 9110 section 5.3), or None when the field is absent."""
    found = values(headers, name)
    if not found:
        return None
    return found[0].strip(_OWS) if len(found) == 1 else b", ".join(v.strip(_OWS) for v in found)


def first(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first field line of `name`, whitespace-trimmed, or None (RFC 9111 section 4.2.1: first occurrence)."""
    for key, value in headers:
        if key.lower() == name:
            return value.strip(_OWS)
    return None


def split_list(value: bytes) -> list[bytes]:
    """The members of a comma-separated list (RFC 9110 section 5.6.1), trimmed, empty members dropped.

    Commas inside quoted strings do not split (`no-cache="a, b"`, entity-tags with commas); an unterminated
    quote runs to the end of the value.
    """
    if b'"' not in value:
        return [m for m in (part.strip(_OWS) for part in value.split(b",")) if m]
    members: list[bytes] = []
    start = 0
    quoted = False
    escaped = False
    for index, byte in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash: quoted-pair
                escaped = True
            elif byte == 0x22:
                quoted = False
        elif byte == 0x22:
            quoted = True
        elif byte == 0x2C:
            members.append(value[start:index])
            start = index + 1
    members.append(value[start:])
    return [m for m in (part.strip(_OWS) for part in members) if m]


def without(headers: Iterable[tuple[bytes, bytes]], names: frozenset[bytes] | set[bytes]) -> HeaderList:
    """The header list minus every line whose lower-cased name is in `names`."""
    return [(key, value) for key, value in headers if key.lower() not in names]
