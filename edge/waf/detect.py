"""`sqli(x)` and `xss(x)`: libinjection's SQL-injection and XSS detectors (package `libinjection-python`).

Both are total: input libinjection cannot take (lone surrogates) is re-encoded with replacement characters,
and any other failure counts as "no attack" rather than an exception on the request path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libinjection  # type: ignore[import-untyped]


def _safe(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def _run(check: Callable[[str], Any], key: str, text: str) -> bool:
    try:
        return bool(check(text)[key])
    except UnicodeError:
        return bool(check(_safe(text))[key])


def sqli(text: str) -> bool:
    """True when libinjection reads `text` as an SQL-injection fragment."""
    try:
        return _run(libinjection.is_sql_injection, "is_sqli", text) if text else False
    except Exception:  # noqa: BLE001 - a detector failure must never fail the request
        return False


def xss(text: str) -> bool:
    """True when libinjection reads `text` as an XSS fragment."""
    try:
        return _run(libinjection.is_xss, "is_xss", text) if text else False
    except Exception:  # noqa: BLE001 - a detector failure must never fail the request
        return False
