"""Markdown prose and the code inside it: `strip_markdown_code(s)` and `markdown_code(s)`.

Comments, issue bodies, commit messages and chat posts are prose in which people quote code: inline spans
(`` `rm -rf /tmp/build` ``) and fenced blocks (```` ```sql ... ``` ````). Such code is syntax a renderer
shows, not input an application runs, and the same bytes in a short argument are an attack. So a value is
split only when it *reads as prose*: outside its code it has sentence punctuation right after a word
(`fixed it.`, `one nit:`, `Thanks!`) and at least PROSE_WORDS words of two or more letters (one is enough
around a fenced block: `Repro:`). A payload (`` `id` ``, `` a;`whoami` ``, `` user'collate`nocase` ``, a SQL
statement with quoted identifiers) has no such sentence, and is returned as it is.

Inline code is a backtick run not glued to a word on its outside (`` a`id` `` is shell, `` a `id` `` is
markdown) closed by the same run on the same line; a fence is a line starting with ``` or ~~~, closed by the
same fence or the end of the value. Rich-text editors write code as HTML: a `<pre>` or `<code>` element (or a
Confluence `<ac:plain-text-body>`) counts as code when its content holds no tag, only escaped text
(`&lt;button onclick=...&gt;`): the functions run before HTML decoding, where a real `<script>` inside `<code>`
is still a tag. Both functions are total and cheap on values without backticks, tildes or `<pre`/`<code`.
"""

from __future__ import annotations

import re

PROSE_WORDS = 3
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*(?:\n.*?)??(?:\n[ \t]{0,3}\1[ \t]*(?=\n|\Z)|\Z)", re.S | re.M)
_HTML_CODE = re.compile(
    r"<(pre|code|ac:plain-text-body)\b[^<>]*>(?:(?!</?(?:pre|code|ac:plain-text-body)\b)[^<]|<!\[CDATA\[|\]\]>)*</\1\s*>",
    re.I,
)
_SPAN = re.compile(r"(?<![\w`\\])(`+)(?!`)([^\n]+?)(?<!`)\1(?![\w`])")
_WORD = re.compile(r"[^\W\d_]{2,}")
_SENTENCE = re.compile(r"[^\W\d_]{2,}\s*[.!?,;:)](?:\s|$)|[.!?]\s*$")


def _split(s: str) -> tuple[str, list[str]] | None:
    """(the prose with each piece of code replaced by a space, the pieces of code), or None when `s` has no
    markdown code or does not read as prose."""
    if "`" not in s and "~~~" not in s and "<pre" not in s and "<code" not in s and "<ac:" not in s:
        return None
    code: list[str] = []

    def keep(m: re.Match[str]) -> str:
        code.append(m.group(0))
        return " "

    fenced = _HTML_CODE.sub(keep, _FENCE.sub(keep, s)) if "<" in s else _FENCE.sub(keep, s)
    blocks = len(code)
    text = _SPAN.sub(keep, fenced)
    if not code:
        return None
    words = len(_WORD.findall(text))
    if words < (1 if blocks else PROSE_WORDS) or _SENTENCE.search(text) is None:
        return None
    return text, code


def strip_markdown_code(s: str) -> str:
    """Markdown prose without its code (each span or block becomes a space); any other value unchanged."""
    split = _split(s)
    return s if split is None else split[0]


def markdown_code(s: str) -> str:
    """The code quoted in markdown prose, one piece per line, delimiters kept; "" for any other value."""
    split = _split(s)
    return "" if split is None else "\n".join(split[1])
