"""RE2 for the WAF: one compiled regex, and one multi-pattern set, both linear time in the input.

Calls go to `re2._re2` (the package's C++ binding) rather than the `re2` wrapper: the wrapper spends
about 1 µs per search converting offsets that a yes/no answer does not need. Text is UTF-8; strings with
lone surrogates are encoded with `surrogatepass` so that matching never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import re2
from re2 import _re2

UNANCHORED = _re2.RE2.Anchor.UNANCHORED
ANCHOR_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
SET_MAX_MEM = 64 << 20


def _options(max_mem: int = 8 << 20) -> re2.Options:
    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    options.max_mem = max_mem
    return options


def utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def check(pattern: str) -> str | None:
    """None when `pattern` is valid RE2 syntax, else RE2's error message."""
    compiled = _re2.RE2(utf8(pattern), _options())
    return None if compiled.ok() else compiled.error().decode("utf-8", "replace")


def searcher(pattern: str) -> Callable[[str], bool]:
    """`search(text)`: does `pattern` match anywhere in `text`? The pattern must have passed `check`."""
    match = _re2.RE2(utf8(pattern), _options()).Match

    def search(text: str) -> bool:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        return bool(match(UNANCHORED, data, 0, len(data))[0][0] >= 0)

    return search


class RegexSet:
    """Many patterns matched in one pass; `match(text)` returns the indices of the patterns that match.

    Raises `ValueError` at construction when RE2 cannot build the set (for example out of memory): the
    caller then checks those patterns one by one.
    """

    __slots__ = ("_match",)

    def __init__(self, patterns: Sequence[str]) -> None:
        rset = _re2.Set(UNANCHORED, _options(SET_MAX_MEM))
        for pattern in patterns:
            if rset.Add(utf8(pattern)) < 0:
                raise ValueError(f"RE2 set rejected {pattern!r}")
        if not rset.Compile():
            raise ValueError("RE2 could not compile the pattern set")
        self._match = rset.Match

    def match(self, text: str) -> list[int]:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogatepass")
        result: list[int] = self._match(data)
        return result
