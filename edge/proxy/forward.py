"""Header hygiene between client and origin (CONTRACT section 6), as pure functions over header lists.

To the origin: hop-by-hop headers go (RFC 9110 section 7.6.1, including those named in Connection), the
X-Forwarded-* family and `Forwarded` (RFC 7239) are set, and incoming values survive only from trusted
proxies. From the origin: `Server` and `X-Powered-By` go, and redirects that name an origin address are
rewritten to the public host, so that no origin address ever reaches a client.
"""

from __future__ import annotations

from collections.abc import Iterable

from edge.cache.fields import connection_tokens

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# The framing and routing of the forwarded request are edge's own: the client's copies never pass.
_FRAMING = frozenset({b"host", b"content-length", b"transfer-encoding"})
# Headers a client must never be able to set for the origin: the gateway alone speaks them.
_EDGE_OWNED = frozenset({b"x-client-cert-subject", b"edge-origin-auth", b"x-real-ip", b"edge-request-id"})
_FORWARDING = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded"})
# What `Connection` can never name away (RFC 9110 section 7.6.1 lets a sender mark any header hop-by-hop; a
# client that marks Content-Length or Host would make the origin frame or route another request than the one
# judged), and whose underscore spellings are dropped (CGI stacks read X_Forwarded_For as X-Forwarded-For).
PROTECTED = _FRAMING | _EDGE_OWNED | _FORWARDING
# What an origin says about itself (software and versions an attacker would look up), and what edge sets.
DROP_FROM_ORIGIN = HOP_BY_HOP | {
    b"server",
    b"x-powered-by",
    b"x-aspnet-version",
    b"x-aspnetmvc-version",
    b"via",
    b"strict-transport-security",
    b"edge-request-id",
}
_REWRITTEN = frozenset({b"location", b"content-location", b"refresh"})
# Per request, `int in bytes` (or `find`) rather than `bytes in bytes`, which raises and clears a TypeError
# inside CPython before it searches: 8 times the cost.
_UNDERSCORE, _COLON, _ANGLE = ord("_"), ord(":"), ord("<")


# `expect`: uvicorn already answered 100-continue, and the whole body follows the head anyway.
_DROP_TRUSTED = HOP_BY_HOP | _FRAMING | _EDGE_OWNED | {b"expect"}
_DROP_UNTRUSTED = _DROP_TRUSTED | _FORWARDING
_CONNECTION_KNOWN = HOP_BY_HOP | {b"close", b""}
_CONNECTION_PLAIN = frozenset({b"keep-alive", b"close", b"upgrade"})


def request_head(
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    client_ip: str,
    trusted_peer: bool,
    host: bytes,
    length: int | None,
    chunked: bool,
    extra: Iterable[tuple[bytes, bytes]] = (),
    _drop: frozenset[bytes] | None = None,
) -> bytes:
    """The request head edge sends to an origin.

    `headers` are the client's (lower-case names). Host and the body framing are edge's own, stated once
    from what edge parsed (`framing.py`): `host`, then `content-length: length` or `transfer-encoding:
    chunked` (uvicorn de-chunked the client's body; edge chunks it anew); never the client's spelling.
    Runs once per request, so it is one pass over the headers with precomputed sets.
    """
    drop = _drop or (_DROP_TRUSTED if trusted_peer else _DROP_UNTRUSTED)
    lines = [b"%s %s HTTP/1.1\r\nhost: %s\r\n" % (method.encode("ascii"), target, host)]
    append = lines.append
    prior_xff = b""
    prior_fwd = b""
    named: frozenset[bytes] = frozenset()
    for name, value in headers:
        if name in drop:
            if name == b"connection" and value.lower() not in _CONNECTION_PLAIN:
                named = named | connection_tokens(((name, value),))
            continue
        if name in _FORWARDING:  # from a trusted peer: its chain is extended below, proto and host restated
            if name == b"x-forwarded-for":
                prior_xff = prior_xff + b", " + value if prior_xff else value
            elif name == b"forwarded":
                prior_fwd = prior_fwd + b", " + value if prior_fwd else value
        elif not (_UNDERSCORE in name and name.replace(b"_", b"-") in PROTECTED):
            append(b"%s: %s\r\n" % (name, value))
    named = named - PROTECTED
    if named and not named <= drop | _CONNECTION_KNOWN:
        # Headers named in Connection are hop-by-hop too (RFC 9110 section 7.6.1): rare, so a second pass.
        return request_head(
            method,
            target,
            headers,
            client_ip=client_ip,
            trusted_peer=trusted_peer,
            host=host,
            length=length,
            chunked=chunked,
            extra=extra,
            _drop=drop | named,
        )
    ip = client_ip.encode("ascii")
    node = b'"[' + ip + b']"' if ":" in client_ip else ip
    forwarded = b"for=" + node + b";host=" + _quote_if_needed(host) + b";proto=https"
    append(
        b"x-forwarded-for: %s\r\nx-forwarded-proto: https\r\nx-forwarded-host: %s\r\nforwarded: %s\r\n"
        % (prior_xff + b", " + ip if prior_xff else ip, host, prior_fwd + b", " + forwarded if prior_fwd else forwarded)
    )
    if chunked:
        append(b"transfer-encoding: chunked\r\n")
    elif length is not None:
        append(b"content-length: %d\r\n" % length)
    for name, value in extra:
        append(b"%s: %s\r\n" % (name, value))
    append(b"\r\n")
    return b"".join(lines)


def _quote_if_needed(host: bytes) -> bytes:
    return b'"' + host + b'"' if _COLON in host else host


def response_headers(
    headers: list[tuple[bytes, bytes]],
    *,
    origin_authorities: frozenset[bytes],
    public_host: bytes,
    extra: list[tuple[bytes, bytes]],
    origin_hosts: frozenset[bytes] = frozenset(),
    drop: frozenset[bytes] = DROP_FROM_ORIGIN,
) -> list[tuple[bytes, bytes]]:
    """The origin's response headers as a client may see them, with edge's own `extra` headers appended.

    URLs naming an origin (Location, Content-Location, Refresh, every `<...>` of Link, also protocol-relative
    `//origin:port/`) are rewritten to the public host; a Set-Cookie whose Domain is an origin's address
    loses that attribute (the browser then scopes it to the public host), so the address never leaks."""
    out: list[tuple[bytes, bytes]] = []
    connection: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            if lower == b"connection":
                connection.append((lower, value))
            continue
        if lower in _REWRITTEN:
            value = rewrite_origin_url(value, origin_authorities, public_host)
        elif lower == b"link" and _ANGLE in value:
            value = _rewrite_link(value, origin_authorities, public_host)
        elif lower == b"set-cookie" and origin_hosts and value.lower().find(b"domain") >= 0:
            value = _drop_origin_domain(value, origin_hosts)
        out.append((lower, value))
    if connection:
        tokens = connection_tokens(connection)
        if not tokens <= _CONNECTION_KNOWN:
            out = [(n, v) for n, v in out if n not in tokens]
    out.extend(extra)
    return out


def rewrite_origin_url(value: bytes, origin_authorities: frozenset[bytes], public_host: bytes) -> bytes:
    """Replace `scheme://origin-authority` in a Location-like value with `https://public-host`.

    Handles absolute URLs and Refresh's `N; url=...` form; anything else is returned unchanged.
    """
    prefix = b""
    url = value
    lower = value.lower()
    marker = lower.find(b"url=")
    if marker != -1 and not lower.startswith((b"http://", b"https://")):
        prefix, url = value[: marker + 4], value[marker + 4 :]
    if url.startswith(b"//"):  # protocol-relative: the client keeps its scheme (https)
        scheme_end = -1
    else:
        scheme_end = url.find(b"://")
        if scheme_end == -1 or url[:scheme_end].lower() not in (b"http", b"https"):
            return value
    rest = url[scheme_end + 3 :]
    cut = len(rest)
    for sep in (b"/", b"?", b"#"):
        index = rest.find(sep)
        if index != -1:
            cut = min(cut, index)
    authority = rest[:cut].lower()
    if authority.rpartition(b"@")[2] not in origin_authorities:
        return value
    return prefix + (b"https://" if scheme_end != -1 else b"//") + public_host + rest[cut:]


def _rewrite_link(value: bytes, origin_authorities: frozenset[bytes], public_host: bytes) -> bytes:
    """Every `<URL>` of a Link header (RFC 8288) through `rewrite_origin_url`."""
    parts = value.split(b"<")
    for index in range(1, len(parts)):
        url, close, tail = parts[index].partition(b">")
        if close:
            parts[index] = rewrite_origin_url(url, origin_authorities, public_host) + close + tail
    return b"<".join(parts)


def _drop_origin_domain(value: bytes, origin_hosts: frozenset[bytes]) -> bytes:
    """A Set-Cookie without its `Domain=` attribute when that names an origin (RFC 6265 section 5.2.3)."""
    attributes = value.split(b";")
    kept = [attributes[0]]
    for attribute in attributes[1:]:
        name, _, domain = attribute.partition(b"=")
        if name.strip().lower() == b"domain" and domain.strip().lstrip(b".").lower() in origin_hosts:
            continue
        kept.append(attribute)
    return b";".join(kept)


def origin_authorities(scheme: str, host: str, port: int) -> frozenset[bytes]:
    """Every way an origin may name itself in a redirect: with and without its port."""
    bracketed = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    forms = {f"{bracketed}:{port}"}
    if port == default:
        forms.add(bracketed)
    return frozenset(f.lower().encode("ascii") for f in forms)
