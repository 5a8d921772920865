"""The functions of the rule language: signature (checked at load) and implementation, in one table.

`FUNCTIONS` maps a name to a `FunctionSpec`. `params` lists the value kinds each argument accepts
(the last one repeats when `variadic`; the last `optional` ones may be left out); `returns` gives the
result type from the argument types. Implementations are total: they never raise on any value of the
accepted types. A missing argument (None) makes the result missing, which the compiler handles.
`any` and `all` are reducers over an expanded array of booleans; the compiler treats them specially.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.waf import detect, hosts
from edge.waf.lang.types import BOOL, INT, IP, STR, Kind, Type
from edge.waf.transforms import TRANSFORMS

STRING = frozenset({Kind.STR})
INTEGER = frozenset({Kind.INT})


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    params: tuple[frozenset[Kind], ...]
    returns: Callable[[list[Type]], Type]
    impl: Callable[..., Any]
    optional: int = 0
    variadic: bool = False
    reducer: bool = False

    def signature(self) -> str:
        names = [" | ".join(sorted(k.value for k in kinds)) for kinds in self.params]
        if self.variadic:
            names.append("...")
        return f"{self.name}({', '.join(names)})"


def _fixed(t: Type) -> Callable[[list[Type]], Type]:
    return lambda _args: t


def _first(args: list[Type]) -> Type:
    return args[0]


def _concat(*values: Any) -> Any:
    if isinstance(values[0], str):
        return "".join(v for v in values if isinstance(v, str))
    return tuple(item for v in values if isinstance(v, tuple) for item in v)


def _substring(s: str, start: int, end: int | None = None) -> str:
    return s[start:end]


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values_except(mapping: dict[str, tuple[Any, ...]], *names: str) -> tuple[Any, ...]:
    """The values of every key of `mapping` but `names` (compared case-insensitively), in order."""
    skip = {name.lower() for name in names}
    return tuple(value for key, values in mapping.items() if key.lower() not in skip for value in values)


def _elem(args: list[Type]) -> Type:
    elem = args[0].elem
    assert elem is not None
    return elem


def _starts_with(s: str, prefix: str) -> bool:
    return s.startswith(prefix)


def _ends_with(s: str, suffix: str) -> bool:
    return s.endswith(suffix)


_SPECS = [
    *(FunctionSpec(name, (STRING,), _fixed(STR), fn) for name, fn in TRANSFORMS.items()),
    FunctionSpec("len", (frozenset({Kind.STR, Kind.ARRAY, Kind.MAP}),), _fixed(INT), len),
    FunctionSpec("concat", (frozenset({Kind.STR, Kind.ARRAY}),) * 2, _first, _concat, variadic=True),
    FunctionSpec("starts_with", (STRING, STRING), _fixed(BOOL), _starts_with),
    FunctionSpec("ends_with", (STRING, STRING), _fixed(BOOL), _ends_with),
    FunctionSpec("substring", (STRING, INTEGER, INTEGER), _fixed(STR), _substring, optional=1),
    FunctionSpec("to_string", (frozenset({Kind.INT, Kind.BOOL, Kind.IP, Kind.STR}),), _fixed(STR), _to_string),
    FunctionSpec("to_ip", (STRING,), _fixed(IP), hosts.to_ip),
    FunctionSpec("values_except", (frozenset({Kind.MAP}), STRING), _elem, _values_except, variadic=True),
    FunctionSpec("sqli", (STRING,), _fixed(BOOL), detect.sqli),
    FunctionSpec("xss", (STRING,), _fixed(BOOL), detect.xss),
    FunctionSpec("any", (frozenset({Kind.BOOL, Kind.ARRAY}),), _fixed(BOOL), any, reducer=True),
    FunctionSpec("all", (frozenset({Kind.BOOL, Kind.ARRAY}),), _fixed(BOOL), all, reducer=True),
]

FUNCTIONS: dict[str, FunctionSpec] = {spec.name: spec for spec in _SPECS}
