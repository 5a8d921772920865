"""May a stored response answer this request, and how? (RFC 9111 sections 4, 4.2.4 and 5.2.1; RFC 5861.)

`reuse(stored, request, now)` is the lookup phase's one decision; `stale_on_error(...)` is the one the
forward phase asks when the origin failed. Both are pure: the caller passes the request's directives
(`directives.request_directives`) and the time.

Why not hishel. hishel 2.0 (a sans-I/O RFC 9111 library) was measured before writing this. Its decision
state machine (`IdleClient.next`) costs 25-29 us per fresh hit on this machine, because it re-parses the
stored Cache-Control and dates on every lookup (`parse_cache_control` alone is 2.5 us); here the stored
side is parsed once at store time: `reuse` costs 0.3 us and a whole fresh-hit lookup (store.get, request
directives, reuse, client conditionals, served headers) 2.7 us, 3.5 us with a Vary
(tests/bench/cache_bench.py). More decisive, its decisions
do not fit a shared cache: it ignores the Age header when computing age (a response with `Age: 7200,
max-age=3600` is served as fresh: fails the suite's freshness-max-age-age and age-parse tests), reads the
clock itself, lets a stale response with `proxy-revalidate` or `s-maxage` be served when stale serving is
on (RFC 9111 section 4.2.4 forbids it), ignores request `max-age`, `min-fresh` and `only-if-cached`, has no
targeted fields (RFC 9213: `CDN-Cache-Control: no-store` is ignored and the response stored), and keeps the
last of duplicate directives (section 4.2.1 says first, or stale). Details in CACHE_NOTES.md.
"""

from __future__ import annotations

import enum

from edge.cache.directives import Directives
from edge.cache.entry import StoredResponse

# RFC 5861 section 4: the errors stale-if-error covers.
ERROR_STATUSES = frozenset({500, 502, 503, 504})


class Reuse(enum.Enum):
    """What the lookup phase does with a request, given what is stored (RFC 9111 section 4)."""

    FRESH = "fresh"  # serve the stored response (Cache-Status: hit)
    STALE = "stale"  # serve it stale: the request's max-stale allows it (hit; detail=stale)
    STALE_WHILE_REVALIDATE = "stale-while-revalidate"  # serve it stale, revalidate in the background
    REVALIDATE = "revalidate"  # send a conditional request first (`validation.revalidation_headers`)
    MISS = "miss"  # nothing stored: forward the request
    GATEWAY_TIMEOUT = "gateway-timeout"  # only-if-cached and nothing usable: answer 504 (section 5.2.1.7)


def reuse(stored: StoredResponse | None, request: Directives, now: float, *, shared: bool = True) -> Reuse:
    """The decision for one request and the stored response that matched it (after Vary), or None.

    In order (RFC 9111 section 4 and 4.2.4):
    - request or response `no-cache` (unqualified): revalidate (sections 5.2.1.4, 5.2.2.4);
    - request `max-age=N` and the response is older than N: revalidate (section 5.2.1.1);
    - fresh (lifetime > age): serve, unless request `min-fresh=N` wants N more seconds (section 5.2.1.3);
    - stale with `must-revalidate`, or in a shared cache `proxy-revalidate` or `s-maxage`: revalidate,
      whatever the request allows (sections 5.2.2.2, 5.2.2.8, 5.2.2.10);
    - request `max-stale` covering the staleness: serve stale (section 5.2.1.2);
    - response `stale-while-revalidate=N` covering it: serve stale and revalidate behind (RFC 5861 3);
    - otherwise revalidate.
    With `only-if-cached`, anything but serving becomes GATEWAY_TIMEOUT (section 5.2.1.7).
    """
    decision = Reuse.MISS if stored is None else _decide(stored, request, now, shared)
    if request.only_if_cached and decision in (Reuse.MISS, Reuse.REVALIDATE):
        return Reuse.GATEWAY_TIMEOUT
    return decision


def _decide(stored: StoredResponse, request: Directives, now: float, shared: bool) -> Reuse:
    response = stored.directives
    if request.no_cache or response.no_cache:
        return Reuse.REVALIDATE
    age = stored.age(now)
    if request.max_age is not None and age > request.max_age:
        return Reuse.REVALIDATE
    lifetime = stored.lifetime
    if lifetime > age:
        if request.min_fresh is not None and lifetime - age < request.min_fresh:
            return Reuse.REVALIDATE
        return Reuse.FRESH
    if forbids_stale(response, shared=shared):
        return Reuse.REVALIDATE
    staleness = age - lifetime
    if request.max_stale is not None and staleness <= request.max_stale:
        return Reuse.STALE
    if response.stale_while_revalidate is not None and staleness <= response.stale_while_revalidate:
        return Reuse.STALE_WHILE_REVALIDATE
    return Reuse.REVALIDATE


def forbids_stale(response: Directives, *, shared: bool = True) -> bool:
    """True when the response may never be served stale without revalidation (RFC 9111 section 4.2.4)."""
    return (
        response.no_cache
        or response.must_revalidate
        or (shared and (response.proxy_revalidate or response.s_maxage is not None))
    )


def stale_on_error(
    stored: StoredResponse,
    request: Directives,
    now: float,
    *,
    shared: bool = True,
    default_stale_if_error: float = 0.0,
) -> bool:
    """May the stored response answer the request because the origin failed? (RFC 5861 section 4.)

    "Failed" is the caller's call: a connection error or timeout, or a status in ERROR_STATUSES. Never
    when the response forbids stale serving (`forbids_stale`) or the request said `no-cache`. Otherwise the
    staleness must be within the largest of the response's `stale-if-error`, the request's
    `stale-if-error` or `max-stale`, and `default_stale_if_error` (the operator's out-of-band allowance
    that RFC 9111 section 4.2.4 permits for a disconnected cache; 0 disables it).
    """
    if request.no_cache or forbids_stale(stored.directives, shared=shared):
        return False
    staleness = max(0.0, stored.age(now) - stored.lifetime)
    windows = (
        stored.directives.stale_if_error,
        request.stale_if_error,
        request.max_stale,
        default_stale_if_error,
    )
    return staleness <= max(float(w) for w in windows if w is not None)
