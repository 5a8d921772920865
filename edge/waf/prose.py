"""Markdown prose and the code inside it: `strip_markdown_code(s)` and `markdown_code(s)`.

Comments, issue bodies, commit messages and chat posts are prose in which people quote code: inline spans
(`` `rm -rf /tmp/build` ``) and fenced blocks (```` ```sql ... ``` ````). Such code is syntax a renderer
shows, not input an application runs, and the same bytes in a short argument are an attack. So a value is
split only when it *reads as prose*: outside its code it has at least PROSE_WORDS words of two or more letters
and either sentence punctuation right after a word (`fixed it.`, `one nit:`, `Thanks!`) or no shell command or
SQL clause among its words (`fyi `make migrate` fixed it` is chat, `echo test `id` done` a command line,
``select * from `movies` group by `year` `` a statement); around a fenced
or marked-up block two words are enough (`Repro:`, `see below`), the block being markup no payload needs. A payload (`` `id` ``, `` a;`whoami` ``, `` user'collate`nocase` ``, a SQL
statement with quoted identifiers) has no such sentence, and is returned as it is.

Inline code is a backtick run that prose puts around it (after a space, a bracket or a quote, before a space or
punctuation: `` a `id` `` is markdown, `` a`id` `` and `` --exec=`id`-- `` are shell) closed by the same run on
the same line; a fence is a line starting with ``` or ~~~, closed by the
same fence or the end of the value. Rich-text editors and wikis write code as markup: a `<pre>`, `<code>`,
MediaWiki `<syntaxhighlight>`/`<source>` element, a Confluence `<ac:plain-text-body>` or a BBCode `[code]` block
counts as code when its content holds no tag, only escaped text
(`&lt;button onclick=...&gt;`): the functions run before HTML decoding, where a real `<script>` inside `<code>`
is still a tag. Both functions are total and cheap on values without backticks, tildes or `<pre`/`<code`.
"""

from __future__ import annotations

import re

PROSE_WORDS = 3
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*(?:\n.*?)??(?:\n[ \t]{0,3}\1[ \t]*(?=\n|\Z)|\Z)", re.S | re.M)
_HTML_CODE = re.compile(
    r"<(pre|code|ac:plain-text-body|syntaxhighlight|source)\b[^<>]*>(?:[^<]|<!\[CDATA\[|\]\]>)*</\1\s*>"
    r"|\[(code)(?:=[\w+#-]+)?\][^\[]*\[/code\]",
    re.I,
)
_CODE_TAG = re.compile(r"<(?:pre|code|ac:plain-text-body|syntaxhighlight|source)\b|\[code[\]=]", re.I)
_SPAN = re.compile(r"(?:(?<=[\s(\[\x22\x27*_>])|^)(`+)(?!`)([^\n]+?)(?<!`)\1(?=[\s.,;:!?)\]\x22\x27*_<]|$)", re.M)
_SHELL_WORD = re.compile(
    r"(?<![\w-])(?:echo|printf|cat|ls|id|sh|bash|zsh|curl|wget|nc|ncat|rm|cd|cp|mv|ping|sleep|eval|exec|sudo|env|"
    r"export|set|kill|python\d?|perl|ruby|php|node|powershell|cmd|whoami|uname|chmod|chown|touch|find|grep|awk|sed)"
    r"(?![\w-])|\bselect\b.*\bfrom\b|\b(?:group|order)\s+by\b|\binsert\s+into\b|\bdelete\s+from\b|\bunion\b.*\bselect\b"
    r"|\bhaving\b|\bwhere\b.*[=<>]",
    re.I | re.S,
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_SENTENCE = re.compile(r"[^\W\d_]{2,}\s*[.!?,;:)](?:\s|$)|[.!?]\s*$")


def _split(s: str) -> tuple[str, list[str]] | None:
    """(the prose with each piece of code replaced by a space, the pieces of code), or None when `s` has no
    markdown code or does not read as prose."""
    if "`" not in s and "~~~" not in s and not _CODE_TAG.search(s):
        return None
    code: list[str] = []

    def keep(m: re.Match[str]) -> str:
        code.append(m.group(0))
        return " "

    fenced = _HTML_CODE.sub(keep, _FENCE.sub(keep, s))
    blocks = len(code)
    text = _SPAN.sub(keep, fenced)
    if not code:
        return None
    words = len(_WORD.findall(text))
    if blocks and (words >= 2 or (words and _SENTENCE.search(text) is not None)):
        return text, code  # a fence or a code element is markdown or markup, not a payload
    if words < PROSE_WORDS:
        return None
    if _SENTENCE.search(text) is None and _SHELL_WORD.search(text) is not None:
        return None  # `echo test `id` done` is a command line, `fyi `make test` fixed it` a chat message
    return text, code


def strip_markdown_code(s: str) -> str:
    """Markdown prose without its code (each span or block becomes a space); any other value unchanged."""
    split = _split(s)
    return s if split is None else split[0]


def markdown_code(s: str) -> str:
    """The code quoted in markdown prose, one piece per line, delimiters kept; "" for any other value."""
    split = _split(s)
    return "" if split is None else "\n".join(split[1])
