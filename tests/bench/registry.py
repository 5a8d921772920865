"""The scenario registry of `make bench`, apart from `run.py` so that `python -m tests.bench.run` (which runs
run.py as `__main__`) and the `scenario_*.py` modules share one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.bench.stack import Stack


@dataclass(frozen=True, slots=True)
class Options:
    connections: int
    seconds: float
    warmup: float
    rounds: int
    threads: int
    handshake_seconds: float
    keep: bool


Scenario = Callable[[Stack, Options], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(func: Scenario) -> Scenario:
        SCENARIOS[name] = func
        return func

    return register
