"""Accept-Encoding negotiation for precompressed static files (edge/codings.py), as a table; and the one
reading of the field shared with the compression of proxied responses."""

from __future__ import annotations

import pytest

from edge.codings import preference
from edge.proxy.compress import choose

CASES: list[tuple[bytes | None, tuple[str, ...]]] = [
    (None, ("identity",)),  # no field: the file as stored
    (b"", ("identity",)),  # an empty field: no coding wanted (RFC 9110 section 12.5.3)
    (b"gzip, deflate, br", ("br", "gzip", "identity")),  # equal q: br before gzip
    (b"gzip, deflate, br, zstd", ("br", "gzip", "identity")),
    (b"gzip", ("gzip", "identity")),
    (b"br", ("br", "identity")),
    (b"deflate, zstd", ("identity",)),  # nothing we have
    (b"br;q=0.5, gzip", ("gzip", "br", "identity")),  # q-values beat the server's order
    (b"gzip;q=1.0, br;q=1.0", ("br", "gzip", "identity")),
    (b"gzip;q=0.8, br;q=0.9", ("br", "gzip", "identity")),
    (b" gzip ; q=0.8 , br ; Q=0.9 ", ("br", "gzip", "identity")),  # whitespace, upper-case Q
    (b"GZIP, BR", ("br", "gzip", "identity")),  # codings are case-insensitive
    (b"x-gzip", ("gzip", "identity")),  # RFC 9110 section 8.4.1.3
    (b"gzip;q=0", ("identity",)),  # q=0: not acceptable
    (b"br;q=0, gzip", ("gzip", "identity")),
    (b"gzip;q=0.001", ("gzip", "identity")),  # named codings come before an unnamed identity
    (b"identity;q=0, gzip", ("gzip",)),  # identity refused
    (b"identity;q=0", ()),  # nothing acceptable: the caller serves the file as stored anyway
    (b"identity, gzip;q=0.5", ("identity", "gzip")),  # identity named with a higher q wins
    (b"identity;q=0.5, gzip;q=0.5", ("gzip", "identity")),  # equal q: compressed first
    (b"*", ("br", "gzip", "identity")),  # * stands for every coding not named
    (b"*;q=0", ()),  # * with q=0 and no identity member refuses identity too
    (b"*;q=0, identity", ("identity",)),
    (b"br;q=0, *", ("gzip", "identity")),
    (b"gzip, *;q=0.2", ("gzip", "br", "identity")),
    (b"gzip;q=2", ("identity",)),  # an invalid q-value refuses its coding (nginx)
    (b"gzip;q=0.0001", ("identity",)),
    (b"gzip;q=abc, br", ("br", "identity")),
    (b"gzip;q=abc, *", ("br", "identity")),  # ... which `*` then does not cover
    (b"gzip;q=1.000", ("gzip", "identity")),
    (b"gzip;q=1.001", ("identity",)),
    (b"gzip;level=9;q=0.5, br;q=0.4", ("gzip", "br", "identity")),  # other parameters are skipped
    (b"gzip;q=0, gzip", ("identity",)),  # a coding listed twice keeps its lower q
    (b"gzip, gzip;q=0", ("identity",)),
    (b"br;q=0.9, gzip;q=0.8, br;q=0.5", ("gzip", "br", "identity")),
    (b'gzip;foo="a,b", br;q=0.5', ("gzip", "br", "identity")),  # a comma inside quotes splits nothing
    (b",, gzip ,", ("gzip", "identity")),  # empty list members
]


@pytest.mark.parametrize(("accept", "expected"), CASES)
def test_preference(accept: bytes | None, expected: tuple[str, ...]) -> None:
    assert preference(accept) == expected


@pytest.mark.parametrize("accept", [accept for accept, _ in CASES if accept is not None])
def test_static_files_and_compressed_responses_read_the_field_alike(accept: bytes) -> None:
    """The coding a proxied response is compressed with is the first precompressed variant a static file
    would be served as (identity first, or none acceptable: no coding)."""
    first = next(iter(preference(accept)), "identity")
    assert choose(accept, True) == (None if first == "identity" else first)


def test_a_long_field_value_is_read_alike_and_never_kept() -> None:
    """Both memos keep only values up to MEMO_ITEM bytes: a client sending long, ever different values cannot
    make a worker hold them."""
    from edge import codings

    accept = b"gzip;q=0.5, " + b"x-custom, " * 40 + b"br"
    assert len(accept) > codings.MEMO_ITEM
    assert preference(accept) == ("br", "gzip", "identity")
    assert choose(accept, True) == "br"
    assert accept not in codings._WEIGHTS.data and accept not in codings._PREFERENCES.data
    short = b"gzip, br;q=0.9"
    assert preference(short) == ("gzip", "br", "identity")
    assert short in codings._WEIGHTS.data and short in codings._PREFERENCES.data
