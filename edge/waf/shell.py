"""Shell obfuscation undone: `shell_unquote(s)`, `glob_paths(s)` and `cmd_line(s)`.

A shell reads `w'h'o"am"i`, `c\\at`, `who$@ami`, `c${u}at`, `$'\\x63\\x61t'` and `cat${IFS}/etc/passwd` as
`whoami`, `cat`, `cat /etc/passwd`, and `/???/c?t /e??/p?sswd` as `/bin/cat /etc/passwd`; cmd.exe reads
`w^h^o^a^m^i` and `who"am"i` as `whoami`. The functions turn such text into what the interpreter runs, so that
the command rules can match it:

- `shell_unquote`: ANSI-C quoting (`$'...'` with `\\xHH`, `\\NNN`, `\\uHHHH` escapes) decoded, `$IFS` and
  `${IFS}` as a space, empty expansions (`$@`, `$*`, `${}`) and variables inside a word (`c${u}at`, `w$u'h'o`)
  removed, quoted fragments glued to a word unquoted (`w'h'o"am"i`, `ti''me`; an apostrophe in `I'd` is not a
  quote pair), backslash escapes undone. It returns "" when the value holds none of these, so a
  rule that reads it judges only what the plain rules could not see.
- `glob_paths`: every word with `/` and a glob (`?`, `*`, `[...]`) replaced by the first well-known path it
  matches (`/bin/cat`, `/etc/passwd`, `/proc/self/environ`, ...; a glob never matches `/`, as in a shell);
  "" when no word resolves.
- `cmd_line`: CRS's `t:cmdLine`: `^`, `\\`, `"` and `'` deleted, spaces before `/` and `(` deleted, `,` and `;`
  as spaces, whitespace compressed, lower-cased.

All are total and cheap on values without the characters they work on.
"""

from __future__ import annotations

import re

_ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'", re.S)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "v": "\v"}
_IFS = re.compile(r"\$\{?ifs(?:[%#][^}\s]*)?\}?", re.I)
_EMPTY = re.compile(r"\$[@*]|\$\{\}|(?<=[A-Za-z0-9_/.-])\$\{?[A-Za-z_][A-Za-z0-9_]{0,15}\}?(?=['\"A-Za-z0-9_./-])")
_BACKSLASH = re.compile(r"\\(.)", re.S)
_QUOTED = re.compile(r"(?<=[A-Za-z0-9_/.$-])(['\"])([^'\"\s]*)\1|(['\"])([^'\"\s]*)\3(?=[A-Za-z0-9_/.$-])")
_SHELL_CHARS = re.compile(r"[$'\"\\]")
_GLOB_WORD = re.compile(r"[^\s;|&<>()`'\"]*/[^\s;|&<>()`'\"]*")
_CMD_SPACE = re.compile(r"\s+(?=[/(])")
_WHITESPACE = re.compile(r"\s+")

KNOWN_PATHS = tuple(
    [
        f"/{d}/{c}"
        for d in ("bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin")
        for c in (
            "sh",
            "bash",
            "dash",
            "zsh",
            "ksh",
            "busybox",
            "cat",
            "tac",
            "nc",
            "netcat",
            "ncat",
            "socat",
            "wget",
            "curl",
            "python",
            "python3",
            "perl",
            "ruby",
            "php",
            "id",
            "whoami",
            "uname",
            "ls",
            "rm",
            "chmod",
            "echo",
            "env",
            "ping",
            "ifconfig",
            "base64",
            "head",
            "tail",
            "more",
            "less",
            "sed",
            "awk",
            "find",
            "telnet",
            "xxd",
        )
    ]
    + [
        f"/etc/{f}"
        for f in (
            "passwd",
            "shadow",
            "group",
            "gshadow",
            "hosts",
            "hostname",
            "issue",
            "sudoers",
            "crontab",
            "resolv.conf",
            "os-release",
            "fstab",
            "motd",
            "profile",
            "bashrc",
            "environment",
        )
    ]
    + [
        "/proc/self/environ",
        "/proc/self/cmdline",
        "/proc/self/maps",
        "/proc/self/status",
        "/proc/version",
        "/proc/cpuinfo",
        "/dev/tcp",
        "/dev/udp",
        "/root/.ssh/id_rsa",
        "/root/.bash_history",
    ]
)


def _unescape(m: re.Match[str]) -> str:
    body = m.group(1)
    head = body[0]
    try:
        if head in "xuU" and len(body) > 1:
            return chr(int(body[1:], 16))
        if head.isdigit():
            return chr(int(body, 8))
    except (ValueError, OverflowError):
        return body
    if head == "c" and len(body) == 2:
        return chr(ord(body[1]) & 0x1F)
    return _SIMPLE.get(body, body)


def shell_unquote(s: str) -> str:
    """See the module docstring; "" when `s` has no quoting, escape or expansion to undo."""
    if _SHELL_CHARS.search(s) is None:
        return ""
    out = _ANSI_C.sub(lambda m: _ESCAPE.sub(_unescape, m.group(1)), s) if "$'" in s else s
    out = _EMPTY.sub("", _IFS.sub(" ", out))
    out = _BACKSLASH.sub(r"\1", _QUOTED.sub(lambda m: m.group(2) if m.group(1) else m.group(4), out))
    return "" if out == s else out


def _glob_regex(word: str) -> re.Pattern[str] | None:
    """The regex of a shell glob word (`?` and `*` never match `/`), None when it has no glob or is malformed."""
    if not any(c in word for c in "?*["):
        return None
    out, i = [], 0
    while i < len(word):
        c = word[i]
        if c == "?":
            out.append("[^/]")
        elif c == "*":
            out.append("[^/]*")
        elif c == "[":
            end = word.find("]", i + 2)
            if end < 0:
                return None
            inner = word[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + inner[1:] if inner[:1] in "!^" else inner) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error:
        return None


def glob_paths(s: str) -> str:
    """See the module docstring; "" when no word of `s` is a glob that names a well-known path."""
    if "/" not in s or not any(c in s for c in "?*["):
        return ""
    changed = False

    def resolve(m: re.Match[str]) -> str:
        nonlocal changed
        pattern = _glob_regex(m.group(0))
        if pattern is not None:
            for path in KNOWN_PATHS:
                if pattern.match(path):
                    changed = True
                    return path
        return m.group(0)

    out = _GLOB_WORD.sub(resolve, s)
    return out if changed else ""


def cmd_line(s: str) -> str:
    """See the module docstring (CRS `t:cmdLine`)."""
    out = s.replace("^", "").replace("\\", "").replace('"', "").replace("'", "")
    out = _CMD_SPACE.sub("", out.replace(",", " ").replace(";", " "))
    return _WHITESPACE.sub(" ", out).strip().lower()
