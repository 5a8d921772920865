"""Accept-Encoding (RFC 9110 section 12.5.3): which precompressed variant of a static file a client gets.

The static phase (static.py) may serve `name.br` or `name.gz` from beside `name`. `preference` turns the
request's Accept-Encoding into the order in which to try them; `weights` is the reading of the field it
shares with the compression of proxied responses (proxy/compress.py), so both answer alike:

- codings compare case-insensitively, and `x-gzip` is `gzip` (section 8.4.1.3);
- a q-value of 0 means "not acceptable" (section 12.4.2), and so does an invalid q-value (above 1, more
  than three decimals, not a number), as in nginx; a coding listed twice keeps its lower q;
- `*` gives its q-value to every coding the field does not name, identity included;
- highest q first; on equal q the server's order decides: br (smaller), then gzip, then identity;
- identity (the file as stored) is acceptable unless `identity;q=0`, or `*;q=0` without an identity
  member. When the client does not name it, it comes after every coding the client did name, whatever
  their q: a client that lists `gzip;q=0.5` wants gzip rather than nothing;
- no Accept-Encoding at all, or an empty one, is identity only. RFC 9110 would allow any coding for a
  request without the field, but nginx's gzip_static and Caddy's precompressed do not, and neither do we.

When nothing on the list is available (`identity;q=0` and no variant on disk), the caller still serves the
file as stored: section 12.5.3 lets a server ignore the field, and a 406 for a stylesheet only breaks a page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from edge.cache.fields import split_list
from edge.waf.bounded import BoundedCache

IDENTITY = "identity"
# Server preference on equal q, and the suffix of each coding's file: brotli first, it is the smaller.
CODINGS: tuple[tuple[str, str], ...] = (("br", ".br"), ("gzip", ".gz"))
_RANK = {"br": 0, "gzip": 1, IDENTITY: 2}
_ALIASES = {"x-gzip": "gzip"}  # RFC 9110 section 8.4.1.3
_QVALUE = re.compile(rb"0(\.\d{0,3})?|1(\.0{0,3})?")  # RFC 9110 section 12.4.2
_UNNAMED_IDENTITY = 0.0005  # below the smallest q a client can write (0.001): after every named coding


# Memos of both readings per field value: browsers send a handful of distinct values. Values over
# MEMO_ITEM bytes are parsed every time and never kept, so a client cannot pin memory with long ones.
MEMO_ITEM = 256
_WEIGHTS: BoundedCache[bytes, Mapping[str, float]] = BoundedCache(512, MEMO_ITEM)
_PREFERENCES: BoundedCache[bytes, tuple[str, ...]] = BoundedCache(512, MEMO_ITEM)


def weights(accept: bytes) -> Mapping[str, float]:
    """Coding (lower case, `x-gzip` as `gzip`) -> q of an Accept-Encoding value (its field lines joined by
    ", "): the one reading of the field for precompressed files and for compressing responses.

    A member whose q-value is invalid (above 1, more than three decimals, not a number) refuses its coding,
    as in nginx: a coding the client may have meant to refuse is not sent. A coding listed twice keeps its
    lower q: a refusal anywhere is a refusal.
    """
    found = _WEIGHTS.get(accept)
    if found is None:
        found = _parse(accept)
        _WEIGHTS.put(accept, found)
    return found


def _parse(accept: bytes) -> Mapping[str, float]:
    found: dict[str, float] = {}
    for member in split_list(accept):
        coding, *parameters = member.split(b";")
        name = coding.strip(b" \t").lower().decode("latin-1")
        name = _ALIASES.get(name, name)
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition(b"=")
            if key.strip(b" \t").lower() == b"q":
                value = value.strip(b" \t")
                q = float(value) if _QVALUE.fullmatch(value) else 0.0
        found[name] = min(q, found.get(name, q))
    return MappingProxyType(found)


def preference(accept: bytes | None) -> tuple[str, ...]:
    """The acceptable codings among br, gzip and identity, best first; `accept` is the combined field value."""
    if accept is None:
        return (IDENTITY,)
    found = _PREFERENCES.get(accept)
    if found is None:
        found = _ranked(weights(accept))
        _PREFERENCES.put(accept, found)
    return found


def _ranked(named: Mapping[str, float]) -> tuple[str, ...]:
    star = named.get("*")
    ranks: dict[str, float] = {}
    for coding, _ in CODINGS:
        ranks[coding] = named.get(coding, star if star is not None else 0.0)
    ranks[IDENTITY] = named.get(IDENTITY, star if star is not None else _UNNAMED_IDENTITY)
    return tuple(sorted((coding for coding, q in ranks.items() if q > 0), key=lambda c: (-ranks[c], _RANK[c])))
