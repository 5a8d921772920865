"""Validation: requests to the origin (RFC 9111 4.3.1), 304 updates (4.3.4, 3.2), client conditionals (4.3.2)."""

from __future__ import annotations

import pytest

from edge.cache.validation import (
    Conditional,
    client_conditional,
    freshen,
    freshened_headers,
    not_modified_headers,
    revalidation_headers,
    select_for_update,
    strong_match,
    variant_request_headers,
    weak_match,
)

from .conftest import Spec, T, headers, http_date, stored

LM = "Wed, 01 Jan 2020 00:00:00 GMT"


@pytest.mark.parametrize(
    ("a", "b", "weak", "strong"),
    [
        (b'"1"', b'"1"', True, True),
        (b'W/"1"', b'W/"1"', True, False),
        (b'W/"1"', b'"1"', True, False),
        (b'"1"', b'"2"', False, False),
        (b'W/"1"', b'W/"2"', False, False),
    ],
)
def test_entity_tag_comparison(a: bytes, b: bytes, weak: bool, strong: bool) -> None:
    # RFC 9110 section 8.8.3.2's table
    assert weak_match(a, b) is weak
    assert strong_match(a, b) is strong


def request(spec: Spec) -> list[tuple[bytes, bytes]]:
    return [(n.lower(), v) for n, v in headers(spec)]


def test_revalidation_sends_the_stored_validators_verbatim_and_drops_the_clients() -> None:
    entry = stored(
        [("Cache-Control", "max-age=2"), ("ETag", '"abcdef"'), ("Last-Modified", LM), ("Vary", "Abc")],
        request=[("Abc", "123")],
    )
    client = request(
        [
            ("Abc", "123"),
            ("If-None-Match", '"zzz"'),
            ("If-Modified-Since", -10),
            ("Range", "bytes=0-1"),
            ("If-Range", '"zzz"'),
            ("If-Match", "*"),
        ]
    )
    out = revalidation_headers(client, [entry])
    assert out == [(b"abc", b"123"), (b"if-none-match", b'"abcdef"'), (b"if-modified-since", LM.encode())]


@pytest.mark.parametrize(
    ("specs", "use_date", "expected"),
    [
        ([[("ETag", 'W/"abcdef"')]], True, [(b"if-none-match", b'W/"abcdef"')]),  # conditional-etag-weak-generate-weak
        ([[("Last-Modified", LM)]], True, [(b"if-modified-since", LM.encode())]),
        ([[("ETag", '"a"'), ("Last-Modified", LM)], [("ETag", '"b"')]], True, [(b"if-none-match", b'"a", "b"')]),
        ([[("ETag", '"a"')], [("ETag", '"a"')]], True, [(b"if-none-match", b'"a"')]),
        ([[("Date", 0)]], True, [(b"if-modified-since", http_date(0))]),
        ([[("Date", 0)]], False, []),
        ([[("Date", 0)], [("Date", 5)]], True, []),
    ],
)
def test_revalidation_headers(specs: list[Spec], use_date: bool, expected: list[tuple[bytes, bytes]]) -> None:
    entries = [stored([("Cache-Control", "max-age=2"), *spec]) for spec in specs]
    assert revalidation_headers([], entries, use_date=use_date) == expected


def test_variant_request_headers_rebuild_the_vary_fields() -> None:
    entry = stored([("Vary", "Foo, Bar, Baz")], request=[("Foo", "1"), ("Baz", "789"), ("Other", "x")])
    assert variant_request_headers(entry) == [(b"baz", b"789"), (b"foo", b"1")]


def test_select_for_update() -> None:
    a = stored([("ETag", '"a"')], response_time=T)
    a_later = stored([("ETag", '"a"')], response_time=T + 5)
    weak = stored([("ETag", 'W/"w"')], response_time=T)
    weak_later = stored([("ETag", 'W/"w"')], response_time=T + 9)
    dated = stored([("Last-Modified", LM)])
    bare = stored([("Cache-Control", "max-age=1")])
    assert select_for_update([a, weak, a_later], headers([("ETag", '"a"')])) == [0, 2]
    assert select_for_update([a], headers([("ETag", '"b"')])) == []
    assert select_for_update([weak], headers([("ETag", '"w"')])) == []  # strong 304 tag, weak stored tag
    assert select_for_update([weak, a, weak_later], headers([("ETag", 'W/"w"')])) == [2]
    assert select_for_update([a, dated], headers([("Last-Modified", LM)])) == [1]
    assert select_for_update([bare], headers([("Date", 0)])) == [0]
    assert select_for_update([a], headers([("Date", 0)])) == [0]  # edge's relaxation: the one validated
    assert select_for_update([a, bare], headers([("Date", 0)])) == []


def test_304_keeps_stored_fields_it_omits() -> None:
    # 304-lm-use-stored-Test-Header (required)
    entry = stored(
        [("Cache-Control", "max-age=2"), ("Last-Modified", LM), ("Date", 0), ("Test-Header", "aaaaaaaaaaaaaaa")]
    )
    merged = freshened_headers(entry.headers, headers([("Last-Modified", LM), ("Date", 3)]), response_time=T + 3)
    assert (b"Test-Header", b"aaaaaaaaaaaaaaa") in merged
    assert (b"Date", http_date(3)) in merged and (b"Date", http_date(0)) not in merged


@pytest.mark.parametrize(
    "name", ["Test-Header", "X-Test-Header", "Content-Foo", "X-Content-Foo", "Content-Type", "ETag"]
)
def test_304_replaces_fields_it_carries(name: str) -> None:
    entry = stored([("Date", 0), (name, "old"), ("Cache-Control", "max-age=2"), ("ETag", '"e"')])
    merged = freshened_headers(
        entry.headers, headers([("Date", 0), (name, "new"), ("Cache-Control", "max-age=3600")]), response_time=T
    )
    values = [v for n, v in merged if n.lower() == name.lower().encode()]
    assert values == [b"new"]
    assert [v for n, v in merged if n.lower() == b"cache-control"] == [b"max-age=3600"]


def test_304_never_updates_content_length_or_hop_by_hop_fields() -> None:
    # 304-etag-update-response-Content-Length (required)
    entry = stored([("Date", 0), ("Content-Length", "36"), ("Cache-Control", "max-age=2"), ("ETag", '"e"')])
    update = headers(
        [
            ("Date", 0),
            ("Content-Length", "10"),
            ("Connection", "x-hop, keep-alive"),
            ("X-Hop", "1"),
            ("Keep-Alive", "5"),
            ("Transfer-Encoding", "chunked"),
        ]
    )
    merged = freshened_headers(entry.headers, update, response_time=T)
    assert [v for n, v in merged if n.lower() == b"content-length"] == [b"36"]
    assert not {n.lower() for n, _ in merged} & {b"x-hop", b"keep-alive", b"transfer-encoding", b"connection"}


def test_304_without_date_or_age() -> None:
    entry = stored([("Date", -100), ("Age", "50"), ("Cache-Control", "max-age=200"), ("ETag", '"e"')])
    merged = freshened_headers(entry.headers, headers([("ETag", '"e"')]), response_time=T + 4)
    assert (b"date", http_date(4)) in merged
    assert all(n.lower() != b"age" for n, _ in merged)
    merged = freshened_headers(entry.headers, headers([("ETag", '"e"'), ("Age", "7")]), response_time=T + 4)
    assert [v for n, v in merged if n.lower() == b"age"] == [b"7"]


def test_freshen_builds_a_new_fresh_entry() -> None:
    # 304-etag-update-response-Cache-Control: max-age=1 becomes max-age=3600 and is reused afterwards
    entry = stored(
        [("Date", 0), ("Cache-Control", "max-age=1"), ("ETag", '"e"'), ("Vary", "Foo")],
        body=b"payload",
        request=[("Foo", "1")],
    )
    assert not entry.is_fresh(T + 3)
    update = headers([("Date", 3), ("Cache-Control", "max-age=3600"), ("ETag", '"e"')])
    fresh = freshen(entry, update, request_headers=request([("Foo", "1")]), request_time=T + 3, response_time=T + 3.1)
    assert fresh.body == b"payload" and fresh.status == 200
    assert fresh.lifetime == 3600 and fresh.is_fresh(T + 6)
    assert fresh.response_time == T + 3.1 and fresh.vary_values == (b"1",)


CONDITIONAL_CASES = [
    # conditional-etag-strong-respond, -weak-respond, -multiple-*
    ([("ETag", '"abcdef"')], [("If-None-Match", '"abcdef"')], "GET", Conditional.NOT_MODIFIED),
    ([("ETag", 'W/"abcdef"')], [("If-None-Match", 'W/"abcdef"')], "GET", Conditional.NOT_MODIFIED),
    ([("ETag", '"abcdef"')], [("If-None-Match", 'W/"abcdef"')], "HEAD", Conditional.NOT_MODIFIED),
    ([("ETag", '"abcdef"')], [("If-None-Match", '"abcdef", "1234", "5678"')], "GET", Conditional.NOT_MODIFIED),
    ([("ETag", '"abcdef"')], [("If-None-Match", '"1234", "abcdef", "5678"')], "GET", Conditional.NOT_MODIFIED),
    (
        [("ETag", '"abcdef"')],
        [("If-None-Match", '"1234"'), ("If-None-Match", '"abcdef"')],
        "GET",
        Conditional.NOT_MODIFIED,
    ),
    ([("ETag", '"abcdef"')], [("If-None-Match", "*")], "GET", Conditional.NOT_MODIFIED),
    ([("ETag", '"abcdef"')], [("If-None-Match", '"1234"')], "GET", Conditional.NONE),
    ([("ETag", '"abc,def"')], [("If-None-Match", '"abc,def"')], "GET", Conditional.NOT_MODIFIED),
    ([], [("If-None-Match", '"abcdef"')], "GET", Conditional.NONE),
    # conditional-etag-precedence: If-None-Match decides; If-Modified-Since is not looked at
    (
        [("ETag", '"abcdef"'), ("Last-Modified", -5000)],
        [("If-None-Match", '"abcdef"'), ("If-Modified-Since", -10000)],
        "GET",
        Conditional.NOT_MODIFIED,
    ),
    (
        [("ETag", '"abcdef"'), ("Last-Modified", -5000)],
        [("If-None-Match", '"x"'), ("If-Modified-Since", 0)],
        "GET",
        Conditional.NONE,
    ),
    # conditional-lm-fresh, -earlier, rfc850
    ([("Last-Modified", -3000)], [("If-Modified-Since", -3000)], "GET", Conditional.NOT_MODIFIED),
    ([("Last-Modified", -3000)], [("If-Modified-Since", -2000)], "GET", Conditional.NOT_MODIFIED),
    ([("Last-Modified", -3000)], [("If-Modified-Since", -4000)], "GET", Conditional.NONE),
    (
        [("Last-Modified", "Wed, 01 Jan 2020 00:00:00 GMT")],
        [("If-Modified-Since", "Wednesday, 01-Jan-20 00:00:00 GMT")],
        "GET",
        Conditional.NOT_MODIFIED,
    ),
    ([("Last-Modified", -3000)], [("If-Modified-Since", "yesterday")], "GET", Conditional.NONE),
    ([], [("If-Modified-Since", 100)], "GET", Conditional.NOT_MODIFIED),  # no Last-Modified: Date (0) is used
    ([], [("If-Modified-Since", -100)], "GET", Conditional.NONE),
    # not for other methods; If-Match and If-Unmodified-Since are the origin's
    ([("Last-Modified", -3000)], [("If-Modified-Since", -3000)], "POST", Conditional.NONE),
    ([("ETag", '"abcdef"')], [("If-Match", '"abcdef"')], "GET", Conditional.FORWARD),
    ([("ETag", '"abcdef"')], [("If-Unmodified-Since", 0), ("If-None-Match", '"abcdef"')], "GET", Conditional.FORWARD),
    ([("ETag", '"abcdef"')], [], "GET", Conditional.NONE),
]


@pytest.mark.parametrize(("spec", "request_spec", "method", "expected"), CONDITIONAL_CASES)
def test_client_conditional(spec: Spec, request_spec: Spec, method: str, expected: Conditional) -> None:
    entry = stored([("Cache-Control", "max-age=100000"), ("Date", 0), *spec])
    assert client_conditional(method, request(request_spec), entry) is expected


def test_client_conditionals_apply_only_to_2xx() -> None:
    entry = stored([("Cache-Control", "max-age=100000"), ("ETag", '"a"')], status=404)
    assert client_conditional("GET", request([("If-None-Match", '"a"')]), entry) is Conditional.NONE


def test_not_modified_headers() -> None:
    # conditional-304-etag: the 304 carries the ETag (and RFC 9110 15.4.5's other fields)
    spec = [("Cache-Control", "max-age=100000"), ("Date", 0), ("ETag", '"abcdef"'), ("Content-Type", "text/plain"),
            ("Vary", "Foo"), ("Expires", 100), ("Content-Location", "/x"), ("Last-Modified", -10), ("X-Other", "1")]  # fmt: skip
    names = [n for n, _ in not_modified_headers(stored(spec))]
    assert names == [b"Cache-Control", b"Date", b"ETag", b"Vary", b"Expires", b"Content-Location"]
    without_etag = [(n, v) for n, v in spec if n != "ETag"]
    assert b"Last-Modified" in [n for n, _ in not_modified_headers(stored(without_etag))]
