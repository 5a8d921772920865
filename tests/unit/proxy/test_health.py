"""Origin health as a pure state machine: passive ejection with back-off, active thresholds, the last resort."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import parse_config
from edge.proxy.health import TRANSITIONS, HealthPolicy, OriginHealth

POLICY = HealthPolicy(unhealthy=3, healthy=2, backoff=1.0, max_backoff=30.0, probe_timeout=10.0)

Step = tuple[str, float] | tuple[str, float, bool]


def run(steps: list[Step], policy: HealthPolicy = POLICY) -> OriginHealth:
    health = OriginHealth(policy)
    for step in steps:
        kind, now = step[0], step[1]
        if kind == "fail":
            health.record_failure(now, "connection refused")
        elif kind == "ok":
            health.record_success(now)
        elif kind == "attempt":
            health.record_attempt(now)
        else:
            assert kind == "check" and len(step) == 3
            health.record_probe(now, step[2], "" if step[2] else "status 500")
    return health


EJECTED: list[Step] = [("fail", 0), ("fail", 0), ("fail", 0)]
CHECKS_DOWN: list[Step] = [("check", 0, False), ("check", 0, False), ("check", 0, False)]

# (name, steps, state afterwards, {time: usable at that time})
CASES: list[tuple[str, list[Step], str, dict[float, bool]]] = [
    ("starts up", [], "up", {0: True}),
    ("fewer failures than unhealthy keep it up", [("fail", 0), ("fail", 0)], "up", {0: True}),
    ("unhealthy failures in a row eject it", EJECTED, "down", {0: False, 0.99: False}),
    ("the back-off over, it takes a probe", EJECTED, "down", {1.0: True, 5: True}),
    ("a success resets the count", [("fail", 0), ("fail", 0), ("ok", 0), ("fail", 0), ("fail", 0)], "up", {0: True}),
    ("one probe at a time", [*EJECTED, ("attempt", 1)], "probing", {1: False, 10.99: False}),
    ("a probe without outcome stops blocking", [*EJECTED, ("attempt", 1)], "probing", {11: True}),
    ("a good probe brings it back", [*EJECTED, ("attempt", 1), ("ok", 1.2)], "up", {1.2: True}),
    (
        "a failed probe doubles the back-off",
        [*EJECTED, ("attempt", 1), ("fail", 1.5)],
        "down",
        {3.49: False, 3.5: True},
    ),
    (
        "a good probe resets the back-off",
        [*EJECTED, ("attempt", 1), ("fail", 1), ("attempt", 3), ("ok", 3), *[("fail", 5)] * 3],
        "down",
        {5.99: False, 6: True},
    ),
    ("a late failure while ejected changes nothing", [*EJECTED, ("fail", 0.5)], "down", {1.0: True}),
    ("a late success while ejected changes nothing", [*EJECTED, ("ok", 0.5)], "down", {0.9: False}),
    ("failed checks take it down", CHECKS_DOWN, "down", {0: False}),
    ("down by checks, no probe requests", CHECKS_DOWN, "down", {1000: False}),
    ("one good check is not enough", [*CHECKS_DOWN, ("check", 5, True)], "down", {5: False}),
    ("healthy good checks bring it back", [*CHECKS_DOWN, ("check", 5, True), ("check", 10, True)], "up", {10: True}),
    (
        "good checks must be consecutive",
        [*CHECKS_DOWN, ("check", 5, True), ("check", 10, False), ("check", 15, True)],
        "down",
        {15: False},
    ),
    ("good checks end an ejection early", [*EJECTED, ("check", 0.2, True), ("check", 0.4, True)], "up", {0.4: True}),
    ("failed checks override an ejection", [*EJECTED, *CHECKS_DOWN[:3]], "down", {1000: False}),
    ("passive and check failures count apart", [*CHECKS_DOWN[:2], ("fail", 0), ("fail", 0)], "up", {0: True}),
    ("a good request does not undo failed checks", [*CHECKS_DOWN, ("attempt", 1), ("ok", 1)], "down", {2: False}),
    ("a good check resets the failed ones", [*CHECKS_DOWN[:2], ("check", 0, True), *CHECKS_DOWN[:2]], "up", {0: True}),
]


@pytest.mark.parametrize(("steps", "state", "usable"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_transitions(steps: list[Step], state: str, usable: dict[float, bool]) -> None:
    health = run(steps)
    assert health.state == state
    for now, expected in usable.items():
        assert health.usable(now) is expected, now


def test_back_off_doubles_to_thirty_seconds_and_stays() -> None:
    health = run(EJECTED)
    now, waits = 0.0, []
    for _ in range(8):
        waits.append(health.retry_at - now)
        now = health.retry_at
        health.record_attempt(now)
        health.record_failure(now, "connect timed out")
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]


def test_reason_says_why_and_clears_when_back() -> None:
    health = run(EJECTED)
    assert health.reason == "3 failure(s) in a row, last: connection refused"
    health = run(CHECKS_DOWN)
    assert health.reason == "3 failed check(s) in a row, last: status 500"
    health.record_probe(1, True)
    health.record_probe(2, True)
    assert (health.state, health.reason, health.since) == ("up", "", 2)


def test_every_transition_leads_to_a_known_state() -> None:
    states = {state for state, _ in TRANSITIONS} | set(TRANSITIONS.values())
    assert states == {"up", "ejected", "checks-failed"}


# --- last resort ------------------------------------------------------------------------------------------------------


def down_at(retry_in: float) -> OriginHealth:
    """An origin ejected at 0 whose back-off ends at `retry_in`."""
    policy = HealthPolicy(unhealthy=1, backoff=retry_in, max_backoff=60, probe_timeout=10)
    return run([("fail", 0)], policy)


def test_policy_from_the_site_config() -> None:
    text = (
        '[server]\nhttps = "127.0.0.1:8443"\n[[site]]\nhosts = ["a.test"]\norigins = ["http://127.0.0.1:1"]\n'
        'timeouts = { connect = "1s", read = "5s" }\nhealth = { path = "/up", healthy = 4, unhealthy = 6 }\n'
    )
    policy = HealthPolicy.for_site(parse_config(text, Path("/x/edge.toml")).sites[0])
    assert (policy.healthy, policy.unhealthy, policy.probe_timeout) == (4, 6, 6.0)
    without = parse_config(text.replace('health = { path = "/up", healthy = 4, unhealthy = 6 }\n', ""), Path("/x/e"))
    assert HealthPolicy.for_site(without.sites[0]) == HealthPolicy(probe_timeout=6.0)
