"""Response compression per site (`[[site]] compress = true`): gzip, or brotli when it is installed, for text
bodies the origin left uncompressed; streamed chunk by chunk, never a whole body held in memory.

The response phase calls these in order (figures and reasons for the defaults: COMPRESS_NOTES.md):

- `should_compress(status, method, response_headers, request_headers)`: is the response a candidate at all.
  A candidate's content depends on the client's Accept-Encoding, so it gets `Vary: Accept-Encoding` even
  when this client receives it uncompressed (`vary_on_accept_encoding`, nginx's `gzip_vary on`): a shared
  cache downstream must not serve the identity response as the answer for every client, or the reverse.
- `choose(accept_encoding, HAVE_BROTLI)`: the coding this client accepts best (RFC 9110 section 12.5.3).
- `compressed_headers(headers, coding)`: the response's headers once its content is coded;
  `compressed_304_headers(headers)` for a 304 answering a client that `choose` gives a coding.
- `Encoder(coding)`: `feed(chunk)` per body chunk, `finish()` once at the end; each call returns bytes to send.

Compression is a transformation of the content (RFC 9110 section 7.7), so `Cache-Control: no-transform` in the
response or the request (RFC 9111 sections 5.2.2.6 and 5.2.1.6) turns it off.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import Protocol

from edge.cache.directives import parse_cache_control
from edge.cache.fields import HeaderList, Headers, combined, first, split_list, values
from edge.codings import weights

try:
    import brotli
except ImportError:  # optional: `pip install edge[brotli]`; without it only gzip is offered
    HAVE_BROTLI = False
else:
    HAVE_BROTLI = True

# Defaults, from the figures in COMPRESS_NOTES.md (20 KiB JSON and HTML, per response):
GZIP_LEVEL = 5  # output about 1% larger than level 6 for 12-21% less CPU; level 9 costs 3.5x for 4% less
BROTLI_QUALITY = 4  # up to 6% smaller than gzip 5 for 6-41% more CPU; 5 costs 1.3-1.8x, 6.6x flushed per 4 KiB
BROTLI_WINDOW = 19  # lgwin 19, 512 KiB (nginx's brotli_window): at 22 a 4 MiB body keeps 4.6 MiB per encoder
MIN_LENGTH = 256  # gzip saves 14% at 256 bytes and nothing under 128 (nginx 20 bytes, Caddy 512, Traefik 1024)

# Statuses whose body is a representation or an error page. nginx's gzip compresses 200, 403 and 404 only;
# other 2xx and every 4xx/5xx page compress as well. Never 1xx, 204, 205 and 304 (no body), 206 (a byte range
# of the identity representation), nor 3xx, whose bodies are vestigial.
STATUSES = frozenset({200, 201, 202, 203, *range(400, 600)})

# Media types that compress (a lower-case type/subtype, parameters removed): every text/*, structured
# suffixes (RFC 6839), and the uncompressed binary formats Cloudflare also compresses. Images, audio, video,
# fonts in WOFF/WOFF2 and archives are compressed already: coding them again costs CPU and gains nothing.
_TYPES = frozenset(
    {
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/json",
        "application/x-ndjson",
        "application/xml",
        "application/yaml",
        "application/wasm",
        "application/vnd.ms-fontobject",
        "font/ttf",
        "font/otf",
        "image/bmp",
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
)
_PREFIXES = ("text/",)
_SUFFIXES = ("+json", "+xml", "+yaml")
_EVENT_STREAM = "text/event-stream"

# Fields that describe the identity bytes and would be wrong for the coded ones: the length, byte ranges of
# the identity representation (nginx clears Accept-Ranges too), and digests of the content (RFC 9530).
_IDENTITY_ONLY = frozenset(
    {
        b"content-length",
        b"content-encoding",
        b"accept-ranges",
        b"content-digest",
        b"repr-digest",
        b"digest",
        b"content-md5",
    }
)
_OWS = b" \t"


def choose(accept_encoding: bytes | None, have_brotli: bool) -> str | None:
    """The content coding to send ("br" or "gzip"), or None to send the identity response.

    `accept_encoding` is the request's Accept-Encoding with its field lines joined by ", " (None when absent).
    RFC 9110 section 12.5.3: codings are case-insensitive, `q=0` refuses one, `*` stands for every coding not
    listed, an empty field refuses all. The highest q wins; at equal q, br (the smaller output, for more CPU:
    COMPRESS_NOTES.md) before gzip. Identity competes only when the field names it (or `*` covers it) with a
    higher q than the best coding: `gzip;q=0.5, identity` gets the identity response, `gzip;q=0.5` gets gzip.
    A request without Accept-Encoding gets identity, although the RFC lets any coding be sent then: that is
    what every server does, and `curl` without `--compressed` reads the body it expects.
    An invalid q-value counts as q=0, like nginx: a coding the client may have meant to refuse is not sent.
    """
    if accept_encoding is None:
        return None
    return _choose(weights(accept_encoding), have_brotli)


def _choose(accepted: Mapping[str, float], have_brotli: bool) -> str | None:
    star = accepted.get("*")
    best: str | None = None
    best_q = 0.0
    for coding in ("br", "gzip") if have_brotli else ("gzip",):
        q = accepted.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    identity = accepted.get("identity", star)
    if best is None or (identity is not None and identity > best_q):
        return None
    return best


def should_compress(status: int, request_method: str, response_headers: Headers, request_headers: Headers) -> bool:
    """True when the response may be compressed for a client that accepts a coding (the caller then asks
    `choose`), and varies on Accept-Encoding; False sends it untouched.

    False for: a status outside `STATUSES`; HEAD (no body; nginx does the same, so HEAD shows identity
    headers); a response with a Content-Encoding already (never coded twice); a Range request or a
    Content-Range response (the ranges are of the identity bytes, RFC 9110 section 14); `no-transform` in
    the request's or response's Cache-Control; a media type outside the table above, or none; a
    Content-Length below `MIN_LENGTH` (the coded body would barely shrink, or grow: gzip adds 18 bytes);
    and an event stream without Content-Length: SSE events must reach the client as they happen, and
    clients and proxies between expect them uncompressed. A response without Content-Length is otherwise
    a candidate: its size is unknown, and the encoder streams it.
    """
    if status not in STATUSES or request_method == "HEAD":
        return False
    if combined(response_headers, b"content-encoding") or first(response_headers, b"content-range") is not None:
        return False
    if first(request_headers, b"range") is not None:
        return False
    for headers in (response_headers, request_headers):
        if parse_cache_control(values(headers, b"cache-control")).no_transform:
            return False
    media = _media_type(response_headers)
    if media is None or not _compressible(media):
        return False
    length = first(response_headers, b"content-length")
    if length is None or not length.isdigit():
        return media != _EVENT_STREAM
    return int(length) >= MIN_LENGTH


def _media_type(headers: Headers) -> str | None:
    value = first(headers, b"content-type")
    if value is None:
        return None
    return value.split(b";", 1)[0].strip(_OWS).lower().decode("latin-1") or None


def _compressible(media: str) -> bool:
    return media in _TYPES or media.startswith(_PREFIXES) or media.endswith(_SUFFIXES)


def vary_on_accept_encoding(headers: Headers) -> HeaderList:
    """The headers with Accept-Encoding in Vary (RFC 9110 section 12.5.5): merged into the first Vary line,
    or a new line when there is none; unchanged when Vary already names it or is `*` (which covers it)."""
    members = [member.lower() for line in values(headers, b"vary") for member in split_list(line)]
    if b"*" in members or b"accept-encoding" in members:
        return list(headers)
    out: HeaderList = []
    merged = False
    for name, value in headers:
        if not merged and name.lower() == b"vary":
            kept = value.strip(_OWS).rstrip(b", \t")
            value = kept + b", Accept-Encoding" if kept else b"Accept-Encoding"
            merged = True
        out.append((name, value))
    if not merged:
        out.append((b"vary", b"Accept-Encoding"))
    return out


def compressed_headers(headers: Headers, coding: str) -> HeaderList:
    """The response headers for the body coded with `coding`, for a response `should_compress` accepted.

    Content-Encoding is set; Content-Length goes (the coded length is not known before the end: the body is
    sent chunked); Accept-Ranges and digests of the identity bytes go; Vary gains Accept-Encoding; a strong
    ETag becomes weak (`"x"` -> `W/"x"`, as nginx does since 1.7.3): the coded bytes are not the bytes the
    origin's strong validator names (RFC 9110 section 8.8.1), but they are semantically equivalent, which
    is what a weak validator promises, so If-None-Match still revalidates (weak comparison, RFC 9110
    section 13.1.2) while If-Range, which needs a strong one, cannot splice identity bytes into coded ones.
    An ETag that is not an entity-tag is dropped, as nginx does. Every other field is kept, in order.
    """
    kept = [(name, value) for name, value in headers if name.lower() not in _IDENTITY_ONLY]
    return [*compressed_304_headers(kept), (b"content-encoding", coding.encode("ascii"))]


def compressed_304_headers(headers: Headers) -> HeaderList:
    """The headers of a 304 to a client that `choose` gives a coding, on a site that compresses: Vary gains
    Accept-Encoding and a strong ETag becomes weak, as in the 200 it revalidates, which may have been coded;
    Content-Length goes (RFC 9110 section 8.6 allows it in a 304 only with the 200's length, unknown when coded).

    RFC 9110 section 15.4.5: a 304 carries the ETag and Vary the 200 would have had, and the client's cache
    replaces its stored ones with them (RFC 9111 section 4.3.4). A strong ETag there would mark the coded
    body it holds as byte-identical to the origin's, and a later `If-Range` could splice identity bytes into
    it. A 304 has no Content-Type to tell whether the 200 was coded; weakening the ETag of one that was not
    only costs a later range request its If-Range (it gets the whole response).
    """
    out: HeaderList = []
    for name, value in vary_on_accept_encoding(headers):
        lower = name.lower()
        if lower == b"content-length":
            continue
        if lower == b"etag":
            weak = _weak_etag(value)
            if weak is None:
                continue
            value = weak
        out.append((name, value))
    return out


def _weak_etag(value: bytes) -> bytes | None:
    value = value.strip(_OWS)
    if value.startswith(b'W/"'):  # RFC 9110 section 8.8.3: the weak indicator is case-sensitive
        return value
    if len(value) >= 2 and value.startswith(b'"') and value.endswith(b'"'):
        return b"W/" + value
    return None


class _Codec(Protocol):
    def process(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    """zlib's deflate in a gzip wrapper (wbits 16 + 15: RFC 1952 framing, a 32 KiB window)."""

    __slots__ = ("_deflate",)

    def __init__(self, level: int) -> None:
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, 31)

    def process(self, data: bytes) -> bytes:
        return self._deflate.compress(data)

    def flush(self) -> bytes:
        # Z_SYNC_FLUSH: everything fed so far becomes decodable output, ending on a byte boundary; the window
        # is kept, so later data still refers back to earlier data (Z_FULL_FLUSH would reset it).
        return self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._deflate.flush(zlib.Z_FINISH)


def _brotli(quality: int) -> _Codec:
    codec: _Codec = brotli.Compressor(quality=quality, lgwin=BROTLI_WINDOW)
    return codec


# Content coding -> (codec factory, default level).
_CODECS: dict[str, tuple[Callable[[int], _Codec], int]] = {"gzip": (_Gzip, GZIP_LEVEL)}
if HAVE_BROTLI:
    _CODECS["br"] = (_brotli, BROTLI_QUALITY)


class Encoder:
    """One response body's encoder: `feed` each chunk as it arrives, then `finish` once; every call returns the
    coded bytes to send now (possibly b"").

    Streaming policy: `feed` ends with a sync flush, so that all the input so far is in the returned output
    and the client can decode it: a stream (SSE-like, long polling, progressive HTML) is never held back by
    the compressor waiting for more input. A flush ends the block (an empty stored block, then new code tables:
    about 25 bytes, +1.9% at 4 KiB reads for gzip, +37% at 256-byte reads); the gateway's chunks are everything
    the origin had sent when the gateway read (the upstream reader joins what it buffered), so there is one
    flush per read, not per origin write. A caller that knows more input follows at once (the last read before
    `finish`, a stored body fed in parts) passes `more_coming=True` to skip the flush. An empty chunk flushes
    only input not yet flushed, so it never adds bytes by itself.

    `level` defaults to GZIP_LEVEL or BROTLI_QUALITY. ValueError for a coding without an encoder ("br" when
    the brotli package is not installed: `choose(..., HAVE_BROTLI)` never picks it then), and for `feed`
    after `finish`; `finish` again returns b"".
    """

    __slots__ = ("_codec", "_done", "_pending", "coding")

    def __init__(self, coding: str, level: int | None = None) -> None:
        entry = _CODECS.get(coding)
        if entry is None:
            raise ValueError(
                f"no encoder for the content coding {coding!r}: known are {', '.join(_CODECS)} "
                "(br needs the brotli package: pip install 'edge[brotli]')"
            )
        factory, default = entry
        self.coding = coding
        self._codec = factory(default if level is None else level)
        self._pending = False  # input fed since the last flush
        self._done = False

    def feed(self, chunk: bytes, more_coming: bool = False) -> bytes:
        if self._done:
            raise ValueError("Encoder.feed() after finish(): the coded stream has ended")
        out = b""
        if chunk:
            out = self._codec.process(chunk)
            self._pending = True
        if self._pending and not more_coming:
            out += self._codec.flush()
            self._pending = False
        return out

    def finish(self) -> bytes:
        """The end of the coded stream (the gzip trailer with its CRC and length, brotli's last block)."""
        if self._done:
            return b""
        self._done = True
        return self._codec.finish()


def negotiate(
    enabled: bool, method: str, status: int, headers: Headers, request_headers: Headers
) -> tuple[HeaderList, Encoder | None]:
    """A response's headers (a new list: the caller's to extend) and its encoder for one request, when the site
    compresses (`compress = true`); the headers as they are and None otherwise. Callers keep the body as the origin sent it (the cache
    stores that), so one stored copy serves every Accept-Encoding."""
    if not enabled:
        return list(headers), None
    accept = [value for name, value in request_headers if name == b"accept-encoding"]
    coding = choose(b", ".join(accept) if accept else None, HAVE_BROTLI)
    if status == 304:
        return (compressed_304_headers(headers) if coding is not None else list(headers)), None
    if not should_compress(status, method, headers, request_headers):
        return list(headers), None
    if coding is None:
        return vary_on_accept_encoding(headers), None
    return compressed_headers(headers, coding), Encoder(coding)
