"""The WAF's one error type, the list of them a load produces, and the `did you mean` helper.

`RuleError` names a place (file, line, column; line and column are 1-based, 0 when unknown) and what is
wrong. `str()` is `path:line:col: message`, the form `edge check` prints. The parser, the type checker,
the compiler and the rule-file loader raise nothing else on bad input.

`Unparsable` and `Incomplete` are how the body parsers (forms.py, multipart.py, documents.py) tell
`forms.parse_body` that a body is not what its Content-Type claims; they never leave `parse_body`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class RuleError(Exception):
    """A problem in a rule expression or a rule file, at `file:line:col`."""

    def __init__(self, message: str, *, file: str = "<expr>", line: int = 0, col: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.col = col

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"

    def __repr__(self) -> str:
        return f"RuleError({str(self)!r})"

    def relocated(self, file: str, line: int, col: int) -> RuleError:
        """This error moved into a file: an expression error at (l, c) becomes (line + l - 1, col + c - 1 on l=1).

        `line`/`col` are where the expression text starts in the file.
        """
        if self.line <= 1:
            return RuleError(self.message, file=file, line=line, col=col + max(self.col, 1) - 1)
        return RuleError(self.message, file=file, line=line + self.line - 1, col=self.col)


class RuleSetError(Exception):
    """Loading a rule folder failed; `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[RuleError]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`"; did you mean 'x'?"` for the closest candidate, or `""` when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class Unparsable(ValueError):
    """A body that claims a structured type but is not that type."""


class Incomplete(ValueError):
    """A body whose end is missing; `pairs` and `files` are what was read before it."""

    def __init__(self, message: str, pairs: list[tuple[str, str]], files: list[Any] | None = None) -> None:
        super().__init__(message)
        self.pairs = pairs
        self.files = files or []
