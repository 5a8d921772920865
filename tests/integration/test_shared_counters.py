"""edge.shared_counters through edge.ratelimit.Limiter against a real redis-server (no gateway): the one-script
check gives the same answers as the memory counters, stays exact when two limiters (two gateways) hit one
key at once, frees capacity when the window passes, and keeps `limits`' own key layout (a gateway still
counting through `limits` shares the budget).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import limits
import pytest
from limits.aio.strategies import STRATEGIES as LIMITS_STRATEGIES
from limits.storage import storage_from_string

from edge.config import RateLimitConfig
from edge.ratelimit import Limiter, StorageDown
from edge.ratepolicy import Policy

from .conftest_redis import module_redis_fixture, redis_fixture  # noqa: F401 - fixtures used by name
from .redis_server import RedisServer

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]

Rule = tuple[str, str]  # (rule id, limit)
# Each case: the rules every request matches, in order, and how many requests.
CASES: dict[str, tuple[list[Rule], int]] = {
    "one window": ([("r", "3/minute")], 5),
    "short window first": ([("r", "2/second;5/minute")], 4),
    "long window exhausted": ([("r", "5/second;2/minute")], 4),
    "two rules, the second tighter": ([("a", "3/minute"), ("b", "1/minute")], 5),
    "two rules, the first tighter": ([("b", "1/minute"), ("a", "3/minute")], 4),
}


async def answers(limiter: Limiter, rules: list[Rule], requests: int) -> list[list[tuple[str, bool, int]]]:
    """Per request: (rule, allowed, remaining) of each outcome, up to the first refusal."""
    parsed = [(Policy.of(rule_id, limits.parse_many(limit)), "key") for rule_id, limit in rules]
    out = []
    for _ in range(requests):
        outcomes = await limiter.check_all(parsed)
        assert all(o is not None for o in outcomes)
        out.append([(o.rule_id, o.allowed, o.remaining) for o in outcomes if o is not None])
    return out


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("case", list(CASES))
def test_redis_answers_as_memory_does(redis: RedisServer, strategy: str, case: str) -> None:
    rules, requests = CASES[case]

    async def go() -> tuple[list[list[tuple[str, bool, int]]], list[list[tuple[str, bool, int]]]]:
        memory = await answers(Limiter(RateLimitConfig(storage="memory://", strategy=strategy)), rules, requests)
        limiter = Limiter(RateLimitConfig(storage=redis.url, strategy=strategy))
        assert limiter.shared is not None, "a single Redis is checked with the one script"
        try:
            return memory, await answers(limiter, rules, requests)
        finally:
            await limiter.close()

    memory, shared = asyncio.run(go())
    assert shared == memory


def test_later_rules_are_not_counted_after_a_refusal(redis: RedisServer) -> None:
    async def go() -> list[int]:
        limiter = Limiter(RateLimitConfig(storage=redis.url))
        tight = (Policy.of("tight", limits.parse_many("1/minute")), "k")
        loose = (Policy.of("loose", limits.parse_many("5/minute")), "k")
        await limiter.check_all([tight, loose])  # both counted
        for _ in range(3):
            assert [o.allowed for o in await limiter.check_all([tight, loose]) if o] == [False]
        outcome = await limiter.check("loose", limits.parse_many("5/minute"), "k")
        await limiter.close()
        return [outcome.remaining] if outcome else []

    assert asyncio.run(go()) == [3], "the refused requests used up the loose rule's budget"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_two_limiters_on_one_key_at_once_stay_exact(redis: RedisServer, strategy: str) -> None:
    """Two gateways (two limiters, two connections), 300 checks in flight against a limit of 100."""

    async def go() -> list[tuple[bool, int]]:
        config = RateLimitConfig(storage=redis.url, strategy=strategy)
        a, b = Limiter(config), Limiter(config)
        items = tuple(limits.parse_many("100/minute"))
        outcomes = await asyncio.gather(*(limiter.check("r", items, "k") for _ in range(150) for limiter in (a, b)))
        await asyncio.gather(a.close(), b.close())
        return [(o.allowed, o.remaining) for o in outcomes if o is not None]

    results = asyncio.run(go())
    assert len(results) == 300
    allowed = sorted(remaining for ok, remaining in results if ok)
    assert allowed == list(range(100)), "each allowed check saw its own count: no lost or double update"
    assert [remaining for ok, remaining in results if not ok] == [0] * 200


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_capacity_comes_back_after_the_window(redis: RedisServer, strategy: str) -> None:
    async def go() -> tuple[list[bool], list[bool], int]:
        limiter = Limiter(RateLimitConfig(storage=redis.url, strategy=strategy))
        items = tuple(limits.parse_many("2/second"))
        first = [await limiter.check("r", items, "k") for _ in range(3)]
        refused = first[-1]
        assert refused is not None
        await asyncio.sleep(2.1)  # a sliding-window counter weighs the previous window too: wait two
        second = [await limiter.check("r", items, "k") for _ in range(1)]
        await limiter.close()
        return [bool(o and o.allowed) for o in first], [bool(o and o.allowed) for o in second], refused.reset

    first, second, reset = asyncio.run(go())
    assert first == [True, True, False]
    assert second == [True]
    assert 0 <= reset <= 1, reset


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_limits_own_strategies_read_the_same_counters(redis: RedisServer, strategy: str) -> None:
    """Keys and values are `limits`' own: what edge counted, `limits` sees, and the other way round."""

    async def go() -> tuple[int, Sequence[bool]]:
        item = limits.parse("10/minute")
        limiter = Limiter(RateLimitConfig(storage=redis.url, strategy=strategy))
        for _ in range(3):
            await limiter.check("r", (item,), "k")
        storage = storage_from_string("async+" + redis.url, implementation="redispy")
        other = LIMITS_STRATEGIES[strategy](storage)
        seen = (await other.get_window_stats(item, "r", "k")).remaining
        for _ in range(2):
            await other.hit(item, "r", "k")
        outcome = await limiter.check("r", (item,), "k")
        await limiter.close()
        await storage.bridge.get_connection().aclose()
        return seen, [outcome is not None and outcome.remaining == 4]

    seen, after = asyncio.run(go())
    assert seen == 7
    assert after == [True], "edge did not count limits' two hits"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_one_batch_of_many_requests_answers_as_memory_does(redis: RedisServer, strategy: str) -> None:
    """Checks that wait together go to Redis in one script call: a check refused by its first rule must not
    shift the keys and arguments of the checks after it in the batch."""
    tight = Policy.of("tight", limits.parse_many("2/minute"))
    loose = Policy.of("loose", limits.parse_many("3/second;10/minute"))
    requests = [[(tight, key), (loose, key)] if n % 3 else [(loose, key)] for n in range(12) for key in ("a", "b")]

    async def go(storage: str) -> list[list[tuple[str, bool, int]]]:
        limiter = Limiter(RateLimitConfig(storage=storage, strategy=strategy))
        try:
            if limiter.shared is None:  # memory: one after another, in the same order
                outcomes = [await limiter.check_all(rules) for rules in requests]
            else:
                outcomes = await asyncio.gather(*(limiter.check_all(rules) for rules in requests))
        finally:
            await limiter.close()
        return [[(o.rule_id, o.allowed, o.remaining) for o in out if o is not None] for out in outcomes]

    memory = asyncio.run(go("memory://"))
    assert any(not allowed for out in memory for _, allowed, _ in out), "the case refuses some requests"
    assert asyncio.run(go(redis.url)) == memory


def test_a_limiter_a_reload_replaced_closes_its_connection_after_the_grace(redis: RedisServer) -> None:
    import redis.asyncio as aioredis

    async def go() -> tuple[int, int, int]:
        observer = aioredis.from_url(redis.url)
        try:
            limiter = Limiter(RateLimitConfig(storage=redis.url))
            await limiter.check("r", limits.parse_many("5/minute"), "k")
            open_ = len(await observer.client_list())
            limiter.TIMEOUT = 0.1  # the grace is 2 x TIMEOUT + 1 s
            limiter.retire()
            await asyncio.sleep(0.5)
            during = len(await observer.client_list())
            await asyncio.sleep(1.2)
            return open_, during, len(await observer.client_list())
        finally:
            await observer.aclose()

    open_, during, after = asyncio.run(go())
    assert open_ >= 2, "the limiter's connection and the observer's"
    assert during == open_, "checks already waiting keep the connection for the grace"
    assert after == open_ - 1


def test_more_checks_at_once_than_one_call_holds_stay_exact(redis: RedisServer) -> None:
    from edge.shared_counters import MAX_BATCH

    async def go() -> tuple[list[tuple[bool, int]], int]:
        limiter = Limiter(RateLimitConfig(storage=redis.url, strategy="fixed-window"))
        assert limiter.shared is not None
        sizes: list[int] = []
        command = limiter.shared._command

        def recording(batch: list[Any]) -> bytes:
            sizes.append(len(batch))
            return command(batch)

        limiter.shared._command = recording  # type: ignore[method-assign]
        items = tuple(limits.parse_many("1000/minute"))
        try:
            outcomes = await asyncio.gather(*(limiter.check("r", items, "k") for _ in range(2 * MAX_BATCH + 100)))
        finally:
            await limiter.close()
        return [(o.allowed, o.remaining) for o in outcomes if o is not None], max(sizes)

    results, largest = asyncio.run(go())
    assert largest <= 512, "one script call holds Redis for every check in it"
    assert sorted(remaining for ok, remaining in results if ok) == list(range(1000))
    assert len([ok for ok, _ in results if not ok]) == 2 * 512 + 100 - 1000


@pytest.mark.parametrize("script", ["return {1, 2}", "return {{'1', '5', '60'}}", "return {{1, 5, {60}}}"])
@pytest.mark.parametrize("on_error", ["allow", "deny"])
def test_an_answer_of_the_wrong_shape_is_a_storage_failure(redis: RedisServer, on_error: str, script: str) -> None:
    """Another script under the SHA edge calls (a Redis that answers something else): the check fails as a
    storage failure does, open or closed, and never hangs or passes a half-read answer on."""
    import redis.asyncio as aioredis

    async def go() -> object:
        client = aioredis.from_url(redis.url)
        sha = await client.script_load(script)
        await client.aclose()
        limiter = Limiter(RateLimitConfig(storage=redis.url, on_storage_error=on_error))  # type: ignore[arg-type]
        assert limiter.shared is not None
        limiter.shared.sha = sha
        try:
            async with asyncio.timeout(2):
                return await limiter.check("r", limits.parse_many("5/minute"), "k")
        except StorageDown as exc:
            return exc
        finally:
            await limiter.close()

    result = asyncio.run(go())
    if on_error == "allow":
        assert result is None, "fail open: no outcome"
    else:
        assert isinstance(result, StorageDown) and "unexpected answer" in str(result)
