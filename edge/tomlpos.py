"""Where things are in a TOML file, since `tomllib` gives no line numbers: one scanner for edge.toml and rule files.

`locate(text)` scans the lines once and records every table header (`[lists]`, `[[rule]]`, `[[rule.test]]`)
and every `key = value` line under it, with the column where the value starts. Content of multi-line
strings is skipped. `TablePos.key(name)` falls back to the header line for keys it did not see (for
example keys inside inline tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\s\"']+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=\s*")


@dataclass(slots=True)
class TablePos:
    """A table's header line, and (line, key column, value column) of each of its keys; all 1-based."""

    line: int
    keys: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    subtables: dict[str, list[TablePos]] = field(default_factory=dict)

    def key(self, name: str) -> tuple[int, int]:
        """(line, column of the value) of key `name`."""
        line, _, col = self.keys.get(name, (self.line, 1, 1))
        return line, col

    def key_start(self, name: str) -> tuple[int, int]:
        """(line, column of the key itself) of key `name`."""
        line, col, _ = self.keys.get(name, (self.line, 1, 1))
        return line, col


@dataclass(slots=True)
class FilePos:
    """`tables["lists"]` for `[lists]`; `arrays["rule"][n]` for the n-th `[[rule]]` (0-based)."""

    tables: dict[str, TablePos] = field(default_factory=dict)
    arrays: dict[str, list[TablePos]] = field(default_factory=dict)

    def array(self, name: str, index: int) -> TablePos:
        items = self.arrays.get(name, [])
        return items[index] if index < len(items) else TablePos(1)


def locate(text: str) -> FilePos:
    pos = FilePos()
    root = TablePos(1)
    current = root
    parent: TablePos | None = None
    parent_name = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line, number = lines[i], i + 1
        header = _HEADER.match(line)
        key = None if header else _KEY.match(line)
        if header:
            name = re.sub(r"\s+", "", header.group(2)).replace('"', "").replace("'", "")
            current = TablePos(number)
            if "." in name and parent is not None and name.split(".", 1)[0] == parent_name:
                # `[[rule.test]]` or `[site.static]`: belongs to the array element above it
                parent.subtables.setdefault(name.split(".", 1)[1], []).append(current)
            elif header.group(1) == "[[":
                pos.arrays.setdefault(name, []).append(current)
                parent, parent_name = current, name
            else:
                pos.tables[name] = current
                parent, parent_name = None, ""
        elif key:
            name = key.group(2).strip("\"'")
            current.keys.setdefault(name, (number, len(key.group(1)) + 1, key.end() + 1))
            i = _skip_multiline(lines, i, line[key.end() :])
        i += 1
    if root.keys:
        pos.tables[""] = root
    return pos


def _skip_multiline(lines: list[str], i: int, value: str) -> int:
    """Index of the last line of a value that opens a multi-line string on line `i`."""
    for quote in ('"""', "'''"):
        if value.startswith(quote) and value.count(quote) == 1:
            j = i + 1
            while j < len(lines) and quote not in lines[j]:
                j += 1
            return j
    return i


def expression_start(text: str, line: int, col: int) -> tuple[int, int]:
    """Where the characters of a string value starting at (line, col) begin: after its opening quotes, and on
    the next line for a multi-line string whose first line is empty (TOML trims that newline)."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return line, col
    rest = lines[line - 1][col - 1 :]
    for quote in ('"""', "'''"):
        if rest.startswith(quote):
            if rest[3:].strip() == "":
                return line + 1, 1
            return line, col + 3
    return line, col + 1


def line_of(pos: FilePos, path: tuple[str | int, ...]) -> int:
    """The line of a key path such as `("server", "https")` or `("site", 1, "timeouts", "connect")`: the
    key's own line, else its nearest enclosing key or table's (inline tables), else 1."""
    if not path:
        return 1
    name, rest = str(path[0]), path[1:]
    if rest and isinstance(rest[0], int):
        items = pos.arrays.get(name, [])
        if rest[0] >= len(items):
            return 1
        table, rest = items[rest[0]], rest[1:]
    elif name in pos.tables:
        table = pos.tables[name]
    else:
        root = pos.tables.get("")
        return root.key(name)[0] if root is not None and name in root.keys else 1
    if not rest:
        return table.line
    key = str(rest[0])
    if key in table.keys:
        return table.keys[key][0]
    inner = table.subtables.get(key)
    if inner:
        sub = inner[0]
        return sub.keys[str(rest[1])][0] if len(rest) > 1 and str(rest[1]) in sub.keys else sub.line
    return table.line
