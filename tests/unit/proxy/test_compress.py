"""Response compression as pure functions: Accept-Encoding negotiation (RFC 9110 section 12.5.3), which
responses are candidates, the coded response's headers, and the streaming encoder's round trips."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.proxy import compress
from edge.proxy.compress import (
    HAVE_BROTLI,
    MIN_LENGTH,
    Encoder,
    choose,
    compressed_304_headers,
    compressed_headers,
    negotiate,
    should_compress,
    vary_on_accept_encoding,
)

Headers = list[tuple[bytes, bytes]]

needs_brotli = pytest.mark.skipif(not HAVE_BROTLI, reason="the brotli package is absent (pip install 'edge[brotli]')")
CODINGS = ["gzip", pytest.param("br", marks=needs_brotli)]


def decoder(coding: str) -> Callable[[bytes], bytes]:
    """A streaming decoder: each call takes the next coded bytes and returns the content they complete."""
    if coding == "gzip":
        return zlib.decompressobj(31).decompress
    import brotli

    return brotli.Decompressor().process  # type: ignore[no-any-return]


# --- choose -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_encoding", "with_brotli", "without_brotli"),
    [
        (None, None, None),  # no field: identity, as every server does
        (b"", None, None),  # an empty field refuses every coding
        (b"gzip", "gzip", "gzip"),
        (b"gzip, deflate, br, zstd", "br", "gzip"),  # a browser: br before gzip at equal q
        (b"br", "br", None),
        (b"GZIP", "gzip", "gzip"),  # codings are case-insensitive
        (b"x-gzip", "gzip", "gzip"),  # RFC 9110 section 8.4.1.3
        (b"deflate, zstd", None, None),
        (b"*", "br", "gzip"),
        (b"gzip;q=0", None, None),
        (b"gzip;q=0, *", "br", None),  # `*` covers only codings not listed
        (b"*;q=0", None, None),
        (b"*;q=0, gzip", "gzip", "gzip"),
        (b"br;q=0.5, gzip", "gzip", "gzip"),
        (b"br;q=1.0, gzip;q=0.999", "br", "gzip"),
        (b"gzip;q=0.001", "gzip", "gzip"),
        (b"gzip ; Q=0.8 , br;q=0.9", "br", "gzip"),  # whitespace around `;`, `Q` in any case
        (b"gzip;q=0.8;level=1", "gzip", "gzip"),  # other parameters are ignored
        (b"gzip;q=abc, br", "br", None),  # an invalid q-value refuses the coding (nginx)
        (b"gzip;q=1.5", None, None),
        (b"gzip;q=0.1234", None, None),  # at most three decimals
        (b"gzip;q=0, gzip", None, None),  # listed twice: the refusal wins
        (b" , ,gzip,", "gzip", "gzip"),
        (b"gzip, identity;q=0", "gzip", "gzip"),
        (b"identity;q=0", None, None),  # nothing acceptable: the identity response anyway
        (b"gzip;q=0.5, identity", None, None),  # identity named with a higher q wins
        (b"gzip;q=0.5", "gzip", "gzip"),  # identity not named: it does not compete
        (b"gzip;q=0.5, *;q=0.8", "br", None),  # `*` gives br 0.8, and identity 0.8 beats gzip's 0.5
        (b"gzip;q=0.8, identity;q=0.8", "gzip", "gzip"),  # a tie with identity compresses
    ],
)
def test_choose(accept_encoding: bytes | None, with_brotli: str | None, without_brotli: str | None) -> None:
    assert choose(accept_encoding, True) == with_brotli
    assert choose(accept_encoding, False) == without_brotli


# --- should_compress --------------------------------------------------------------------------------------------

HTML: Headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"5000")]
REQUEST: Headers = [(b"host", b"shop.test"), (b"accept-encoding", b"gzip, br")]


def with_type(media: bytes, length: bytes | None = b"5000") -> Headers:
    return [(b"content-type", media)] + ([(b"content-length", length)] if length is not None else [])


@pytest.mark.parametrize(
    ("status", "method", "response", "request_", "expected"),
    [
        (200, "GET", HTML, REQUEST, True),
        (200, "POST", HTML, REQUEST, True),
        (201, "POST", HTML, REQUEST, True),
        (203, "GET", HTML, REQUEST, True),
        (404, "GET", HTML, REQUEST, True),
        (403, "GET", HTML, REQUEST, True),
        (500, "GET", HTML, REQUEST, True),
        (503, "GET", HTML, REQUEST, True),
        (200, "HEAD", HTML, REQUEST, False),
        (204, "GET", HTML, REQUEST, False),
        (206, "GET", HTML, REQUEST, False),
        (304, "GET", HTML, REQUEST, False),
        (301, "GET", HTML, REQUEST, False),
        (101, "GET", HTML, REQUEST, False),
        # already coded, even with a coding edge does not know
        (200, "GET", [*HTML, (b"content-encoding", b"gzip")], REQUEST, False),
        (200, "GET", [*HTML, (b"Content-Encoding", b"zstd")], REQUEST, False),
        (200, "GET", [*HTML, (b"content-encoding", b"")], REQUEST, True),
        # ranges
        (200, "GET", HTML, [*REQUEST, (b"range", b"bytes=0-99")], False),
        (200, "GET", [*HTML, (b"content-range", b"bytes 0-99/5000")], REQUEST, False),
        # no-transform, in the response or the request, in any case, among other directives
        (200, "GET", [*HTML, (b"cache-control", b"public, No-Transform")], REQUEST, False),
        (200, "GET", HTML, [*REQUEST, (b"cache-control", b"no-transform")], False),
        (200, "GET", [*HTML, (b"cache-control", b'private="no-transform"')], REQUEST, True),  # a field name
        (200, "GET", [*HTML, (b"cache-control", b"max-age=60")], REQUEST, True),
        # media types
        (200, "GET", with_type(b"application/json"), REQUEST, True),
        (200, "GET", with_type(b"application/problem+json"), REQUEST, True),
        (200, "GET", with_type(b"application/javascript; charset=utf-8"), REQUEST, True),
        (200, "GET", with_type(b"TEXT/CSS"), REQUEST, True),
        (200, "GET", with_type(b" text/plain ;charset=utf-8"), REQUEST, True),
        (200, "GET", with_type(b"image/svg+xml"), REQUEST, True),
        (200, "GET", with_type(b"application/atom+xml"), REQUEST, True),
        (200, "GET", with_type(b"application/wasm"), REQUEST, True),
        (200, "GET", with_type(b"font/ttf"), REQUEST, True),
        (200, "GET", with_type(b"image/png"), REQUEST, False),
        (200, "GET", with_type(b"image/webp"), REQUEST, False),
        (200, "GET", with_type(b"font/woff2"), REQUEST, False),
        (200, "GET", with_type(b"application/octet-stream"), REQUEST, False),
        (200, "GET", with_type(b"application/zip"), REQUEST, False),
        (200, "GET", with_type(b"video/mp4"), REQUEST, False),
        (200, "GET", with_type(b""), REQUEST, False),
        (200, "GET", [(b"content-length", b"5000")], REQUEST, False),  # no type: it may be anything
        # lengths
        (200, "GET", with_type(b"text/html", str(MIN_LENGTH).encode()), REQUEST, True),
        (200, "GET", with_type(b"text/html", str(MIN_LENGTH - 1).encode()), REQUEST, False),
        (200, "GET", with_type(b"text/html", b"0"), REQUEST, False),
        (200, "GET", with_type(b"text/html", None), REQUEST, True),  # unknown length: streamed
        # server-sent events: never when streamed, a finished one with its length is a plain text body
        (200, "GET", with_type(b"text/event-stream", None), REQUEST, False),
        (200, "GET", with_type(b"text/event-stream; charset=utf-8", None), REQUEST, False),
        (200, "GET", with_type(b"text/event-stream"), REQUEST, True),
    ],
)
def test_should_compress(status: int, method: str, response: Headers, request_: Headers, expected: bool) -> None:
    assert should_compress(status, method, response, request_) is expected


def test_should_compress_does_not_look_at_accept_encoding() -> None:
    """A candidate varies on Accept-Encoding whatever this client sent: `choose` decides the coding."""
    assert should_compress(200, "GET", HTML, [(b"host", b"shop.test")])


# --- headers ----------------------------------------------------------------------------------------------------


def test_compressed_headers_drop_identity_fields_and_keep_the_rest_in_order() -> None:
    headers = [
        (b"content-type", b"text/html"),
        (b"Content-Length", b"5000"),
        (b"accept-ranges", b"bytes"),
        (b"content-digest", b"sha-256=:abc=:"),
        (b"repr-digest", b"sha-256=:abc=:"),
        (b"set-cookie", b"a=1"),
        (b"cache-control", b"max-age=60"),
    ]
    assert compressed_headers(headers, "gzip") == [
        (b"content-type", b"text/html"),
        (b"set-cookie", b"a=1"),
        (b"cache-control", b"max-age=60"),
        (b"vary", b"Accept-Encoding"),
        (b"content-encoding", b"gzip"),
    ]
    assert compressed_headers([], "br") == [(b"vary", b"Accept-Encoding"), (b"content-encoding", b"br")]


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        ([], [b"Accept-Encoding"]),
        ([b"Origin"], [b"Origin, Accept-Encoding"]),
        ([b"Origin, Cookie"], [b"Origin, Cookie, Accept-Encoding"]),
        ([b"Origin,"], [b"Origin, Accept-Encoding"]),
        ([b""], [b"Accept-Encoding"]),
        ([b"accept-encoding"], [b"accept-encoding"]),  # named already, in any case
        ([b"Origin, ACCEPT-ENCODING"], [b"Origin, ACCEPT-ENCODING"]),
        ([b"Origin", b"Accept-Encoding"], [b"Origin", b"Accept-Encoding"]),  # on another line
        ([b"Origin", b"Cookie"], [b"Origin, Accept-Encoding", b"Cookie"]),  # merged into the first line
        ([b"*"], [b"*"]),  # `*` already covers it
        ([b"Origin", b"*"], [b"Origin", b"*"]),
    ],
)
def test_vary_gains_accept_encoding_once(vary: list[bytes], expected: list[bytes]) -> None:
    headers = [(b"content-type", b"text/html"), *((b"vary", v) for v in vary), (b"x-after", b"1")]
    for out in (vary_on_accept_encoding(headers), compressed_headers(headers, "gzip")):
        assert [v for n, v in out if n == b"vary"] == expected
        assert out[0] == (b"content-type", b"text/html")
    assert vary_on_accept_encoding(headers)[-1 if vary else -2] == (b"x-after", b"1")


@pytest.mark.parametrize(
    ("etag", "expected"),
    [
        (b'"v1"', b'W/"v1"'),  # strong becomes weak
        (b'W/"v1"', b'W/"v1"'),  # weak stays
        (b'""', b'W/""'),
        (b' "v1" ', b'W/"v1"'),
        (b"v1", None),  # not an entity-tag: dropped, as nginx does
        (b'w/"v1"', None),  # the weak indicator is case-sensitive
        (b'"', None),
    ],
)
def test_etag_becomes_weak(etag: bytes, expected: bytes | None) -> None:
    out = compressed_headers([(b"etag", etag), (b"content-type", b"text/html")], "gzip")
    assert [v for n, v in out if n == b"etag"] == ([expected] if expected is not None else [])


def test_304_headers_get_the_weak_etag_and_vary_of_a_coded_200_and_no_length() -> None:
    headers = [
        (b"etag", b'"v1"'),
        (b"content-length", b"5000"),
        (b"cache-control", b"max-age=60"),
        (b"vary", b"Origin"),
    ]
    assert compressed_304_headers(headers) == [
        (b"etag", b'W/"v1"'),
        (b"cache-control", b"max-age=60"),
        (b"vary", b"Origin, Accept-Encoding"),
    ]
    assert compressed_304_headers([(b"date", b"x")]) == [(b"date", b"x"), (b"vary", b"Accept-Encoding")]


# --- Encoder ----------------------------------------------------------------------------------------------------

BODY = b"".join(b'{"id": %d, "name": "item %d", "tags": ["a", "b"]}\n' % (i, i * 7) for i in range(600))


def chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize(
    "parts",
    [
        [BODY],
        chunked(BODY, 4096),
        chunked(BODY[:3000], 1),  # one byte at a time
        [b"", *chunked(BODY, 1000), b"", b""],  # empty chunks anywhere
        [],  # an empty body still makes a valid coded stream
        [b""],
    ],
    ids=["whole", "4k", "bytes", "empties", "nothing", "empty"],
)
def test_round_trip_chunk_by_chunk(coding: str, parts: list[bytes]) -> None:
    encoder = Encoder(coding)
    decode = decoder(coding)
    decoded = b""
    for part in parts:
        decoded += decode(encoder.feed(part))
    decoded += decode(encoder.finish())
    assert decoded == b"".join(parts)
    assert encoder.finish() == b""


@pytest.mark.parametrize("coding", CODINGS)
def test_every_chunk_is_decodable_as_soon_as_it_is_fed(coding: str) -> None:
    """The streaming policy: after each feed, the client can decode everything fed so far (an SSE-like
    stream of small events is never held back waiting for more input)."""
    encoder = Encoder(coding)
    decode = decoder(coding)
    fed = decoded = b""
    for index in range(50):
        event = b'data: {"tick": %d}\n\n' % index
        fed += event
        out = encoder.feed(event)
        assert out, "each event produces output at once"
        decoded += decode(out)
        assert decoded == fed
    decoded += decode(encoder.finish())
    assert decoded == fed


@pytest.mark.parametrize("coding", CODINGS)
def test_more_coming_defers_the_flush_and_an_empty_feed_flushes(coding: str) -> None:
    encoder = Encoder(coding)
    decode = decoder(coding)
    decoded = decode(encoder.feed(BODY[:100], more_coming=True))
    assert decoded != BODY[:100]  # held in the compressor, no flush yet
    decoded += decode(encoder.feed(b""))  # nothing new, but pending input: flushed
    assert decoded == BODY[:100]
    assert encoder.feed(b"") == b""  # nothing pending: no bytes for nothing
    decoded += decode(encoder.finish())
    assert decoded == BODY[:100]


@pytest.mark.parametrize("coding", CODINGS)
def test_feed_after_finish_is_an_error(coding: str) -> None:
    encoder = Encoder(coding)
    encoder.finish()
    with pytest.raises(ValueError, match="after finish"):
        encoder.feed(b"x")


def test_gzip_output_is_a_gzip_file_and_levels_apply() -> None:
    import gzip

    fast = Encoder("gzip", 1)
    small = Encoder("gzip", 9)
    coded_fast = fast.feed(BODY) + fast.finish()
    coded_small = small.feed(BODY) + small.finish()
    assert gzip.decompress(coded_fast) == gzip.decompress(coded_small) == BODY
    assert coded_fast[:2] == b"\x1f\x8b"  # the gzip magic: RFC 1952, not a zlib stream
    assert len(coded_small) < len(coded_fast)
    assert Encoder("gzip").coding == "gzip"


def test_unknown_coding_and_brotli_missing_name_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="'zstd'"):
        Encoder("zstd")
    monkeypatch.setattr(compress, "_CODECS", {"gzip": compress._CODECS["gzip"]})
    with pytest.raises(ValueError, match=r"pip install 'edge\[brotli\]'"):
        Encoder("br")


@needs_brotli
def test_brotli_output_is_smaller_than_gzip_on_text() -> None:
    import brotli

    br = Encoder("br")
    coded = br.feed(BODY) + br.finish()
    gz = Encoder("gzip")
    assert brotli.decompress(coded) == BODY
    assert len(coded) < len(gz.feed(BODY) + gz.finish())


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=3000) | st.text(alphabet='ab {}":,\n', max_size=3000).map(str.encode),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=12),
    more=st.lists(st.booleans(), min_size=13, max_size=13),
    coding=st.sampled_from(["gzip", "br"] if HAVE_BROTLI else ["gzip"]),
)
def test_any_chunking_round_trips_and_flushed_input_is_decodable(
    body: bytes, cuts: list[int], more: list[bool], coding: str
) -> None:
    bounds = [0, *sorted(min(c, len(body)) for c in cuts), len(body)]
    encoder = Encoder(coding)
    decode = decoder(coding)
    decoded = b""
    for index, (start, end) in enumerate(pairwise(bounds)):
        decoded += decode(encoder.feed(body[start:end], more_coming=more[index]))
        if not more[index]:
            assert decoded == body[:end]
    decoded += decode(encoder.finish())
    assert decoded == body


def test_negotiate_is_the_whole_decision_for_one_response() -> None:
    page = [(b"content-type", b"text/html"), (b"content-length", b"5000"), (b"etag", b'"v1"')]
    gzip_ok = [(b"accept-encoding", b"gzip")]
    assert negotiate(False, "GET", 200, page, gzip_ok) == (page, None)
    headers, encoder = negotiate(True, "GET", 200, page, gzip_ok)
    assert encoder is not None and (b"content-encoding", b"gzip") in headers and (b"etag", b'W/"v1"') in headers
    plain, none = negotiate(True, "GET", 200, page, [])
    assert none is None and (b"vary", b"Accept-Encoding") in plain
    assert negotiate(True, "HEAD", 200, page, gzip_ok)[1] is None
    not_modified, _ = negotiate(True, "GET", 304, [(b"etag", b'"v1"')], gzip_ok)
    assert (b"etag", b'W/"v1"') in not_modified
