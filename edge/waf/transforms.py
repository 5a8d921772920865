"""String transformations of the rule language (`url_decode`, `html_decode`, ...), one small function each.

Every transformation is `str -> str`, total (it never raises: on undecodable input it returns what it can,
at worst its input unchanged) and cheap on input it has nothing to do with (a fast path checks for the
characters it works on). `TRANSFORMS` registers them by rule-language name.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import html.entities
import re
import unicodedata
import zlib
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from edge.waf.hosts import url_host
from edge.waf.prose import markdown_code, strip_markdown_code
from edge.waf.regex import searcher
from edge.waf.shell import cmd_line, glob_paths, shell_unquote

MAX_DECODE_ROUNDS = 8
_PERCENT_U = re.compile(r"%u([0-9A-Fa-f]{4})")
_OVERLONG2 = re.compile(rb"[\xc0\xc1][\x80-\xbf]")
_OVERLONG3 = re.compile(rb"\xe0[\x80-\x9f][\x80-\xbf]")
_WHITESPACE = re.compile(r"\s+")
_C_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_LINE_COMMENT = re.compile(r"(?:--|#)[^\n]*")
_B64_JUNK = re.compile(r"[^A-Za-z0-9+/_-]")


def lower(s: str) -> str:
    return s.lower()


def upper(s: str) -> str:
    return s.upper()


def _overlong(m: re.Match[bytes]) -> bytes:
    b = m.group(0)
    if len(b) == 2:
        return bytes([((b[0] & 0x1F) << 6) | (b[1] & 0x3F)])
    code = ((b[0] & 0x0F) << 12) | ((b[1] & 0x3F) << 6) | (b[2] & 0x3F)
    return chr(code).encode("utf-8")


def url_decode_once(s: str) -> str:
    """One round of percent-decoding (`+` as space, `%uXXXX`, overlong UTF-8 folded to what it spells)."""
    if "%u" in s or "%U" in s:
        s = _PERCENT_U.sub(lambda m: chr(int(m.group(1), 16)), s)
    raw = unquote_to_bytes(s.replace("+", " "))
    if b"\xc0" in raw or b"\xc1" in raw or b"\xe0" in raw:
        raw = _OVERLONG3.sub(_overlong, _OVERLONG2.sub(_overlong, raw))
    return raw.decode("utf-8", "replace")


def url_decode(s: str) -> str:
    """Percent-decoding (`+` as space, `%uXXXX`, overlong UTF-8 such as `%c0%af` -> `/`), repeated until stable."""
    for _ in range(MAX_DECODE_ROUNDS):
        if "%" not in s and "+" not in s:
            return s
        decoded = url_decode_once(s)
        if decoded == s:
            return s
        s = decoded
    return s


# Where `html.unescape` could change anything: a numeric reference, a name and `;`, or one of the legacy names
# it also reads without `;` (`&amp`, `&lt`, `&copy`, ...). Without a match it returns its input (query strings
# are full of `&name=`, and its per-`&` callback costs microseconds).
_CHARREF = re.compile(
    r"&(?:#|[^\t\n\f <&#;]{1,32};|"
    + "|".join(sorted((re.escape(k) for k in html.entities.html5 if not k.endswith(";")), key=len, reverse=True))
    + ")"
)


def html_decode(s: str) -> str:
    """HTML character references: named (`&lt;`), decimal (`&#60;`) and hex (`&#x3c;`), as browsers read them."""
    return html.unescape(s) if "&" in s and _CHARREF.search(s) is not None else s


def base64_decode(s: str) -> str:
    """Base64 (standard or URL-safe, padding optional, junk characters ignored); input unchanged when invalid."""
    data = _B64_JUNK.sub("", s)
    if not data:
        return s
    data = data.replace("-", "+").replace("_", "/")
    data += "=" * (-len(data) % 4)
    try:
        return base64.b64decode(data, validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return s


def nfkc(s: str) -> str:
    """Unicode NFKC normalisation: fullwidth and other compatibility forms folded to what they look like
    (fullwidth solidus and full stop to `/` and `.`, fullwidth digits and letters to ASCII, ligatures
    split)."""
    return s if s.isascii() else unicodedata.normalize("NFKC", s)


def auth_basic(s: str) -> str:
    """The `user:password` of an `Authorization: Basic <base64>` value; "" for any other value."""
    scheme, _, token = s.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return ""
    try:
        return base64.b64decode(token.strip() + "=" * (-len(token.strip()) % 4), validate=False).decode(
            "utf-8", "replace"
        )
    except (binascii.Error, ValueError):
        return ""


MAX_INFLATED = 256 * 1024


def saml_decode(s: str) -> str:
    """A SAML message as sent in `SAMLRequest`/`SAMLResponse`: base64 (the POST binding), then raw DEFLATE when
    it is compressed (the Redirect binding), bounded to MAX_INFLATED; the input unchanged when it is not base64."""
    data = _B64_JUNK.sub("", s)
    if not data:
        return s
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=False)
    except (binascii.Error, ValueError):
        return s
    with contextlib.suppress(zlib.error):
        raw = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, MAX_INFLATED)
    return raw.decode("utf-8", "replace")


_FRAME = re.compile(
    r"\bat\s+[\w.$<>\[\]-]+\s*\((?:[\w$.-]+\.(?:java|kt|scala|groovy|cs|js|ts|mjs)(?::\d+){0,2}|native method|unknown source"
    r"|[^()\n]{0,200}\.(?:js|ts|mjs)(?::\d+){1,2})\)"
    r"|\bat\s+[\w.$<>`]+\([^()\n]{0,200}\)\s+in\s+[^\n]{1,200}:line\s+\d+"
    r"|\bFile\s+\x22[^\x22\n]{1,300}\x22,\s+line\s+\d+(?:,\s+in\s+\S+)?",
    re.I,
)


# A necessary condition for _FRAME, searched by RE2 in linear time: `re` takes 30-40 ms to find no frame in a
# 1 MiB body (no literal prefix to skip by), RE2 2 ms. Whitespace is Python's (str.isspace), so that every
# text _FRAME changes is searched by it.
_WS = r"[\t-\r\x1c-\x20\x85\p{Z}]"
_FRAME_HINT = searcher(rf'(?i)at{_WS}+[^\s(]+{_WS}*\(|file{_WS}+"')
_FRAME_HINT_FROM = 4096  # characters; shorter texts go to _FRAME directly


def strip_stack_frames(s: str) -> str:
    """A crash report without its stack frames (each becomes a space): Java/Kotlin/Android `at pkg.Class.run(Class.java:12)`
    and `(Native Method)`, .NET `at Ns.Type.Method() in file.cs:line 12`, JavaScript `at fn (app.js:1:2)` and Python
    `File "x.py", line 3, in f`. The class names in frames are the code that crashed, not a gadget chain; what
    the report says outside its frames is kept. Unchanged when `s` has no frame."""
    if "at " not in s and "File " not in s and "AT " not in s:
        return s
    if len(s) > _FRAME_HINT_FROM and not _FRAME_HINT(s):
        return s
    return _FRAME.sub(" ", s)


def normalize_path(s: str) -> str:
    """Backslashes to `/`, then `//`, `/./` and `/../` resolved (never above the root); a trailing `/` kept."""
    s = s.replace("\\", "/")
    if "/." not in s and "//" not in s and not s.startswith("."):
        return s
    absolute = s.startswith("/")
    trailing = s.endswith("/") or s.endswith("/.") or s.endswith("/..")
    out: list[str] = []
    for part in s.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not absolute:
                out.append("..")
            continue
        out.append(part)
    path = ("/" if absolute else "") + "/".join(out)
    if trailing and out:
        path += "/"
    return path or ("/" if absolute else "")


def compress_whitespace(s: str) -> str:
    """Every run of whitespace becomes one space."""
    return _WHITESPACE.sub(" ", s)


def remove_whitespace(s: str) -> str:
    return _WHITESPACE.sub("", s)


def remove_comments(s: str) -> str:
    """C comments `/* */` become one space (so `UNION/**/SELECT` reads `UNION SELECT`); `<!-- -->` too;
    SQL `--` and shell/MySQL `#` comments are removed to the end of the line. Unterminated comments run to the end.
    """
    if "/*" in s:
        s = _C_COMMENT.sub(" ", s)
    if "<!--" in s:
        s = _HTML_COMMENT.sub(" ", s)
    if "--" in s or "#" in s:
        s = _LINE_COMMENT.sub("", s)
    return s


def remove_nulls(s: str) -> str:
    return s.replace("\x00", "") if "\x00" in s else s


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "lower": lower,
    "upper": upper,
    "url_decode": url_decode,
    "html_decode": html_decode,
    "base64_decode": base64_decode,
    "normalize_path": normalize_path,
    "compress_whitespace": compress_whitespace,
    "remove_whitespace": remove_whitespace,
    "remove_comments": remove_comments,
    "remove_nulls": remove_nulls,
    "strip_markdown_code": strip_markdown_code,
    "markdown_code": markdown_code,
    "nfkc": nfkc,
    "strip_stack_frames": strip_stack_frames,
    "url_host": url_host,
    "shell_unquote": shell_unquote,
    "glob_paths": glob_paths,
    "cmd_line": cmd_line,
    "auth_basic": auth_basic,
    "saml_decode": saml_decode,
}
