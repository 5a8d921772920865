"""The fields of the rule language (Cloudflare names): type, phase and how to read each from a request.

`FIELDS` maps a field name to a `FieldSpec`. A getter takes the per-request `Ctx` and returns the value
(see `lang.types` for the run-time representation). Getters are lazy and shared: derived structures such
as the parsed query or the body form are computed once per request in `ctx.memo`, and only when a rule
reads them. Fields of phase "body" read `view.body` (treated as empty before the body is read).
"""

from __future__ import annotations

import fnmatch
import functools
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.config import DEFAULT_CONTENT_TYPES, DEFAULT_METHODS
from edge.waf import forms
from edge.waf.bounded import BoundedCache
from edge.waf.lang.types import BOOL, INT, INT_ARRAY, IP, STR, STR_ARRAY, STR_MAP, Type
from edge.waf.multipart import FilePart
from edge.waf.request import RequestView
from edge.waf.transforms import url_decode

Memo = dict[Any, Any]


class Ctx:
    """Per-request evaluation context: the request view and a memo of values already computed.

    `origin` is the view the context was made for: when `view` is another object (the engine rebinds a
    context to the view of the body phase), memoized values may come from either, so caches keyed by the
    raw inputs of `view` are not used (see `prefilter.py`)."""

    __slots__ = ("memo", "origin", "view")

    def __init__(self, view: RequestView) -> None:
        self.view = view
        self.origin = view
        self.memo: Memo = {}


Getter = Callable[[Ctx], Any]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """`inputs`: the `RequestView` attributes the value is computed from, and nothing else (see `INPUTS`): the
    prefilter caches atom results under them, so a field that reads anything more must list it there."""

    name: str
    type: Type
    phase: str
    get: Getter
    inputs: tuple[str, ...]


def _shared(key: str, compute: Callable[[RequestView], Any]) -> Getter:
    def get(ctx: Ctx) -> Any:
        memo = ctx.memo
        value = memo.get(key, memo)
        if value is memo:
            value = memo[key] = compute(ctx.view)
        return value

    return get


def _as_map(pairs: forms.Pairs) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return {name: tuple(values) for name, values in out.items()}


def _path(view: RequestView) -> str:
    return view.target.partition("?")[0]


def _query(view: RequestView) -> str:
    return view.target.partition("?")[2]


def _raw(view: RequestView) -> str:
    return view.raw_target or view.target


def _raw_path(view: RequestView) -> str:
    return _raw(view).partition("?")[0]


def _raw_query(view: RequestView) -> str:
    return _raw(view).partition("?")[2]


def _ip(view: RequestView) -> object:
    return _parse_ip(view.client_ip)


@functools.lru_cache(maxsize=4096)
def _parse_ip(text: str) -> object:
    """A client address as an ipaddress object (IPv4-mapped IPv6 as IPv4), None when it is none; remembered,
    since a client sends many requests and `ipaddress` parses in Python (about 5 µs, for `ip.src` rules and
    rate-limit keys on every request)."""
    try:
        addr = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


@functools.lru_cache(maxsize=4096)
def ip_text(text: str) -> str:
    """The client address `text` as `ip.src` prints it (canonical form, IPv4-mapped as IPv4), "" when it is
    none: the usual rate-limit key, remembered like the parse."""
    addr = _parse_ip(text)
    return "" if addr is None else str(addr)


def _inflate(view: RequestView) -> tuple[bytes, bool, bool]:
    return forms.decode_content(view.header("content-encoding"), view.body or b"")


_content = _shared("content", _inflate)


def _body_raw(ctx: Ctx) -> str:
    data: bytes = _content(ctx)[0]
    return data.decode("utf-8", "replace")


def _body_mime(view: RequestView) -> str:
    return forms.media_type(view.header("content-type"))


def _method_allowed(view: RequestView) -> bool:
    return view.method in (DEFAULT_METHODS if view.methods is None else view.methods)


_ALLOWED_TYPES: BoundedCache[tuple[str, tuple[str, ...]], bool] = BoundedCache(1024, 256)


def _content_type_allowed(view: RequestView) -> bool:
    """No Content-Type, or its media type matches one of the site's `content_types` (`*` a wildcard)."""
    value = view.header("content-type")
    if value is None:
        return True
    key = (forms.media_type(value), DEFAULT_CONTENT_TYPES if view.content_types is None else view.content_types)
    found = _ALLOWED_TYPES.get(key)
    if found is None:
        found = any(fnmatch.fnmatchcase(key[0], pattern) for pattern in key[1])
        _ALLOWED_TYPES.put(key, found)
    return found


_args = _shared("args", lambda v: forms.parse_query(_query(v)))
_cookies = _shared("cookies", lambda v: forms.parse_cookies(v.headers))


def _parse_body(ctx: Ctx) -> forms.Body:
    """The body split by `forms.parse_body`, inflated first when it has a Content-Encoding (gzip, deflate); one
    that claims an encoding and is not encoded so is invalid, and its bytes are inspected as text."""
    memo = ctx.memo
    found: forms.Body | None = memo.get("body")
    if found is None:
        view = ctx.view
        data, cut, failed = _content(ctx)
        found = forms.parse_body(
            view.header("content-type"),
            data,
            truncated=view.body_truncated or cut,
            method=view.method,
            filename=url_decode(_path(view).rpartition("/")[2]),
            size=view.body_size,
        )
        if failed:
            found = forms.Body([], text=data.decode("utf-8", "replace"), invalid=True)
        memo["body"] = found
    return found


_body = _parse_body


def _form(ctx: Ctx) -> forms.Pairs:
    body: forms.Body = _body(ctx)
    return body.fields


def _body_invalid(ctx: Ctx) -> bool:
    body: forms.Body = _body(ctx)
    return body.invalid


def _body_xml(ctx: Ctx) -> str:
    """The body as text when its media type is XML (application/xml, text/xml, any +xml), else "": the XML rules
    (external entities, XInclude, script elements) read the document whole without paying for other bodies."""
    mime = _body_mime(ctx.view)
    if mime in ("application/xml", "text/xml") or mime.endswith("+xml"):
        return _body_raw(ctx)
    return ""


def _body_code(ctx: Ctx) -> tuple[str, ...]:
    body: forms.Body = _body(ctx)
    return tuple([value for _, value in body.code])


def _body_text(ctx: Ctx) -> str:
    body: forms.Body = _body(ctx)
    return body.text


def _files(read: Callable[[FilePart], Any]) -> Getter:
    def get(ctx: Ctx) -> tuple[Any, ...]:
        body: forms.Body = _body(ctx)
        return tuple([read(part) for part in body.files])

    return get


def _map_of(pairs: Getter) -> Getter:
    return lambda ctx: _as_map(pairs(ctx))


def _names_of(pairs: Getter) -> Getter:
    return lambda ctx: tuple([name for name, _ in pairs(ctx)])


def _values_of(pairs: Getter) -> Getter:
    return lambda ctx: tuple([value for _, value in pairs(ctx)])


def _view(read: Callable[[RequestView], Any]) -> Getter:
    return lambda ctx: read(ctx.view)


def _headers(ctx: Ctx) -> list[tuple[str, str]]:
    return ctx.view.headers


_BODY = ("method", "target", "headers", "body", "body_size", "body_truncated")  # what `parse_body` reads
_SPECS: tuple[tuple[str, Type, str, Getter, tuple[str, ...]], ...] = (
    ("http.host", STR, "head", _view(lambda v: v.host), ("host",)),
    ("http.request.method", STR, "head", _view(lambda v: v.method), ("method",)),
    ("http.request.method.allowed", BOOL, "head", _view(_method_allowed), ("method", "methods")),
    ("http.request.content_type.allowed", BOOL, "head", _view(_content_type_allowed), ("headers", "content_types")),
    ("http.request.version", STR, "head", _view(lambda v: v.version), ("version",)),
    ("http.request.uri", STR, "head", _view(lambda v: v.target), ("target",)),
    ("http.request.uri.path", STR, "head", _view(_path), ("target",)),
    ("http.request.uri.query", STR, "head", _view(_query), ("target",)),
    ("raw.http.request.uri", STR, "head", _view(_raw), ("raw_target", "target")),
    ("raw.http.request.uri.path", STR, "head", _view(_raw_path), ("raw_target", "target")),
    ("raw.http.request.uri.query", STR, "head", _view(_raw_query), ("raw_target", "target")),
    ("http.request.uri.args", STR_MAP, "head", _map_of(_args), ("target",)),
    ("http.request.uri.args.names", STR_ARRAY, "head", _names_of(_args), ("target",)),
    ("http.request.uri.args.values", STR_ARRAY, "head", _values_of(_args), ("target",)),
    (
        "http.request.full_uri",
        STR,
        "head",
        _view(lambda v: f"{v.scheme}://{v.host}{v.target}"),
        ("scheme", "host", "target"),
    ),
    ("http.request.headers", STR_MAP, "head", _map_of(_headers), ("headers",)),
    ("http.request.headers.names", STR_ARRAY, "head", _names_of(_headers), ("headers",)),
    ("http.request.headers.values", STR_ARRAY, "head", _values_of(_headers), ("headers",)),
    ("http.request.cookies", STR_MAP, "head", _map_of(_cookies), ("headers",)),
    ("http.request.cookies.names", STR_ARRAY, "head", _names_of(_cookies), ("headers",)),
    ("http.request.cookies.values", STR_ARRAY, "head", _values_of(_cookies), ("headers",)),
    ("http.user_agent", STR, "head", _view(lambda v: v.header("user-agent") or ""), ("headers",)),
    ("http.referer", STR, "head", _view(lambda v: v.header("referer") or ""), ("headers",)),
    ("http.request.body.raw", STR, "body", _body_raw, ("headers", "body")),
    ("http.request.body.size", INT, "body", _view(lambda v: v.body_size or len(v.body or b"")), ("body_size", "body")),
    ("http.request.body.truncated", BOOL, "body", _view(lambda v: v.body_truncated), ("body_truncated",)),
    ("http.request.body.form", STR_MAP, "body", _map_of(_form), _BODY),
    ("http.request.body.form.names", STR_ARRAY, "body", _names_of(_form), _BODY),
    ("http.request.body.form.values", STR_ARRAY, "body", _values_of(_form), _BODY),
    ("http.request.body.invalid", BOOL, "body", _body_invalid, _BODY),
    ("http.request.body.text", STR, "body", _body_text, _BODY),
    ("http.request.body.code", STR_ARRAY, "body", _body_code, _BODY),
    ("http.request.body.xml", STR, "body", _body_xml, ("headers", "body")),
    ("http.request.body.files.names", STR_ARRAY, "body", _files(lambda f: f.name), _BODY),
    ("http.request.body.files.filenames", STR_ARRAY, "body", _files(lambda f: f.filename), _BODY),
    ("http.request.body.files.content_types", STR_ARRAY, "body", _files(lambda f: f.content_type), _BODY),
    ("http.request.body.files.sizes", INT_ARRAY, "body", _files(lambda f: f.size), _BODY),
    ("http.request.body.files.contents", STR_ARRAY, "body", _files(lambda f: f.content), _BODY),
    ("http.request.body.mime", STR, "body", _view(_body_mime), ("headers",)),
    ("ip.src", IP, "head", _view(_ip), ("client_ip",)),
    ("ssl", BOOL, "head", _view(lambda v: v.scheme == "https"), ("scheme",)),
    ("tls.sni", STR, "head", _view(lambda v: v.sni or ""), ("sni",)),
    ("tls.version", STR, "head", _view(lambda v: v.tls_version or ""), ("tls_version",)),
    ("tls.client.subject", STR, "head", _view(lambda v: v.client_subject), ("client_subject",)),
)


INPUTS: dict[str, Callable[[RequestView], Any]] = {
    "method": lambda v: v.method,
    "version": lambda v: v.version,
    "target": lambda v: v.target,
    "raw_target": lambda v: v.raw_target,
    "host": lambda v: v.host,
    "scheme": lambda v: v.scheme,
    "headers": lambda v: tuple(v.headers),
    "client_ip": lambda v: v.client_ip,
    "sni": lambda v: v.sni,
    "tls_version": lambda v: v.tls_version,
    "client_subject": lambda v: v.client_subject,
    "body": lambda v: v.body,
    "body_size": lambda v: v.body_size,
    "body_truncated": lambda v: v.body_truncated,
    "methods": lambda v: v.methods,
    "content_types": lambda v: v.content_types,
}
"""The raw inputs of the fields, as hashable values: two views with equal inputs give every field equal values."""

FIELDS: dict[str, FieldSpec] = {
    name: FieldSpec(name, type_, phase, get, inputs) for name, type_, phase, get, inputs in _SPECS
}
