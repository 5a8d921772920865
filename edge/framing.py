"""What edge itself reads from a request head: Host, the body's framing, X-Forwarded-For. Strictly.

Everything else in a request head is the WAF's and the origin's business, but these few headers decide
which site answers and where one request ends and the next begins, so an attacker's spelling of them
must not mean one thing to edge and another to the origin (request smuggling, Host confusion). The rule
is: state the framing exactly or refuse the request. llhttp (uvicorn's parser) already rejects duplicate
or non-numeric Content-Length, Content-Length beside Transfer-Encoding, and obsolete line folding; what it
lets through and edge refuses here:

- more than one Host, or a Host that is not a host name or IP literal with an optional port (RFC 9112
  section 3.2: 400), or an absolute-form target whose authority is not the Host (RFC 9112 section 3.2.2);
- a Transfer-Encoding other than exactly `chunked` (llhttp reads `gzip, chunked` as chunked; edge would
  forward a body it cannot state the coding of: 501 as RFC 9112 section 6.1 says), and Transfer-Encoding
  in an HTTP/1.0 request (section 6.1: the framing is faulty);
- more than one Content-Type: which one the WAF's body parser and the origin would each believe differs.

Content-Length is taken as llhttp framed it: digits with optional surrounding whitespace, never copied to
the origin as written; the forwarded head states the length (or chunked) anew (`proxy/forward.py`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# RFC 1123 host names (letters, digits, hyphens; labels of 1..63; an optional trailing dot) or a bracketed
# IPv6 literal, then an optional port. IPv4 literals are host names by this grammar.
_HOST = re.compile(
    rb"(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?|\[([0-9a-f:.]{2,45})\])"
    rb"(?::([0-9]{1,5}))?",
    re.IGNORECASE,
)
_OWS = b" \t"


@dataclass(slots=True)
class Head:
    """The facts of one request head that edge acts on; `host` is the Host header as received (validated)."""

    host: bytes | None = None
    name: str = ""  # the host name of `host`: lower case, no port, IPv6 without brackets ("" without Host)
    forwarded_for: bytes | None = None
    body_length: int = 0  # Content-Length, 0 when absent
    has_length: bool = False  # a Content-Length header was sent (a POST with `Content-Length: 0` keeps it)
    chunked: bool = False
    error: str | None = None  # why the head was refused, for the log (never for the client)
    status: int = 0  # 400 or 501 when refused


def scan_head(headers: list[tuple[bytes, bytes]], http_version: str, authority: bytes | None = None) -> Head:
    """One pass over the request headers (lower-case names, as uvicorn gives them); `head.status` is set
    when the request must be refused. `authority` is the host[:port] of an absolute-form target."""
    head = Head()
    content_type = False
    for name, value in headers:
        if name == b"host":
            if head.host is not None:
                return _refuse(head, 400, "more than one Host header")
            head.host = value
        elif name == b"x-forwarded-for":
            head.forwarded_for = value if head.forwarded_for is None else head.forwarded_for + b"," + value
        elif name == b"content-length":
            digits = value.strip(_OWS)
            if not digits.isdigit() or len(digits) > 18:  # llhttp allows nothing else; refuse if it ever does
                return _refuse(head, 400, f"unusable Content-Length {value[:40]!r}")
            head.body_length = int(digits)
            head.has_length = True
        elif name == b"transfer-encoding":
            if head.chunked or value.strip(_OWS).lower() != b"chunked":
                status = 400 if head.chunked else _unsupported_coding(value)
                return _refuse(head, status, f"Transfer-Encoding {value[:40]!r} is not exactly chunked")
            head.chunked = True
        elif name == b"content-type":
            if content_type:
                return _refuse(head, 400, "more than one Content-Type header")
            content_type = True
    if head.chunked and (head.has_length or http_version == "1.0"):
        return _refuse(head, 400, "Transfer-Encoding with Content-Length or in HTTP/1.0")
    if head.host is not None:
        hostname = host_name(head.host)
        if hostname is None:
            return _refuse(head, 400, f"invalid Host {head.host[:60]!r}")
        head.name = hostname
    if head.host is None and http_version != "1.0":
        return _refuse(head, 400, "HTTP/1.1 request without Host")
    if authority is not None and not same_authority(authority, head.host or b""):
        return _refuse(head, 400, "absolute-form target names another host than Host")
    return head


def _unsupported_coding(value: bytes) -> int:
    """501 for a well-formed coding list that ends in chunked (`gzip, chunked`: valid, but edge does not decode
    it), 400 for anything else (chunked not last, applied twice, or not a list of tokens)."""
    codings = [token.strip(_OWS).lower() for token in value.split(b",")]
    if codings[-1] == b"chunked" and b"chunked" not in codings[:-1] and all(c.isalpha() for c in codings):
        return 501
    return 400


def _refuse(head: Head, status: int, error: str) -> Head:
    head.status = status
    head.error = error
    return head


_NAMES: dict[bytes, str] = {}  # valid Host values seen -> their host names
_NAMES_MAX = 4096  # then the memo starts over: a client sending random names gains nothing but its own misses


def host_name(value: bytes) -> str | None:
    """The host name of a Host value (`host_from_header`), or None when the value is not a valid Host.

    A gateway sees the same few Host values again and again: after the first, one dict lookup instead of a
    regular expression, a decode and three string operations on every request."""
    name = _NAMES.get(value)
    if name is None:
        if not valid_host(value):
            return None
        if len(_NAMES) >= _NAMES_MAX:
            _NAMES.clear()
        name = _NAMES[value] = host_from_header(value)
    return name


def host_from_header(header: bytes) -> str:
    """The lower-case host of a Host header, without port ("[::1]:8443" -> "::1") or the root's trailing dot."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    name, _, port = text.rpartition(":")
    return (name if name and port.isdigit() else text).rstrip(".")


def valid_host(value: bytes) -> bool:
    """A Host header value edge accepts: RFC 1123 name or IP literal, optional port 0..65535, at most 255 bytes."""
    if len(value) > 255:
        return False
    match = _HOST.fullmatch(value)
    if match is None:
        return False
    literal, port = match.group(1), match.group(2)
    if port is not None and int(port) > 65535:
        return False
    if literal is not None:
        try:
            ipaddress.IPv6Address(literal.decode("ascii"))
        except ValueError:
            return False
    return True


def same_authority(target_authority: bytes, host: bytes) -> bool:
    """True when an absolute-form target's authority names the same host and port as Host (443 as default)."""

    def split(value: bytes) -> tuple[bytes, bytes]:
        value = value.lower()
        if value.startswith(b"["):
            end = value.find(b"]")
            return value[: end + 1], value[end + 2 :] or b"443"
        name, _, port = value.partition(b":")
        return name.rstrip(b"."), port or b"443"

    return split(target_authority) == split(host)
