"""Value types of the rule language, checked at load time.

Scalars are `Bool`, `Int`, `String` and `IP address`; containers are `Array<T>` and `Map<Array<T>>`
(a map from a name to an array of values). At run time a String is a `str`, an Int an `int`, a Bool a
`bool`, an IP address an `ipaddress` address, an array a `tuple` and a map a `dict[str, tuple]`; a missing
value (an index out of range, an unparsable client address) is `None`, and every comparison on it is false.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    BOOL = "Bool"
    INT = "Int"
    STR = "String"
    IP = "IP address"
    ARRAY = "Array"
    MAP = "Map"


@dataclass(frozen=True, slots=True)
class Type:
    """A value type; `elem` is the element type of an Array or the value type of a Map."""

    kind: Kind
    elem: Type | None = None

    def __str__(self) -> str:
        if self.elem is None:
            return self.kind.value
        return f"{self.kind.value}<{self.elem}>"


BOOL = Type(Kind.BOOL)
INT = Type(Kind.INT)
STR = Type(Kind.STR)
IP = Type(Kind.IP)
STR_ARRAY = Type(Kind.ARRAY, STR)
INT_ARRAY = Type(Kind.ARRAY, INT)
STR_MAP = Type(Kind.MAP, STR_ARRAY)


def a(t: Type) -> str:
    """`t` with its article: "a String", "an Int", "an IP address", "an Array<String>"."""
    text = str(t)
    return ("an " if text[0] in "AEIOU" else "a ") + text
