"""edge.ratelimit.Limiter on its own: memory counters, the header values, several windows, the strategies,
and what a storage that cannot be reached does (fail open or closed, logged at most once a second).

No gateway, no network service: the unreachable Redis is a loopback port held bound but not listening,
so every connection to it is refused at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import limits
import pytest

from edge.config import ConfigError, RateLimitConfig, parse_config
from edge.ratelimit import Limiter, Outcome, StorageDown
from edge.ratepolicy import Policy


def items(text: str) -> tuple[limits.RateLimitItem, ...]:
    return tuple(limits.parse_many(text))


async def hits(limiter: Limiter, rule: str, limit: str, key: str, count: int) -> list[Outcome | None]:
    windows = items(limit)
    return [await limiter.check(rule, windows, key) for _ in range(count)]


def run_hits(limit: str, count: int, *, strategy: str = "moving-window") -> list[Outcome]:
    async def go() -> list[Outcome]:
        limiter = Limiter(RateLimitConfig(storage="memory://", strategy=strategy))
        out = await hits(limiter, "r", limit, "k", count)
        assert all(o is not None for o in out), "memory storage never fails"
        return [o for o in out if o is not None]

    return asyncio.run(go())


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# --- header values ------------------------------------------------------------------------------------------------


def test_headers_are_ietf_draft_structured_fields() -> None:
    (window,) = Policy.of("login", items("5/minute")).windows
    outcome = Outcome("login", allowed=False, limit=5, window=60, remaining=0, reset=42, policy=window.policy)
    assert outcome.policy_header() == b'"login";q=5;w=60'
    assert outcome.state_header() == b'"login";r=0;t=42'
    assert outcome.as_log() == {"rule": "login", "allowed": False, "remaining": 0}


def test_outcomes_carry_the_numbers_of_the_window() -> None:
    out = run_hits("5/minute", 6)
    assert [o.allowed for o in out] == [True] * 5 + [False]
    assert [o.remaining for o in out] == [4, 3, 2, 1, 0, 0]
    assert {(o.rule_id, o.limit, o.window) for o in out} == {("r", 5, 60)}
    assert all(55 <= o.reset <= 60 for o in out), [o.reset for o in out]
    assert out[-1].state_header() == f'"r";r=0;t={out[-1].reset}'.encode()


@pytest.mark.parametrize(("limit", "window"), [("3/second", 1), ("3/hour", 3600), ("3/day", 86400)])
def test_window_length_in_seconds(limit: str, window: int) -> None:
    out = run_hits(limit, 4)
    assert [o.allowed for o in out] == [True, True, True, False]
    assert out[0].policy_header() == f'"r";q=3;w={window}'.encode()
    assert 1 <= out[-1].reset <= window


# --- keys and rules ------------------------------------------------------------------------------------------------


def test_keys_and_rules_have_separate_counters() -> None:
    async def go() -> None:
        limiter = Limiter(RateLimitConfig())
        a = await hits(limiter, "rule-a", "2/minute", "alice", 3)
        assert [o.allowed for o in a if o] == [True, True, False]
        b = await hits(limiter, "rule-a", "2/minute", "bob", 2)
        assert [o.allowed for o in b if o] == [True, True], "another key, another budget"
        other_rule = await hits(limiter, "rule-b", "2/minute", "alice", 2)
        assert [o.allowed for o in other_rule if o] == [True, True], "rules never share counters"
        empty = await hits(limiter, "rule-a", "2/minute", "", 3)
        assert [o.allowed for o in empty if o] == [True, True, False], "the empty key is a key like any other"

    asyncio.run(go())


# --- several windows -----------------------------------------------------------------------------------------------


def test_several_windows_refuse_on_the_first_exhausted_and_show_the_tightest() -> None:
    out = run_hits("2/second;5/minute", 3)
    assert [o.allowed for o in out] == [True, True, False]
    # after one hit: 1 left of 2/second, 4 of 5/minute: the tightest is the per-second window
    assert (out[0].window, out[0].remaining) == (1, 1)
    assert (out[1].window, out[1].remaining) == (1, 0)
    assert (out[2].limit, out[2].window, out[2].remaining) == (2, 1, 0)
    assert out[2].reset <= 1


def test_several_windows_the_longer_one_refuses_once_used_up() -> None:
    async def go() -> list[Outcome | None]:
        limiter = Limiter(RateLimitConfig())
        out = await hits(limiter, "r", "5/second;2/minute", "k", 2)
        return out + await hits(limiter, "r", "5/second;2/minute", "k", 1)

    out = asyncio.run(go())
    assert [o.allowed for o in out if o] == [True, True, False]
    last = out[-1]
    assert last is not None and (last.limit, last.window) == (2, 60)
    assert last.reset > 50


def test_a_refused_request_does_not_use_up_another_windows_budget() -> None:
    """ "3/minute;1/second": 3 requests may pass in a minute; the ones the per-second window refuses must not
    count against the minute (the same limit written "1/second;3/minute" behaves so)."""

    async def go(limit: str) -> list[bool]:
        limiter = Limiter(RateLimitConfig())
        passed = []
        for _ in range(3):
            burst = await hits(limiter, "r", limit, "k", 2)  # the 2nd of each burst: refused by 1/second
            passed += [bool(o and o.allowed) for o in burst]
            await asyncio.sleep(1.1)
        return passed

    async def both() -> tuple[list[bool], list[bool]]:
        return await asyncio.gather(go("1/second;3/minute"), go("3/minute;1/second"))

    shortest_first, longest_first = asyncio.run(both())
    assert shortest_first == [True, False] * 3
    assert longest_first == shortest_first, "the order the windows are written in changed what passes"


# --- strategies -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_each_strategy_enforces_the_limit(strategy: str) -> None:
    out = run_hits("3/minute", 5, strategy=strategy)
    assert [o.allowed for o in out] == [True, True, True, False, False]
    assert [o.remaining for o in out] == [2, 1, 0, 0, 0]
    assert all(1 <= o.reset <= 60 for o in out), [o.reset for o in out]


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_each_strategy_frees_capacity_after_the_window(strategy: str) -> None:
    async def go() -> tuple[list[bool], list[bool]]:
        limiter = Limiter(RateLimitConfig(strategy=strategy))
        first = [bool(o and o.allowed) for o in await hits(limiter, "r", "2/second", "k", 3)]
        await asyncio.sleep(2.1)  # a sliding-window counter weighs the previous window too: wait two
        second = [bool(o and o.allowed) for o in await hits(limiter, "r", "2/second", "k", 1)]
        return first, second

    first, second = asyncio.run(go())
    assert first == [True, True, False]
    assert second == [True]


def test_unknown_strategy_is_a_config_error() -> None:
    text = '[server]\nhttps = "127.0.0.1:8443"\n\n[ratelimit]\nstrategy = "leaky-bucket"\n'
    text += '\n[[site]]\nhosts = ["a.test"]\norigins = ["http://127.0.0.1:9000"]\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/srv/edge/edge.toml"))
    assert any("strategy" in str(p) for p in info.value.problems), info.value.problems


# --- storage kinds and failures -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("storage", "shared"),
    [("memory://", False), ("async+memory://", False), ("redis://127.0.0.1:6379/0", True)],
)
def test_only_memory_storage_is_per_worker(storage: str, shared: bool) -> None:
    async def go() -> bool:
        return Limiter(RateLimitConfig(storage=storage)).is_shared

    assert asyncio.run(go()) is shared


def _storage_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "edge.ratelimit" and r.levelno >= logging.ERROR]


def test_unreachable_storage_fails_open_quickly_and_logs_once_a_second(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="edge.ratelimit")
    url = f"redis://127.0.0.1:{closed_port}/0"

    async def go() -> tuple[list[Outcome | None], float]:
        limiter = Limiter(RateLimitConfig(storage=url, on_storage_error="allow"))
        start = time.monotonic()
        out = await hits(limiter, "r", "1/minute", "k", 5)  # far over the limit, if anything counted
        return out, time.monotonic() - start

    out, seconds = asyncio.run(go())
    assert out == [None] * 5, "fail open: no outcome, the request goes on"
    assert seconds < 2.0, f"5 checks against a refused port took {seconds:.2f} s"
    errors = _storage_errors(caplog)
    assert len(errors) == 1, errors
    assert url in errors[0] and "fail open" in errors[0]


def test_unreachable_storage_fails_closed(closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="edge.ratelimit")

    async def go() -> tuple[int, float]:
        limiter = Limiter(RateLimitConfig(storage=f"redis://127.0.0.1:{closed_port}/0", on_storage_error="deny"))
        refused, start = 0, time.monotonic()
        for _ in range(3):
            with pytest.raises(StorageDown):
                await limiter.check("r", items("10/minute"), "k")
            refused += 1
        return refused, time.monotonic() - start

    refused, seconds = asyncio.run(go())
    assert refused == 3
    assert seconds < 2.0
    errors = _storage_errors(caplog)
    assert len(errors) == 1 and "answering 503 (fail closed)" in errors[0], errors


def test_storage_errors_are_logged_again_after_a_second(closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="edge.ratelimit")

    async def go() -> None:
        limiter = Limiter(RateLimitConfig(storage=f"redis://127.0.0.1:{closed_port}/0"))
        await hits(limiter, "r", "1/minute", "k", 3)
        await asyncio.sleep(1.05)
        await hits(limiter, "r", "1/minute", "k", 3)

    asyncio.run(go())
    assert len(_storage_errors(caplog)) == 2
