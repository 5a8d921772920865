"""The primary cache key (RFC 9111 section 2): the target URI, the same for GET and HEAD.

A key is the string `scheme://host[:port]/path?query`: host lower-cased, the default port left out, path
and query byte for byte (two queries that differ at all are two keys, as the suite's query-args-different
checks). The fragment never reaches a server, so there is none. Being a plain string, a key can be compared
by prefix for purges.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def primary_key(scheme: str, host: str, target: str) -> str:
    """The key for a request: `scheme`, the Host value (`host` or `host:port`), and the request target."""
    scheme = scheme.lower()
    host = _without_default_port(scheme, host.lower())
    if not target.startswith("/"):
        target = "/" + target
    return f"{scheme}://{host}{target}"


def _without_default_port(scheme: str, host: str) -> str:
    if host.startswith("["):  # an IPv6 literal: the port, if any, follows the bracket
        end = host.find("]") + 1
        name, port = host[:end], host[end + 1 :] if host[end : end + 1] == ":" else ""
    else:
        name, _, port = host.partition(":")
    if port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme):
        return name
    return host


def resolve(key: str, reference: str) -> str | None:
    """The key of `reference` (a Location or Content-Location value) resolved against `key`, when same-origin.

    RFC 9111 section 4.4: a cache invalidates such URIs only when their origin is the target's (a response
    cannot invalidate another site's entries). None for another origin or an unparseable reference.
    """
    try:
        target = urlsplit(urljoin(key, reference.strip()))
        base = urlsplit(key)
        if (target.scheme, target.hostname, target.port or _DEFAULT_PORTS.get(target.scheme)) != (
            base.scheme,
            base.hostname,
            base.port or _DEFAULT_PORTS.get(base.scheme),
        ):
            return None
    except ValueError:
        return None
    host = target.netloc.rpartition("@")[2]
    path = target.path or "/"
    query = f"?{target.query}" if target.query else ""
    return primary_key(target.scheme, host, path + query)
