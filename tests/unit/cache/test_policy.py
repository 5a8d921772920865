"""Reuse decisions (RFC 9111 sections 4, 4.2.4, 5.2.1; RFC 5861) over a stored response and a request."""

from __future__ import annotations

import pytest

from edge.cache.directives import parse_cache_control
from edge.cache.policy import Reuse, forbids_stale, reuse, stale_on_error

from .conftest import Spec, T, stored

PAUSE = 3.0  # the suite's pause between requests


def decide(spec: Spec, request_cc: bytes = b"nothing-to-see-here", after: float = PAUSE, shared: bool = True) -> Reuse:
    return reuse(stored(spec), parse_cache_control([request_cc]), T + after, shared=shared)


@pytest.mark.parametrize(
    ("spec", "request_cc", "after", "expected"),
    [
        ([("Cache-Control", "max-age=3600")], b"nothing-to-see-here", PAUSE, Reuse.FRESH),
        ([("Cache-Control", "max-age=2")], b"", PAUSE, Reuse.REVALIDATE),
        # response no-cache: always revalidated, even when fresh (cc-resp-no-cache, cdn-no-cache)
        ([("Cache-Control", "max-age=10000, no-cache")], b"", 0, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=10000, No-CaChE")], b"", 0, Reuse.REVALIDATE),
        ([("CDN-Cache-Control", "no-cache"), ("Cache-Control", "max-age=10000")], b"", 0, Reuse.REVALIDATE),
        ([("Cache-Control", 'no-cache="a", max-age=100')], b"", 0, Reuse.FRESH),  # qualified: fields dropped instead
        # request directives (cc-request checks)
        ([("Cache-Control", "max-age=100000")], b"max-age=0", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=100000")], b"max-age=1", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=100000")], b"max-age=5", PAUSE, Reuse.FRESH),
        ([("Cache-Control", "max-age=100000"), ("Age", "1800")], b"max-age=600", 0, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=2")], b"max-stale=1000", PAUSE, Reuse.STALE),
        ([("Cache-Control", "max-age=2")], b"max-stale", PAUSE, Reuse.STALE),
        ([("Cache-Control", "max-age=2")], b"max-stale=0", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=1500"), ("Age", "2000")], b"max-stale=1000", 0, Reuse.STALE),
        ([("Cache-Control", "max-age=1500")], b"min-fresh=2000", 0, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=1500"), ("Age", "1000")], b"min-fresh=1000", 0, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=1500"), ("Age", "1000")], b"min-fresh=400", 0, Reuse.FRESH),
        ([("Cache-Control", "max-age=3600")], b"no-cache", 0, Reuse.REVALIDATE),
        # stale with directives that forbid serving it stale (stale-close-*), whatever the request allows
        ([("Cache-Control", "max-age=2, must-revalidate")], b"max-stale", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=2, proxy-revalidate")], b"max-stale", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=2, s-maxage=2")], b"max-stale", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=2, must-revalidate")], b"", 1, Reuse.FRESH),
        # stale-while-revalidate (RFC 5861 section 3)
        ([("Cache-Control", "max-age=1, stale-while-revalidate=3600")], b"", PAUSE, Reuse.STALE_WHILE_REVALIDATE),
        ([("Cache-Control", "max-age=1, stale-while-revalidate=4")], b"", PAUSE, Reuse.STALE_WHILE_REVALIDATE),
        ([("Cache-Control", "max-age=1, stale-while-revalidate=4")], b"", 5.5, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=1, stale-while-revalidate=4, must-revalidate")], b"", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=1, stale-while-revalidate=3600")], b"max-age=0", PAUSE, Reuse.REVALIDATE),
        ([("Cache-Control", "max-age=1, stale-while-revalidate=3600")], b"no-cache", PAUSE, Reuse.REVALIDATE),
        # only-if-cached (section 5.2.1.7)
        ([("Cache-Control", "max-age=3600")], b"only-if-cached", PAUSE, Reuse.FRESH),
        ([("Cache-Control", "max-age=2")], b"only-if-cached", PAUSE, Reuse.GATEWAY_TIMEOUT),
        ([("Cache-Control", "max-age=2")], b"only-if-cached, max-stale", PAUSE, Reuse.STALE),
    ],
)
def test_reuse(spec: Spec, request_cc: bytes, after: float, expected: Reuse) -> None:
    assert decide(spec, request_cc, after) is expected


def test_nothing_stored() -> None:
    assert reuse(None, parse_cache_control([b""]), T) is Reuse.MISS
    assert reuse(None, parse_cache_control([b"only-if-cached"]), T) is Reuse.GATEWAY_TIMEOUT


def test_private_caches_may_serve_proxy_revalidate_stale() -> None:
    spec = [("Cache-Control", "max-age=2, proxy-revalidate")]
    assert decide(spec, b"max-stale", shared=False) is Reuse.STALE
    assert forbids_stale(parse_cache_control([b"s-maxage=1"]))
    assert not forbids_stale(parse_cache_control([b"s-maxage=1"]), shared=False)


@pytest.mark.parametrize(
    ("spec", "request_cc", "after", "default", "expected"),
    [
        ([("Cache-Control", "max-age=2, stale-if-error=60")], b"", PAUSE, 0.0, True),  # stale-sie-503
        ([("Cache-Control", "max-age=2, stale-if-error=60")], b"", 63, 0.0, False),
        ([("Cache-Control", "max-age=2")], b"", PAUSE, 0.0, False),
        ([("Cache-Control", "max-age=2")], b"", PAUSE, 300.0, True),  # operator's allowance (stale-close)
        ([("Cache-Control", "max-age=2")], b"stale-if-error=10", PAUSE, 0.0, True),
        ([("Cache-Control", "max-age=2")], b"max-stale=10", PAUSE, 0.0, True),
        ([("Cache-Control", "max-age=2, must-revalidate")], b"", PAUSE, 300.0, False),  # stale-close-must-revalidate
        ([("Cache-Control", "max-age=2, proxy-revalidate")], b"", PAUSE, 300.0, False),
        ([("Cache-Control", "max-age=2, no-cache")], b"", PAUSE, 300.0, False),
        ([("Cache-Control", "max-age=2, s-maxage=2")], b"", PAUSE, 300.0, False),
        ([("Cache-Control", "max-age=2, stale-if-error=60")], b"no-cache", PAUSE, 0.0, False),
        ([("Cache-Control", "max-age=100")], b"max-age=0", PAUSE, 0.0, True),  # not stale at all
    ],
)
def test_stale_on_error(spec: Spec, request_cc: bytes, after: float, default: float, expected: bool) -> None:
    entry = stored(spec)
    request = parse_cache_control([request_cc])
    assert stale_on_error(entry, request, T + after, default_stale_if_error=default) is expected


def test_fresh_ends_when_age_reaches_the_lifetime() -> None:
    # RFC 9111 section 4.2: response_is_fresh = (freshness_lifetime > current_age)
    spec = [("Cache-Control", "max-age=10"), ("Date", 0)]
    assert decide(spec, after=9.999) is Reuse.FRESH
    assert decide(spec, after=10) is Reuse.REVALIDATE
