"""Accept-Encoding (RFC 9110 section 12.5.3): which precompressed variant of a static file a client gets.

The static phase (static.py) may serve `name.br` or `name.gz` from beside `name`. `preference` turns the
request's Accept-Encoding into the order in which to try them:

- codings compare case-insensitively, and `x-gzip` is `gzip` (section 8.4.1.3);
- a q-value of 0 means "not acceptable" (section 12.4.2); a member with an invalid q-value (above 1, more
  than three decimals, not a number) is ignored, as if the client had not sent it;
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

import functools
import re

IDENTITY = "identity"
# Server preference on equal q, and the suffix of each coding's file: brotli first, it is the smaller.
CODINGS: tuple[tuple[str, str], ...] = (("br", ".br"), ("gzip", ".gz"))
_RANK = {"br": 0, "gzip": 1, IDENTITY: 2}
_ALIASES = {"x-gzip": "gzip"}
_QVALUE = re.compile(rb"0(\.\d{0,3})?|1(\.0{0,3})?")  # RFC 9110 section 12.4.2
_UNNAMED_IDENTITY = 0.0005  # below the smallest q a client can write (0.001): after every named coding


@functools.lru_cache(maxsize=512)
def preference(accept: bytes | None) -> tuple[str, ...]:
    """The acceptable codings among br, gzip and identity, best first; `accept` is the combined field value.

    Memoised: browsers send a handful of distinct Accept-Encoding values, so the parse runs once per value.
    """
    if accept is None:
        return (IDENTITY,)
    named: dict[str, float] = {}
    for member in accept.split(b","):  # the grammar has no quoted strings: a comma always separates
        token, _, params = member.partition(b";")
        name = token.strip(b" \t").lower().decode("latin-1")
        if not name:
            continue
        q = _qvalue(params)
        if q is not None:
            named.setdefault(_ALIASES.get(name, name), q)  # a repeated coding: its first member counts
    star = named.get("*")
    weights: dict[str, float] = {}
    for coding, _ in CODINGS:
        weights[coding] = named.get(coding, star if star is not None else 0.0)
    weights[IDENTITY] = named.get(IDENTITY, star if star is not None else _UNNAMED_IDENTITY)
    ranked = sorted((coding for coding, q in weights.items() if q > 0), key=lambda c: (-weights[c], _RANK[c]))
    return tuple(ranked)


def _qvalue(params: bytes) -> float | None:
    """The member's q parameter (1 when absent), or None when it is not a valid qvalue."""
    if not params:
        return 1.0
    for param in params.split(b";"):
        key, _, value = param.partition(b"=")
        if key.strip(b" \t").lower() == b"q":
            value = value.strip(b" \t")
            return float(value) if _QVALUE.fullmatch(value) else None
    return 1.0
