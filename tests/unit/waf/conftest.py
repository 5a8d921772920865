"""Helpers shared by the WAF tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from edge.waf.compiler import Compiler
from edge.waf.fields import Ctx
from edge.waf.request import RequestView


def evaluate_expr(
    expr: str,
    request: str = "GET /",
    headers: Any = (),
    body: str | bytes | None = None,
    lists: dict[str, Any] | None = None,
    **view: Any,
) -> bool:
    """The value of one rule expression for one request (compiled alone, evaluated in isolation)."""
    rule = Compiler(lists).rule(expr)
    request_view = RequestView.from_request_line(request, headers=headers, body=body, **view)
    return bool(rule.predicate(Ctx(request_view)))


@pytest.fixture
def ev() -> Callable[..., bool]:
    return evaluate_expr
