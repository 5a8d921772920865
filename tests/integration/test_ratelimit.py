"""Rate limiting end to end: `[[ratelimit]]` rules in a real `edge run`, counters in memory or in a real
redis-server, requests from real TLS clients to the demo origin.

Covered: 429 with `Retry-After`, `RateLimit-Policy` and `RateLimit` (IETF httpapi draft, structured fields),
the origin never seeing a limited request, the metric and the access-log field; several windows; keys
(a header, the client address behind trusted proxies, a spoofed X-Forwarded-For from an untrusted peer);
only matching requests count; one budget across two gateways and across two workers sharing Redis; the
warning for memory:// with several workers; Redis going away and coming back (fail open and fail closed);
the three strategies.
"""

from __future__ import annotations

import http.client
import re
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis as redis_py

from .conftest_redis import module_redis_fixture, own_redis_fixture, redis_fixture  # noqa: F401 - fixtures used by name
from .harness import DemoOrigin, Gateway, GatewayFactory, Response, send
from .redis_server import RedisServer

STATE = re.compile(r'"(?P<id>[^"]+)";r=(?P<r>\d+);t=(?P<t>\d+)')
POLICY = re.compile(r'"(?P<id>[^"]+)";q=(?P<q>\d+);w=(?P<w>\d+)')
RATELIMIT_HEADERS = {"ratelimit", "ratelimit-policy", "retry-after"}
STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


def limit_rule(rule_id: str, expr: str, limit: str, key: str | None = None) -> str:
    text = f"[[ratelimit]]\nid = \"{rule_id}\"\nexpr = '''{expr}'''\nlimit = \"{limit}\"\n"
    return text + (f"key = '''{key}'''\n" if key is not None else "")


def path_is(path: str) -> str:
    return f'http.request.uri.path eq "{path}"'


def sites(origin: DemoOrigin) -> list[dict[str, Any]]:
    return [{"hosts": ["localhost"], "origins": [origin.url]}]


def state_of(r: Response) -> tuple[str, int, int]:
    """(rule id, remaining, seconds to reset) from the `RateLimit` header."""
    value = r.header("RateLimit")
    assert value is not None, f"no RateLimit header on a {r.status}: {r.headers}"
    m = STATE.fullmatch(value)
    assert m, f"RateLimit is not a structured-field item: {value!r}"
    return m["id"], int(m["r"]), int(m["t"])


def policy_of(r: Response) -> tuple[str, int, int]:
    """(rule id, quota, window seconds) from the `RateLimit-Policy` header."""
    value = r.header("RateLimit-Policy")
    assert value is not None, f"no RateLimit-Policy header on a {r.status}: {r.headers}"
    m = POLICY.fullmatch(value)
    assert m, f"RateLimit-Policy is not a structured-field item: {value!r}"
    return m["id"], int(m["q"]), int(m["w"])


def retry_after(r: Response) -> int:
    value = r.header("Retry-After")
    assert value is not None and value.isdigit(), f"Retry-After must be delta-seconds: {value!r}"
    return int(value)


def metric(gateway: Gateway, name: str, labels: str = "") -> float:
    """The value of one sample of admin /metrics (0 when absent); `labels` as rendered, e.g. 'rule="x"'."""
    text = gateway.admin("/metrics").body.decode()
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def metric_sum(gateway: Gateway, name: str) -> float:
    """The sum of every sample of a counter, whatever its labels."""
    text = gateway.admin("/metrics").body.decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith((name + "{", name + " ")))


def burst(gateway: Gateway, method: str, path: str, count: int, **kwargs: Any) -> list[Response]:
    """`count` requests on one keep-alive connection (fast enough for per-second windows)."""
    with gateway.connection("localhost") as conn:
        return [send(conn, method, path, **kwargs) for _ in range(count)]


def assert_gateway_429(r: Response, rule_id: str) -> None:
    """A 429 of the gateway: its small page with the request id, and the three rate-limit headers."""
    assert r.status == 429, (r.status, r.body[:200])
    assert r.request_id and f"Edge-Request-Id: {r.request_id}".encode() in r.body
    assert retry_after(r) >= 1
    assert policy_of(r)[0] == rule_id
    rule, remaining, _ = state_of(r)
    assert (rule, remaining) == (rule_id, 0)


# --- the module's gateway: memory storage, no trusted proxies --------------------------------------------------

MEMORY_RULES = "\n".join(
    [
        limit_rule("login", 'http.request.method eq "POST" and http.request.uri.path eq "/login"', "5/minute"),
        limit_rule("multi", path_is("/multi"), "2/second;5/minute"),
        limit_rule(
            "apikey", 'starts_with(http.request.uri.path, "/api/")', "3/minute", 'http.request.headers["x-api-key"][0]'
        ),
        limit_rule("spoof", path_is("/spoof"), "3/minute", "ip.src"),
        limit_rule("only-post", 'http.request.method eq "POST" and http.request.uri.path eq "/only"', "1/minute"),
        limit_rule("form", path_is("/form"), "1/minute"),
    ]
)


@pytest.fixture(scope="module")
def limited(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    """One worker, memory:// counters, moving window (the defaults), the rules of MEMORY_RULES."""
    return module_factory.start(
        sites(origin_a), tables={"ratelimit": {"storage": "memory://"}}, rules={"50-limits.toml": MEMORY_RULES}
    )


# --- 1. one limit, its headers, the origin, the metric, the log ---------------------------------------------------


def test_five_per_minute_lets_five_pass_then_429_with_headers(limited: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    allowed = [limited.request("POST", "/login", body=b"user=ann") for _ in range(5)]
    assert [r.status for r in allowed] == [200] * 5
    assert origin_a.count() == before + 5
    assert [state_of(r)[1] for r in allowed] == [4, 3, 2, 1, 0], "RateLimit r must count down"
    for r in allowed:
        assert policy_of(r) == ("login", 5, 60)
        rule, _, reset = state_of(r)
        assert rule == "login" and 1 <= reset <= 60
        assert r.header("Retry-After") is None, "Retry-After belongs to the refusal only"

    limited_before = metric(limited, "edge_ratelimit_limited_total", 'rule="login"')
    sixth = limited.request("POST", "/login", body=b"user=ann")
    assert_gateway_429(sixth, "login")
    assert policy_of(sixth) == ("login", 5, 60)
    _, _, reset = state_of(sixth)
    assert 50 <= reset <= 60, f"the five hits were just now: the window frees capacity in ~60 s, not {reset}"
    assert retry_after(sixth) == reset
    assert b"Hello from" not in sixth.body
    assert origin_a.count() == before + 5, "the limited request reached the origin"

    assert metric(limited, "edge_ratelimit_limited_total", 'rule="login"') == limited_before + 1
    seventh = limited.request("POST", "/login", body=b"user=ann")
    assert seventh.status == 429
    assert metric(limited, "edge_ratelimit_limited_total", 'rule="login"') == limited_before + 2

    line = limited.log_for(sixth.request_id or "")
    assert line["status"] == 429
    assert line["origin"] is None
    assert line["ratelimit"] == {"rule": "login", "allowed": False, "remaining": 0}
    first = limited.log_for(allowed[0].request_id or "")
    assert first["status"] == 200
    assert first["ratelimit"] == {"rule": "login", "allowed": True, "remaining": 4}


def test_limited_request_body_is_not_parsed_as_a_request(limited: Gateway, origin_a: DemoOrigin) -> None:
    """A 429 answered before the body is read: on the same keep-alive connection, those body bytes must not
    become a request of their own, and the next real request is answered normally."""
    smuggled = b"GET /echo/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with limited.connection("localhost") as conn:
        assert send(conn, "POST", "/form", body=b"first").status == 200
        before = origin_a.count()
        refused = send(conn, "POST", "/form", body=smuggled)
        assert refused.status == 429
        try:
            follow = send(conn, "GET", "/echo/after")
        except (http.client.HTTPException, ConnectionError):
            follow = None  # closing the connection after the 429 is a sound answer too
    if follow is not None:
        assert follow.status == 200
        assert follow.json()["target"] == "/echo/after"
    assert origin_a.count() == before + (1 if follow is not None else 0), "the smuggled request reached the origin"


# --- 2. several windows ---------------------------------------------------------------------------------------------


def test_several_windows_each_enforced(limited: Gateway) -> None:
    """ "2/second;5/minute": a burst stops at 2 (Retry-After 1); after 5 in the minute the minute window refuses
    with its own policy, and a new second does not help."""
    first = burst(limited, "GET", "/multi", 3)
    assert [r.status for r in first] == [200, 200, 429]
    assert [state_of(r)[1] for r in first[:2]] == [1, 0]
    assert all(policy_of(r) == ("multi", 2, 1) for r in first)
    assert_gateway_429(first[2], "multi")
    assert retry_after(first[2]) == 1

    time.sleep(1.2)
    second = burst(limited, "GET", "/multi", 3)
    assert [r.status for r in second] == [200, 200, 429]  # minute: 4 of 5 used
    assert policy_of(second[2]) == ("multi", 2, 1)

    time.sleep(1.2)
    third = burst(limited, "GET", "/multi", 2)
    assert [r.status for r in third] == [200, 429]  # the 5th of the minute, then the minute window refuses
    assert policy_of(third[0]) == ("multi", 5, 60), "the tightest window (0 left of 5/minute) is the one shown"
    assert state_of(third[0])[1] == 0
    assert_gateway_429(third[1], "multi")
    assert policy_of(third[1]) == ("multi", 5, 60)
    assert retry_after(third[1]) > 50

    time.sleep(1.2)
    later = limited.request("GET", "/multi")
    assert later.status == 429, "a fresh second must not reset the minute window"
    assert policy_of(later) == ("multi", 5, 60)


# --- 3. keys -----------------------------------------------------------------------------------------------------


def test_header_key_gives_each_api_key_its_own_budget(limited: Gateway) -> None:
    def run(api_key: str | None, count: int) -> list[Response]:
        headers = {"X-Api-Key": api_key} if api_key is not None else {}
        return [limited.request("GET", "/api/items", headers=headers) for _ in range(count)]

    alice = run("alice-key", 4)
    assert [r.status for r in alice] == [200, 200, 200, 429]
    assert [state_of(r)[1] for r in alice] == [2, 1, 0, 0]
    bob = run("bob-key", 4)
    assert [r.status for r in bob] == [200, 200, 200, 429], "bob's budget is not alice's"
    assert [state_of(r)[1] for r in bob[:3]] == [2, 1, 0]
    assert run("alice-key", 1)[0].status == 429, "alice is still limited"
    # requests without the header share one budget of their own (the key is empty), they are not unlimited
    anonymous = run(None, 4)
    assert [r.status for r in anonymous] == [200, 200, 200, 429]


def test_client_address_key_behind_trusted_proxy(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    """With 127.0.0.0/8 trusted, the client in X-Forwarded-For is the key: two clients, two budgets."""
    gw = gateway_factory.start(
        sites(origin_a),
        server={"trusted_proxies": ["127.0.0.0/8"]},
        rules={"50-limits.toml": limit_rule("xff", path_is("/xff"), "2/minute", "ip.src")},
    )

    def run(forwarded_for: str, count: int) -> list[Response]:
        return [gw.request("GET", "/xff", headers={"X-Forwarded-For": forwarded_for}) for _ in range(count)]

    one = run("203.0.113.1", 3)
    assert [r.status for r in one] == [200, 200, 429]
    two = run("203.0.113.2", 3)
    assert [r.status for r in two] == [200, 200, 429], "a second client address has a budget of its own"
    assert [state_of(r)[1] for r in two[:2]] == [1, 0]
    assert gw.log_for(two[0].request_id or "")["client"] == "203.0.113.2"
    # an address forged left of the real client changes nothing: the right-most untrusted hop is the client
    forged = run("198.51.100.77, 203.0.113.1", 1)[0]
    assert forged.status == 429
    assert gw.log_for(forged.request_id or "")["client"] == "203.0.113.1"


def test_spoofed_forwarded_for_from_untrusted_peer_shares_one_budget(limited: Gateway) -> None:
    """No trusted proxies: X-Forwarded-For is the client's own claim and must not change the key."""
    responses = [limited.request("GET", "/spoof", headers={"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(6)]
    assert [r.status for r in responses] == [200, 200, 200, 429, 429, 429]
    assert [state_of(r)[1] for r in responses[:3]] == [2, 1, 0]
    assert limited.log_for(responses[1].request_id or "")["client"] == "127.0.0.1"
    without = limited.request("GET", "/spoof")
    assert without.status == 429, "the peer's own budget is the one the spoofed requests used up"


# --- 4. only matching requests count ---------------------------------------------------------------------------


def test_only_matching_requests_count_and_carry_headers(limited: Gateway) -> None:
    assert limited.request("POST", "/only", body=b"x").status == 200
    assert limited.request("POST", "/only", body=b"x").status == 429
    others = [
        limited.request("GET", "/only"),
        limited.request("HEAD", "/only"),
        limited.request("POST", "/only/more", body=b"x"),
        limited.request("POST", "/onlyx", body=b"x"),
        limited.request("POST", "/other", body=b"x"),
    ] + [limited.request("GET", "/only") for _ in range(5)]
    for r in others:
        assert r.status == 200, r.status
        assert not (r.names() & RATELIMIT_HEADERS), f"an unmatched request got rate-limit headers: {r.headers}"
    assert limited.log_for(others[0].request_id or "")["ratelimit"] is None
    assert limited.request("POST", "/only", body=b"x").status == 429, "unmatched requests did not reset anything"


# --- 5. one budget across gateways and workers (Redis) -------------------------------------------------------------


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_two_gateways_sharing_redis_enforce_one_budget(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, redis: RedisServer, strategy: str
) -> None:
    options = {
        "tables": {"ratelimit": {"storage": redis.url, "strategy": strategy}},
        "rules": {"50-limits.toml": limit_rule("shared", path_is("/shared"), "5/minute")},
    }
    a = gateway_factory.start(sites(origin_a), **options)
    b = gateway_factory.start(sites(origin_a), **options)
    before = origin_a.count()
    answers = [(gw, gw.request("GET", "/shared")) for _ in range(5) for gw in (a, b)]
    statuses = [r.status for _, r in answers]
    assert statuses == [200] * 5 + [429] * 5, statuses
    assert [state_of(r)[1] for _, r in answers[:5]] == [4, 3, 2, 1, 0], "one counter, whichever gateway asks"
    for _, r in answers[5:]:
        assert_gateway_429(r, "shared")
    assert origin_a.count() == before + 5
    assert (
        metric(a, "edge_ratelimit_limited_total", 'rule="shared"')
        + metric(b, "edge_ratelimit_limited_total", 'rule="shared"')
        == 5
    )


def _new_connection_requests(gateway: Gateway, path: str, count: int, threads: int = 4) -> list[int]:
    """`count` requests, each on a new TLS connection, from `threads` threads at once: the statuses."""
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    per_thread = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]

    def work(n: int) -> None:
        try:
            for _ in range(n):
                status = gateway.request("GET", path).status
                with lock:
                    statuses.append(status)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in per_thread]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(60)
    assert not errors, errors
    assert len(statuses) == count
    return statuses


def _spread_over_workers(gateway: Gateway, path: str, limit: int) -> list[int]:
    """Requests on new connections until both workers served some (the access log names the worker's pid);
    at least 3 x `limit` requests."""
    statuses: list[int] = []
    for _ in range(10):
        statuses += _new_connection_requests(gateway, path, limit)
        time.sleep(0.4)  # the access log is flushed every 0.25 s
        if len(statuses) >= 3 * limit and len({line["pid"] for line in gateway.stdout_lines()}) == 2:
            return statuses
    raise AssertionError(f"{len(statuses)} new connections, all answered by one worker: the workers do not share")


def test_two_workers_sharing_redis_enforce_one_budget(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, redis: RedisServer
) -> None:
    gw = gateway_factory.start(
        sites(origin_a),
        server={"workers": 2},
        tables={"ratelimit": {"storage": redis.url}},
        rules={"50-limits.toml": limit_rule("workers", path_is("/workers"), "10/minute")},
    )
    statuses = _spread_over_workers(gw, "/workers", 10)
    assert statuses.count(200) == 10, f"{statuses.count(200)} of {len(statuses)} passed a limit of 10"
    assert statuses.count(429) == len(statuses) - 10
    assert "ratelimit.storage is" not in gw.stderr_text(), "no warning when the counters are shared"


# --- 6. memory:// with several workers -------------------------------------------------------------------------


def test_memory_storage_with_two_workers_warns_and_counts_per_worker(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, limited: Gateway
) -> None:
    gw = gateway_factory.start(
        sites(origin_a),
        server={"workers": 2},
        tables={"ratelimit": {"storage": "memory://"}},
        rules={"50-limits.toml": limit_rule("alone", path_is("/alone"), "5/minute")},
    )
    warnings = [line for line in gw.stderr_text().splitlines() if "ratelimit.storage is memory://" in line]
    assert len(warnings) == 1, gw.stderr_text()
    assert "2 workers" in warnings[0] and "redis://" in warnings[0]
    assert "ratelimit.storage is" not in limited.stderr_text(), "no warning with one worker"
    # what the warning says is true: each worker counts alone, so between 5 and 2 x 5 pass
    statuses = _spread_over_workers(gw, "/alone", 5)
    assert 5 < statuses.count(200) <= 10, statuses


# --- 7. Redis goes away and comes back ------------------------------------------------------------------------------

OUTAGE_RULES = limit_rule("outage", path_is("/outage"), "3/minute") + limit_rule(
    "probe", path_is("/probe"), "1000000/minute"
)


def _timed(call: Callable[[], Response]) -> tuple[Response, float]:
    start = time.monotonic()
    r = call()
    return r, time.monotonic() - start


def _storage_errors(gateway: Gateway) -> list[str]:
    return [line for line in gateway.stderr_text().splitlines() if "rate-limit storage" in line and "failed" in line]


@pytest.mark.parametrize("on_error", ["allow", "deny"])
def test_redis_outage_and_recovery(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, own_redis: RedisServer, on_error: str
) -> None:
    gw = gateway_factory.start(
        sites(origin_a),
        tables={"ratelimit": {"storage": own_redis.url, "on_storage_error": on_error}},
        rules={"50-limits.toml": OUTAGE_RULES},
    )
    assert [gw.request("GET", "/outage").status for _ in range(4)] == [200, 200, 200, 429]

    own_redis.stop()
    before = origin_a.count()
    answers: list[tuple[Response, float]] = []
    started = time.monotonic()
    for _ in range(25):  # about 2.5 s of traffic
        answers.append(_timed(lambda: gw.request("GET", "/outage", timeout=10)))
        time.sleep(0.1)
    outage = time.monotonic() - started
    slowest = max(seconds for _, seconds in answers)
    assert slowest < 2.0, f"a request during the outage took {slowest:.2f} s"
    statuses = [r.status for r, _ in answers]
    if on_error == "allow":
        assert statuses == [200] * len(answers), statuses
        assert origin_a.count() == before + len(answers)
        assert not any(r.names() & RATELIMIT_HEADERS for r, _ in answers), "no counter, no rate-limit headers"
    else:
        assert statuses == [503] * len(answers), statuses
        assert origin_a.count() == before, "a fail-closed request reached the origin"
        r = answers[0][0]
        assert r.request_id and f"Edge-Request-Id: {r.request_id}".encode() in r.body
        assert "redis" not in r.text().lower() and str(own_redis.port) not in r.text()
        line = gw.log_for(r.request_id)
        assert line["status"] == 503
        assert line["ratelimit"] == {"rule": "outage", "error": "storage"}

    time.sleep(0.3)  # stderr is written at once; a little margin for the last line
    errors = _storage_errors(gw)
    assert errors, f"the outage was not logged:\n{gw.stderr_text()[-2000:]}"
    expected = "allowing requests (fail open)" if on_error == "allow" else "answering 503 (fail closed)"
    assert all(expected in line for line in errors), errors
    assert len(errors) <= int(outage) + 2, f"{len(errors)} error lines in {outage:.1f} s: not at most one a second"

    own_redis.start()  # same port, empty (no persistence)
    deadline = time.monotonic() + 15
    while True:
        probe, seconds = _timed(lambda: gw.request("GET", "/probe", timeout=10))
        assert seconds < 2.0, f"a request while Redis came back took {seconds:.2f} s"
        if probe.status == 200 and probe.header("RateLimit") is not None:
            break
        assert time.monotonic() < deadline, f"limits not back 15 s after Redis restarted: {probe.status}"
        time.sleep(0.2)
    after = [gw.request("GET", "/outage") for _ in range(4)]
    assert [r.status for r in after] == [200, 200, 200, 429], "limits are enforced again, with a fresh counter"
    assert [state_of(r)[1] for r in after[:3]] == [2, 1, 0]
    assert gw.running


def _pause(server: RedisServer, sig: int) -> None:
    assert server.process is not None
    server.process.send_signal(sig)


@pytest.mark.parametrize("on_error", ["allow", "deny"])
def test_frozen_redis_does_not_hang_requests(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, own_redis: RedisServer, on_error: str
) -> None:
    """Redis stopped with SIGSTOP: the kernel still accepts its connections, nothing answers. The gateway must
    give up on the storage within a couple of seconds and apply on_storage_error."""
    gw = gateway_factory.start(
        sites(origin_a),
        tables={"ratelimit": {"storage": own_redis.url, "on_storage_error": on_error}},
        rules={"50-limits.toml": OUTAGE_RULES},
    )
    assert gw.request("GET", "/outage").status == 200
    _pause(own_redis, signal.SIGSTOP)
    try:
        start = time.monotonic()
        try:
            status: int | None = gw.request("GET", "/outage", timeout=4).status
        except TimeoutError:
            status = None
        seconds = time.monotonic() - start
    finally:
        _pause(own_redis, signal.SIGCONT)
    assert status is not None and seconds < 2.5, f"no answer within {seconds:.1f} s while Redis was frozen"
    assert status == (200 if on_error == "allow" else 503)
    assert _storage_errors(gw), "the storage failure was not logged"
    # and once Redis answers again (after the breaker's second), so does the limit
    deadline = time.monotonic() + 6
    while gw.request("GET", "/outage").status != 429:
        assert time.monotonic() < deadline, "the limit was not enforced again within 6 s of Redis answering"
        time.sleep(0.1)


# --- 8. strategies -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("storage", ["memory", "redis"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_each_strategy_enforces_a_limit(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, redis: RedisServer, strategy: str, storage: str
) -> None:
    gw = gateway_factory.start(
        sites(origin_a),
        tables={"ratelimit": {"storage": redis.url if storage == "redis" else "memory://", "strategy": strategy}},
        rules={"50-limits.toml": limit_rule("strat", path_is("/strat"), "3/minute")},
    )
    before = origin_a.count()
    answers = [gw.request("GET", "/strat") for _ in range(5)]
    assert [r.status for r in answers] == [200, 200, 200, 429, 429]
    assert [state_of(r)[1] for r in answers] == [2, 1, 0, 0, 0]
    assert all(policy_of(r) == ("strat", 3, 60) for r in answers)
    for r in answers[3:]:
        assert_gateway_429(r, "strat")
        assert 1 <= retry_after(r) <= 60
    assert origin_a.count() == before + 3
    assert gw.request("GET", "/not-limited").status == 200


def test_a_reload_that_moves_the_counters_closes_the_old_storage_connection(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, redis: RedisServer
) -> None:
    """`[ratelimit] storage` changed in edge.toml and reloaded: the next request counts in the new storage (a
    fresh budget), and the gateway's connection to the old Redis closes once the checks that may still wait on
    it are past their deadline, instead of staying open until the worker exits."""
    gw = gateway_factory.start(
        sites(origin_a),
        tables={"ratelimit": {"storage": redis.url}},
        rules={"50-limits.toml": limit_rule("moved", path_is("/moved"), "5/minute")},
    )
    observer = redis_py.Redis.from_url(redis.url)
    try:
        assert [state_of(gw.request("GET", "/moved"))[1] for _ in range(2)] == [4, 3]
        with_gateway = len(observer.client_list())
        assert with_gateway >= 2, "the gateway's connection and the observer's"
        gw.config_path.write_text(gw.config_path.read_text().replace(redis.url, "memory://"))
        gw.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while state_of(gw.request("GET", "/moved"))[1] != 4:  # memory://: a budget of its own
            assert time.monotonic() < deadline, "the reload did not move the counters"
            time.sleep(0.2)
        while len(observer.client_list()) >= with_gateway:
            assert time.monotonic() < deadline, "the old Redis connection stayed open after the reload"
            time.sleep(0.2)
    finally:
        observer.close()
