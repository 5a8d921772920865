"""The Structured Field Dictionary parser (RFC 8941 section 4.2.2), as far as targeted fields need it."""

from __future__ import annotations

import pytest

from edge.cache.structured import Token, parse_dictionary


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"a=1, b=2", {"a": 1, "b": 2}),
        (b"a", {"a": True}),
        (b"a=?0", {"a": False}),
        (b'a="x\\"y"', {"a": 'x"y'}),
        (b"a=tok/en:1", {"a": "tok/en:1"}),
        (b"a=-12, b=1.5", {"a": -12, "b": 1.5}),
        (b"a=:aGVsbG8=:", {"a": b"hello"}),
        (b"a=(1 2 x);p=1", {"a": [1, 2, "x"]}),
        (b"a;p=1;q, b=2", {"a": True, "b": 2}),
        (b"a=1,b=2", {"a": 1, "b": 2}),
        (b"a=1 ,\tb=2", {"a": 1, "b": 2}),
        (b"a=1, a=2", {"a": 2}),  # a later key overwrites (RFC 8941 4.2.2)
        (b"  a=1", {"a": 1}),
        (b"*a_b.c-d=1", {"*a_b.c-d": 1}),
        (b"", {}),
    ],
)
def test_valid(value: bytes, expected: dict[str, object]) -> None:
    assert parse_dictionary(value) == expected


def test_tokens_are_told_from_strings() -> None:
    parsed = parse_dictionary(b'a=x, b="x"')
    assert parsed is not None
    assert isinstance(parsed["a"], Token)
    assert not isinstance(parsed["b"], Token)


@pytest.mark.parametrize(
    "value",
    [
        b"A=1",
        b"a =1",
        b"a= 1",
        b"a=1,",
        b"a=1 b=2",
        b"a=1, &&&",
        b"a=1234567890123456",  # 16 digits
        b"a=1.2345",
        b"a=1234567890123.1",
        b"a=-",
        b'a="unterminated',
        b'a="\\n"',
        b"a=?2",
        b"a=:not base64!:",
        b"a=(1 2",
        b"a=(1,2)",
        b"a=@",
        'a="\u00fc"'.encode(),
    ],
)
def test_invalid(value: bytes) -> None:
    assert parse_dictionary(value) is None
