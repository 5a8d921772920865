"""Abstract syntax of the rule language, as the parser builds it (untyped).

Every node carries `pos` and `end`, offsets into the expression text, so that errors point at the node
and `explain` can quote the source of a field expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Int:
    value: int
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Ip:
    """An address (`prefix` None) or a CIDR; `value` is an `ipaddress` address or network."""

    value: object
    is_network: bool
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Range:
    """`low..high` inside a set, integers only."""

    low: int
    high: int
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Index:
    """`base["key"]` (str), `base[N]` (int) or `base[*]` (`key` None: expansion)."""

    base: Node
    key: str | int | None
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class SetLiteral:
    items: tuple[Str | Int | Ip | Range, ...]
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class ListRef:
    name: str
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Compare:
    """`lhs op rhs`; `op` is the canonical English name (`eq`, `matches`, `strict wildcard`, `in`, ...)."""

    op: str
    lhs: Node
    rhs: Str | Int | Bool | Ip | SetLiteral | ListRef
    pos: int
    end: int
    op_pos: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Logical:
    """`and`, `or` or `xor` (canonical names) of two operands."""

    op: str
    left: Node
    right: Node
    pos: int
    end: int


Node: TypeAlias = Str | Int | Bool | Ip | Field | Call | Index | Compare | Not | Logical
