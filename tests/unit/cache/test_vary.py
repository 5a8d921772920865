"""The secondary key (RFC 9111 section 4.1), with the suite's vary and vary-parse cases."""

from __future__ import annotations

import pytest

from edge.cache.vary import NO_VARY, VARY_STAR, matches, normalised, request_values, vary_names

from .conftest import Spec, headers, stored


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ([], NO_VARY),
        ([("Vary", "Foo")], (b"foo",)),
        ([("Vary", "Foo, Bar")], (b"bar", b"foo")),
        ([("Vary", "foo"), ("Vary", "BAR, Foo")], (b"bar", b"foo")),
        ([("Vary", "Foo, Bar, Baz")], (b"bar", b"baz", b"foo")),
        ([("Vary", "")], NO_VARY),
        ([("Vary", "*")], VARY_STAR),
        ([("Vary", "*, *")], VARY_STAR),
        ([("Vary", "*"), ("Vary", "*")], VARY_STAR),
        ([("Vary", ", *")], VARY_STAR),
        ([("Vary", ""), ("Vary", "*")], VARY_STAR),
        ([("Vary", "*, Foo")], VARY_STAR),
        ([("Vary", "Foo, *")], VARY_STAR),
    ],
)
def test_vary_names(spec: Spec, expected: tuple[bytes, ...]) -> None:
    assert vary_names(headers(spec)) == expected


@pytest.mark.parametrize(
    ("name", "lines", "expected"),
    [
        (b"foo", [], None),
        (b"foo", [b""], b""),  # present but empty is not absent
        (b"foo", [b"1"], b"1"),
        (b"foo", [b"1, 2"], b"1, 2"),
        (b"foo", [b"1", b"2"], b"1, 2"),  # lines combined
        (b"foo", [b"1,2"], b"1, 2"),  # whitespace around commas removed
        (b"foo", [b" 1, 2 "], b"1, 2"),
        (b"foo", [b"A"], b"A"),  # unknown fields keep their case
        (b"accept-language", [b"eN, De"], b"en, de"),
        (b"accept-language", [b" en ,   de"], b"en, de"),
        (b"accept-encoding", [b"GZIP,br"], b"gzip, br"),
        (b"foo", [b'"a, b", c'], b'"a, b", c'),
    ],
)
def test_normalised(name: bytes, lines: list[bytes], expected: bytes | None) -> None:
    assert normalised(name, lines) == expected


# (request that stored it, Vary, request presented, match?)
CASES = [
    ([("Foo", "1")], "Foo", [("Foo", "1")], True),  # vary-match
    ([("Foo", "1")], "Foo", [("Foo", "2")], False),  # vary-no-match
    ([], "Foo", [("Foo", "1")], False),  # vary-omit-stored
    ([("Foo", "1")], "Foo", [], False),  # vary-omit
    ([("Foo", "1"), ("Other", "2")], "Foo", [("Foo", "1"), ("Other", "3")], True),  # vary-cache-key
    ([("Foo", "1"), ("Bar", "abc")], "Foo, Bar", [("Foo", "1"), ("Bar", "abc")], True),
    ([("Foo", "1"), ("Bar", "abc")], "Foo, Bar", [("Foo", "2"), ("Bar", "abc")], False),
    ([("Foo", "1"), ("Bar", "abc")], "Foo, Bar", [], False),
    (
        [("Foo", "1"), ("Bar", "abc"), ("Baz", "789")],
        "Foo, Bar, Baz",
        [("Foo", "2"), ("Bar", "abc"), ("Baz", "789")],
        False,
    ),
    (
        [("Foo", "1"), ("Bar", "abc"), ("Baz", "789")],
        "Foo, Bar, Baz",
        [("Foo", "1"), ("Baz", "789"), ("Bar", "abcde")],
        False,
    ),
    (
        [("Foo", "1"), ("Bar", "abc"), ("Baz", "789")],
        "Foo, Bar, Baz",
        [("Baz", "789"), ("Foo", "1"), ("Bar", "abc")],
        True,
    ),
    ([("Foo", "1"), ("Baz", "789")], "Foo, Bar, Baz", [("Foo", "1"), ("Baz", "789")], True),  # vary-3-omit
    ([("Foo", "1, 2")], "Foo", [("Foo", "1"), ("Foo", "2")], True),  # vary-normalise-combine
    ([("Foo", "1,2")], "Foo", [("Foo", " 1, 2 ")], True),  # vary-normalise-space
    ([("Accept-Language", "en, de")], "Accept-Language", [("Accept-Language", "eN, De")], True),
    ([("Accept-Language", "en, de")], "Accept-Language", [("Accept-Language", "de, en")], False),  # order may matter
    ([("Foo", "")], "Foo", [], False),  # present-empty vs absent
    ([("Foo", "")], "Foo", [("Foo", "")], True),
    ([("Foo", "1")], "*", [("Foo", "1")], False),  # vary-star
]


@pytest.mark.parametrize(("stored_request", "vary", "presented", "expected"), CASES)
def test_matches(stored_request: Spec, vary: str, presented: Spec, expected: bool) -> None:
    entry = stored([("Cache-Control", "max-age=5000"), ("Vary", vary)], request=stored_request)
    request = [(n.lower(), v) for n, v in headers(presented)]
    assert matches(entry.vary, entry.vary_values, request) is expected


def test_request_values_follow_the_names() -> None:
    request = [(b"b", b"2"), (b"a", b"1")]
    assert request_values(request, (b"a", b"b", b"c")) == (b"1", b"2", None)
    assert request_values(request, ()) == ()
