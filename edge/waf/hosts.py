"""URL hosts as a server-side fetcher reads them: `url_host(s)` and `to_ip(host)`.

SSRF filters are bypassed by writing an internal address in a form the filter does not know and the fetcher
(libc's `inet_aton`, a browser's or curl's URL parser) still accepts: one integer (`2130706433`), octal or hex
parts (`0177.0.0.1`, `0x7f.1`), short forms (`127.1`, `0`), IPv6 and IPv4-mapped IPv6 (`[::ffff:127.0.0.1]`,
`[::ffff:7f00:1]`), Unicode digits and dots that NFKC or IDNA fold to ASCII (fullwidth `127.0.0.1`, `127` with ideographic full stops),
userinfo and backslash tricks (`http://good@127.0.0.1`, `http:\\\\127.0.0.1`), and wildcard-DNS names that
resolve to the address they spell (`127.0.0.1.nip.io`, `10-0-0-1.sslip.io`, `7f000001.nip.io`, `localtest.me`).
`to_ip` reads all of these as the address a resolver would return; rules then test it against IP sets.

Both functions are total: `url_host` returns "" when the value holds no URL, `to_ip` returns None (a missing
value, which every comparison treats as false) when the host is a name that does not spell an address.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_URL = re.compile(
    r"(?:(?:^\s*|[/=?&@(\x22\x27])[a-z][a-z0-9+.-]{0,20}:[/\\]{1,3}|^\s*[/\\]{2})([^/\\?#\s\x22\x27<>`]+)", re.I
)
_BLANKS = re.compile(r"\s*")  # what `^\s*` in _URL takes
_SCHEME_REACH = 22  # how far before its `:` a match of _URL can start: a lead character, [a-z][a-z0-9+.-]{0,20}
_SKIP_FROM = 256  # characters: shorter values are searched from their start
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_WILDCARD_DNS = re.compile(
    r"^(?:.*?[.-])?(\d{1,3}(?:[.-]\d{1,3}){3}|[0-9a-f]{8})\.(?:nip\.io|sslip\.io|xip\.io|nip\.direct|traefik\.me|"
    r"local\.gd|localtest\.me|lvh\.me)$"
)
_LOOPBACK_NAMES = re.compile(
    r"^(?:localhost|localhost\.localdomain|localhost[46](?:\.localdomain[46])?|ip6-(?:localhost|loopback)|"
    r"[a-z0-9.-]*\.localhost|localtest\.me|[a-z0-9.-]*\.localtest\.me|lvh\.me|[a-z0-9.-]*\.lvh\.me|vcap\.me|"
    r"[a-z0-9.-]*\.vcap\.me|lacolhost\.com|[a-z0-9.-]*\.lacolhost\.com|local\.gd|[a-z0-9.-]*\.local\.gd)$"
)
_PART = re.compile(r"^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$")
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")


def url_host(s: str) -> str:
    """The host of the URL that `s` is or embeds as a parameter: a URL at the start of the value (`//host` too),
    or after `/`, `=`, `?`, `&`, `@`, a quote or a parenthesis (`/proxy/http://host/`, `u=http://host`), not one
    mentioned in prose; backslashes count as slashes and one slash is enough (`http:/host`, lenient parsers take
    it). Lower-cased and NFKC-folded, without userinfo and port; IPv6 without brackets. "" when there is none."""
    if "/" not in s and "\\" not in s:
        return ""
    start = 0
    if len(s) > _SKIP_FROM:
        # Every URL form but `//host` at the start is a scheme (at most 21 characters, after a lead character
        # or the leading blanks) before `:/` or `:\`: search from the first of those, not through a long body
        # without any (a scan of 1 MiB takes 50 ms).
        blanks = _BLANKS.match(s).end()  # type: ignore[union-attr]
        if not s.startswith(("//", "\\\\", "/\\", "\\/"), blanks):
            colon = min((i for i in (s.find(":/"), s.find(":\\")) if i >= 0), default=-1)
            if colon < 0:
                return ""
            start = colon - _SCHEME_REACH if colon - _SCHEME_REACH > blanks else 0
    m = _URL.search(s, start)
    if m is None:
        return ""
    host = _fold(m.group(1)).rpartition("@")[2]
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def to_ip(host: str) -> IpAddress | None:
    """The address `host` designates to a resolver (see the module docstring); IPv4-mapped and IPv4-compatible
    IPv6 addresses are returned as IPv4. None for any other name."""
    name = _fold(host).strip().strip("[]").rstrip(".")
    if not name:
        return None
    found = _literal(name)
    if found is None:
        spelled = _WILDCARD_DNS.match(name)
        if spelled is not None:
            digits = spelled.group(1)
            hexa = "." not in digits and "-" not in digits
            found = _literal("0x" + digits if hexa else digits.replace("-", "."))
        elif _LOOPBACK_NAMES.match(name):
            found = LOOPBACK
    if isinstance(found, ipaddress.IPv6Address):
        mapped = found.ipv4_mapped or (found.sixtofour if found.sixtofour else None)
        if mapped is None and int(found) >> 32 == 0 and int(found) > 1:
            mapped = ipaddress.IPv4Address(int(found) & 0xFFFFFFFF)  # ::127.0.0.1, IPv4-compatible
        return mapped or found
    return found


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text.translate(_DOTS)).lower()


def _literal(name: str) -> IpAddress | None:
    """An IPv6 literal, or IPv4 in any form `inet_aton` reads: 1 to 4 parts, each decimal, octal (0...) or hex
    (0x...), the last part filling the remaining bytes (`127.1`, `10.65535`, `2130706433`)."""
    if ":" in name:
        try:
            return ipaddress.IPv6Address(name.partition("%")[0])
        except ValueError:
            return None
    parts = name.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.match(p) for p in parts):
        return None
    try:
        values = [
            int(p, 16) if p.startswith("0x") else int(p, 8) if p.startswith("0") and len(p) > 1 else int(p)
            for p in (p if p != "0x" else "0x0" for p in parts)
        ]
    except ValueError:
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = 0
    for v in head:
        number = number << 8 | v
    return ipaddress.IPv4Address(number << (8 * (4 - len(head))) | last)
