"""The static phase: `[site.static]` folders served by the gateway itself, after the WAF and rate limits.

A request whose path starts with one of its site's static prefixes is answered here and never reaches an
origin, not even for a 404. Only GET and HEAD (405 with `Allow: GET, HEAD` otherwise). What is served:

- a regular file inside the folder (staticpath.py says which paths and symlinks qualify), with
  Content-Type (mediatypes.py), Content-Length, Last-Modified, a strong ETag from the file's mtime in
  nanoseconds and size (nginx's recipe, finer), Accept-Ranges, and the site's `static_cache_control`;
- its precompressed sibling `name.br` or `name.gz` when the client accepts that coding (codings.py), with
  Content-Encoding and an ETag of its own (RFC 9110 section 8.8.3: a different representation needs a
  different tag, or a cache could answer a gzip client with brotli bytes). `Vary: Accept-Encoding` goes on
  every variant, the uncompressed one included, whenever a sibling exists (RFC 9110 section 12.5.5);
- a folder asked for with a trailing slash: its index.html, or 404; there is never a listing. Without the
  slash, 301 to the slash form when an index.html is there (nginx's answer, so that the page's relative
  links resolve), else 404: a redirect promises a page. The Location is the request's own normalised path
  plus `/` and its query, a relative reference (RFC 9110 section 10.2.2): no host, nothing internal;
- preconditions in RFC 9110 section 13.2.2's order: If-Match and If-Unmodified-Since (412), If-None-Match
  (weak comparison) or else If-Modified-Since (304, with ETag, Vary and Cache-Control; section 15.4.5);
  one byte range as a 206, 416 when it starts past the end, and the whole file for several ranges, for a
  Range edge cannot read, or when If-Range does not match strongly (preconditions.py, section 14.2).

Every answer carries edge's own headers (Edge-Request-Id, the rate-limit fields, HSTS) like a forwarded one,
and the access-log line says `"cache": "static"`.

Why not Starlette's StaticFiles and FileResponse (STATIC_NOTES.md has the measurements): 420-560 µs per
1 KiB file on this machine against 13 µs here (tests/bench/static_bench.py), because every stat, open, read
and close goes through a thread (anyio.to_thread, 40-60 µs a hop here), and uvicorn's ASGI 2.3 scope makes
FileResponse start a task group per response to watch for a disconnect. They also answer 400 to a Range they cannot parse (section 14.2 says ignore it),
206 to HEAD, label `app.css.gz` as text/css without a Content-Encoding, and know no precompressed files.
StaticFiles' path rule (real path inside the folder's real path) is kept, in staticpath.py.

Small files (up to SMALL_FILE) are read in one call on the event loop: from the page cache that is a few
microseconds, less than a hop to a thread. Bigger ones are read in CHUNK pieces in a worker thread, so that
a cold disk stalls only this response, and sent as the client takes them (uvicorn's send waits while the
socket's buffer is full). With TLS done in Python there is no sendfile: the bytes must pass the SSL object.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from edge.cache.httpdate import format_http_date
from edge.cache.ranges import ByteRange, RangeOutcome
from edge.codings import CODINGS, IDENTITY, preference
from edge.mediatypes import content_type
from edge.preconditions import choose_range, evaluate_preconditions, request_fields
from edge.staticpath import OpenFile, decode, exists_beside, open_beside, open_inside

if TYPE_CHECKING:
    from edge.exchange import ConnectionInfo, Exchange

Send = Callable[[dict[str, Any]], Awaitable[None]]

SMALL_FILE = 64 * 1024  # read whole on the event loop
CHUNK = 256 * 1024  # bigger files: read in a thread, this much at a time
INDEX = "index.html"
ALLOW = (b"allow", b"GET, HEAD")

_SUFFIX_OF = dict(CODINGS)
_ETAG_TAG = {"br": b"-br", "gzip": b"-gz"}


@dataclass(frozen=True, slots=True)
class StaticMount:
    """One `"/prefix/" = "folder"` line: the prefix (ending in `/`) and the folder's real path."""

    prefix: str
    root: str


@dataclass(frozen=True, slots=True)
class StaticFolders:
    """A site's static mounts, longest prefix first, and the Cache-Control its files are sent with.

    Built with the site (sites.py) from the loaded config, so a reload of edge.toml swaps them with it.
    """

    mounts: tuple[StaticMount, ...] = ()
    cache_control: bytes = b""

    @classmethod
    def build(cls, static: tuple[tuple[str, Path], ...], cache_control: str) -> StaticFolders:
        mounts = tuple(
            StaticMount(prefix if prefix.endswith("/") else prefix + "/", os.path.realpath(folder))
            for prefix, folder in sorted(static, key=lambda pair: -len(pair[0]))
        )
        return cls(mounts, cache_control.encode("latin-1"))

    def match(self, path: str) -> tuple[StaticMount, str | None] | None:
        """The mount whose prefix `path` starts with, and the rest of the path (None: the prefix minus its `/`)."""
        for mount in self.mounts:
            if path.startswith(mount.prefix):
                return mount, path[len(mount.prefix) :]
            if path == mount.prefix[:-1] and path:
                return mount, None
        return None

    async def serve(
        self, ex: Exchange, headers: list[tuple[bytes, bytes]], send: Send, conn: ConnectionInfo
    ) -> int | None:
        """Answer a request under a static prefix: None for other paths (the request goes on to an origin);
        0 when a response was sent here; 404, 405, 412, 416 or 503 for the gateway's error page."""
        found = self.match(ex.path)
        if found is None:
            return None
        mount, rest = found
        ex.cache = "static"
        if ex.method not in ("GET", "HEAD"):
            ex.response_headers.append(ALLOW)
            return 405
        decoded = decode(rest)
        if decoded is None:
            return 404  # an encoded /, \\ or NUL: no file has such a name
        try:
            target = _target(mount.root, *decoded)
        except OSError as exc:
            ex.error = f"static: {exc.strerror}"  # EACCES, EIO: the operator's to see, not the client's
            return 404
        if target is None:
            return 404
        if target == "redirect":
            return await _redirect(ex, send)
        file, name = target
        return await self._respond(ex, headers, send, conn, mount.root, file, name)

    async def _respond(
        self,
        ex: Exchange,
        headers: list[tuple[bytes, bytes]],
        send: Send,
        conn: ConnectionInfo,
        root: str,
        file: OpenFile,
        name: str,
    ) -> int:
        fields = request_fields(headers)
        file, coding, vary = _variant(root, file, fields.get(b"accept-encoding"))
        try:
            st = file.stat
            etag = b'"%x-%x%s"' % (st.st_mtime_ns, st.st_size, _ETAG_TAG.get(coding or "", b""))
            modified = int(st.st_mtime)
            now = time.time()
            status = evaluate_preconditions(fields, etag, modified, now)
            if status == 412:
                return 412
            # RFC 9110 section 15.4.5: a 304 carries what a cache needs to update its copy, not the metadata.
            out = [(b"date", _http_date(int(now)))]
            if status == 200:
                out += [(b"content-type", content_type(name)), (b"last-modified", _http_date(modified))]
                if coding is not None:
                    out.append((b"content-encoding", coding.encode("ascii")))
                out.append((b"accept-ranges", b"bytes"))
            out.append((b"etag", etag))
            if vary:
                out.append((b"vary", b"accept-encoding"))
            if self.cache_control:
                out.append((b"cache-control", self.cache_control))
            if status == 304:
                return await _send_head_only(ex, send, 304, out)
            size = st.st_size
            part = choose_range(ex.method, fields, size, etag, modified, now)
            if part is RangeOutcome.UNSATISFIABLE:
                ex.response_headers.append((b"content-range", b"bytes */%d" % size))
                return 416
            if isinstance(part, ByteRange):
                out.append((b"content-range", part.content_range()))
                return await _send_file(ex, send, conn, file, 206, out, part.first, part.length)
            return await _send_file(ex, send, conn, file, 200, out, 0, size)
        except OSError as exc:  # a read failed (EIO): a 503 page, or a cut connection once the head is out
            ex.error = f"static: {exc.strerror}"
            if ex.response_started:
                conn.abort()
                return 0
            return 503
        finally:
            file.close()


NO_STATIC = StaticFolders()


# --- small pieces ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _http_date(seconds: int) -> bytes:
    return format_http_date(seconds)


# --- the file system -------------------------------------------------------------------------------------------


def _target(root: str, names: list[str], slash: bool) -> tuple[OpenFile, str] | Literal["redirect"] | None:
    """The open file to answer with and the name its type comes from; "redirect" for a folder asked for without
    its slash that has an index.html; None for nothing to serve (missing, outside, a folder without index,
    a file asked for with a slash, a FIFO, socket or device)."""
    file = open_inside(root, names)
    if file is None:
        return None
    if file.is_file and not slash:
        return file, names[-1]
    if not file.is_dir:
        file.close()
        return None
    file.close()
    index = open_beside(root, f"{file.path.rstrip('/')}/{INDEX}")
    if index is None:
        return None
    if not index.is_file or not slash:
        index.close()
        return "redirect" if index.is_file else None
    return index, INDEX


def _variant(root: str, file: OpenFile, accept: bytes | None) -> tuple[OpenFile, str | None, bool]:
    """The file to send (the stored one or a precompressed sibling), its coding, and whether to send Vary.

    Siblings are looked for beside the file's real path. One that cannot be opened is as if absent.
    """
    present = [coding for coding, suffix in CODINGS if exists_beside(file.path + suffix)]
    if not present:
        return file, None, False
    for coding in preference(accept):
        if coding == IDENTITY:
            break
        if coding in present:
            try:
                sibling = open_beside(root, file.path + _SUFFIX_OF[coding])
            except OSError:
                continue
            if sibling is not None and sibling.is_file:
                file.close()
                return sibling, coding, True
            if sibling is not None:
                sibling.close()
    return file, None, True


# --- sending ---------------------------------------------------------------------------------------------------


async def _send_head_only(ex: Exchange, send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> int:
    ex.status = status
    ex.response_started = True
    await send({"type": "http.response.start", "status": status, "headers": headers + ex.own_headers()})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    return 0


async def _redirect(ex: Exchange, send: Send) -> int:
    """301 to the folder's slash form: the normalised path plus `/`, and the query as received."""
    path, mark, query = ex.target.partition(b"?")
    location = path + b"/" + mark + query
    headers = [(b"date", _http_date(int(time.time()))), (b"location", location), (b"content-length", b"0")]
    return await _send_head_only(ex, send, 301, headers)


async def _send_file(
    ex: Exchange,
    send: Send,
    conn: ConnectionInfo,
    file: OpenFile,
    status: int,
    headers: list[tuple[bytes, bytes]],
    first: int,
    length: int,
) -> int:
    """Send `length` bytes of the file from `first`; for HEAD only the head (with the full Content-Length)."""
    headers.append((b"content-length", b"%d" % length))
    body = ex.method != "HEAD" and length > 0
    data = b""
    if body and length <= SMALL_FILE:
        data = os.pread(file.fd, length, first)
        if len(data) != length:
            ex.error = "static: the file shrank while it was read"
            return 503
    ex.status = status
    ex.response_started = True
    await send({"type": "http.response.start", "status": status, "headers": headers + ex.own_headers()})
    if not body or length <= SMALL_FILE:
        ex.bytes_sent = len(data)
        await send({"type": "http.response.body", "body": data, "more_body": False})
        return 0
    loop = asyncio.get_running_loop()
    offset, end = first, first + length
    while offset < end:
        chunk = await loop.run_in_executor(None, os.pread, file.fd, min(CHUNK, end - offset), offset)
        if not chunk:
            ex.error = "static: the file shrank while it was sent"
            conn.abort()  # the Content-Length promised more: only a cut connection says so
            return 0
        offset += len(chunk)
        ex.bytes_sent += len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": offset < end})
        if conn.closed:
            ex.error = "client disconnected mid-response"
            return 0
    return 0
