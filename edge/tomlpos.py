"""Line numbers for TOML keys, which `tomllib` does not report.

Error messages must name the line of the offending key, so this scans the text once and maps every
key path (`("site", 0, "origins")`) to the line it stands on. It understands table headers, arrays of
tables, dotted and quoted keys and inline tables (whose inner keys map to the line of the table), which
covers what operators write in `edge.toml` and rule files.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""
)
_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-]+)\s*""")


def _split_key(dotted: str) -> list[str]:
    parts = []
    for match in _PART.finditer(dotted):
        part = match.group(1)
        if part[0] in "\"'":
            part = part[1:-1]
        parts.append(part)
    return parts


class TomlPositions:
    """Maps key paths of one TOML document to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path, int] = {}
        counters: dict[tuple[str, ...], int] = {}
        table: list[str | int] = []
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                    in_multiline = False
                continue
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _split_key(header.group(2))
                table = self._table_path(names, header.group(1) == "[[", counters)
                self.lines.setdefault(tuple(table), number)
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, *_split_key(key.group(1)))
                self.lines.setdefault(path, number)
                rest = line[key.end() :]
                if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                    in_multiline = True

    def _table_path(self, names: list[str], is_array: bool, counters: dict[tuple[str, ...], int]) -> list[str | int]:
        """Resolve a header to a concrete path, giving array-of-tables elements their index."""
        path: list[str | int] = []
        for depth, name in enumerate(names):
            path.append(name)
            plain = tuple(str(p) for p in path)
            last = depth == len(names) - 1
            if last and is_array:
                counters[plain] = counters.get(plain, -1) + 1
                path.append(counters[plain])
            elif plain in counters:
                path.append(counters[plain])
        return path

    def line_of(self, path: Path) -> int:
        """The line of the key, else of its nearest enclosing key or table, else 1."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1
