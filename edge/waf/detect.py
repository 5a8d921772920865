"""`sqli(x)` and `xss(x)`: libinjection's SQL-injection and XSS detectors (package `libinjection-python`).

Both are total: input libinjection cannot take (lone surrogates) is re-encoded with replacement characters,
and any other failure counts as "no attack" rather than an exception on the request path. Verdicts on short
values (most query arguments, which repeat across requests) are kept in a small bounded cache: a call into
libinjection costs microseconds, a dict hit tens of nanoseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libinjection

from edge.waf.bounded import BoundedCache

CACHE_MAX_ENTRIES = 8192
CACHE_MAX_LENGTH = 256


def _detector(check: Callable[[str], Any], key: str) -> Callable[[str], bool]:
    cache: BoundedCache[str, bool] = BoundedCache(CACHE_MAX_ENTRIES, CACHE_MAX_LENGTH)
    lookup, put = cache.get, cache.put

    def detect(text: str) -> bool:
        found = lookup(text)
        if found is not None:
            return found
        try:
            try:
                found = bool(check(text)[key])
            except UnicodeError:
                found = bool(check(text.encode("utf-8", "replace").decode("utf-8"))[key])
        except Exception:  # a detector failure must never fail the request
            found = False
        put(text, found)
        return found

    return detect


sqli = _detector(libinjection.is_sql_injection, "is_sqli")
sqli.__doc__ = "True when libinjection reads `text` as an SQL-injection fragment."
xss = _detector(libinjection.is_xss, "is_xss")
xss.__doc__ = "True when libinjection reads `text` as an XSS fragment (HTML/JS injection)."
