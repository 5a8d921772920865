"""Accept-Encoding negotiation for precompressed static files (edge/codings.py), as a table."""

from __future__ import annotations

import pytest

from edge.codings import preference

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
    (b"gzip;q=2", ("identity",)),  # invalid q-values: the member is ignored
    (b"gzip;q=0.0001", ("identity",)),
    (b"gzip;q=abc, br", ("br", "identity")),
    (b"gzip;q=1.000", ("gzip", "identity")),
    (b"gzip;q=1.001", ("identity",)),
    (b"gzip;level=9;q=0.5, br;q=0.4", ("gzip", "br", "identity")),  # other parameters are skipped
    (b"gzip;q=0, gzip", ("identity",)),  # a repeated coding: the first member counts
    (b",, gzip ,", ("gzip", "identity")),  # empty list members
]


@pytest.mark.parametrize(("accept", "expected"), CASES)
def test_preference(accept: bytes | None, expected: tuple[str, ...]) -> None:
    assert preference(accept) == expected
