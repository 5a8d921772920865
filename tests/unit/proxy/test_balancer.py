"""Balancing: nginx's smooth weighted round-robin, weighted least-conn, rendezvous ip-hash, the health filter."""

from __future__ import annotations

from collections import Counter

import pytest

from edge.config import Origin
from edge.proxy.balancer import BALANCERS, IpHash, LeastConn, NoUsableOrigin, Only, RoundRobin, Usable, balancer_for
from edge.proxy.upstream import Pool

CLIENTS = [f"{10 + i // 65536}.{i // 256 % 256}.{i % 256}.7" for i in range(0, 1000 * 37, 37)]


def make_pools(*weights: int, first: int = 1) -> list[Pool]:
    return [
        Pool(Origin("http", f"10.0.0.{n}", 80, f"http://10.0.0.{n}:80", weight=w))
        for n, w in enumerate(weights, start=first)
    ]


def names(picked: list[Pool]) -> str:
    return "".join("abcdefghij"[int(p.origin.host.rsplit(".", 1)[1]) - 1] for p in picked)


def not_(*excluded: Pool) -> Usable:
    return lambda pool: pool not in excluded


# --- round-robin -------------------------------------------------------------------------------------------------


def test_round_robin_is_nginx_smooth_weighted_sequence() -> None:
    balancer = RoundRobin(make_pools(3, 1, 1))
    assert names([balancer.pick("1.1.1.1") for _ in range(10)]) == "abacaabaca"


def test_round_robin_never_three_in_a_row_for_the_heavy_origin() -> None:
    balancer = RoundRobin(make_pools(3, 1, 1))
    sequence = names([balancer.pick("1.1.1.1") for _ in range(500)])
    assert "aaa" not in sequence


@pytest.mark.parametrize("weights", [(5, 3, 2), (1, 1, 1, 1), (7, 1), (100, 1, 1)])
def test_round_robin_shares_follow_weights_within_ten_percent(weights: tuple[int, ...]) -> None:
    pools = make_pools(*weights)
    balancer = RoundRobin(pools)
    counts = Counter(balancer.pick("1.1.1.1") for _ in range(400))
    for pool, weight in zip(pools, weights, strict=True):
        expected = 400 * weight / sum(weights)
        assert abs(counts[pool] - expected) <= max(0.1 * expected, 1)


def test_round_robin_skips_unusable_and_keeps_the_others_shares() -> None:
    a, b, c = pools = make_pools(3, 2, 1)
    balancer = RoundRobin(pools)
    usable = not_(b)
    counts = Counter(balancer.pick("1.1.1.1", usable) for _ in range(400))
    assert counts[b] == 0
    assert counts[a] == 300 and counts[c] == 100


def test_round_robin_order_is_the_pick_then_every_other_usable_origin() -> None:
    pools = make_pools(3, 1, 1, 2)
    twin, balancer = RoundRobin(pools), RoundRobin(pools)
    for _ in range(20):
        order = balancer.order("1.1.1.1", not_(pools[2]))
        assert order[0] is twin.pick("1.1.1.1", not_(pools[2]))
        assert sorted(map(id, order)) == sorted(map(id, (pools[0], pools[1], pools[3])))


# --- least-conn ---------------------------------------------------------------------------------------------------


def test_least_conn_avoids_the_busy_origin_and_shares_among_the_idle() -> None:
    a, b, c = pools = make_pools(1, 1, 1)
    a.active = 50
    balancer = LeastConn(pools)
    picks = [balancer.pick("1.1.1.1") for _ in range(10)]
    assert a not in picks
    assert Counter(picks) == {b: 5, c: 5}  # ties go round-robin, not always to the first


def test_least_conn_ties_follow_smooth_weighted_round_robin() -> None:
    balancer = LeastConn(make_pools(3, 1, 1))
    assert names([balancer.pick("1.1.1.1") for _ in range(5)]) == "abaca"


@pytest.mark.parametrize(
    ("weights", "active", "expected"),
    [
        ((1, 1, 1), (5, 1, 3), "b"),
        ((4, 1), (3, 1), "a"),  # 3/4 < 1/1
        ((1, 4), (1, 3), "b"),
        ((2, 1), (4, 1), "b"),  # 4/2 > 1/1
    ],
)
def test_least_conn_compares_active_per_weight(
    weights: tuple[int, ...], active: tuple[int, ...], expected: str
) -> None:
    pools = make_pools(*weights)
    for pool, count in zip(pools, active, strict=True):
        pool.active = count
    assert names([LeastConn(pools).pick("1.1.1.1")]) == expected


def test_least_conn_skips_unusable_and_orders_by_load() -> None:
    a, b, c = pools = make_pools(1, 1, 1)
    a.active, b.active, c.active = 0, 7, 3
    balancer = LeastConn(pools)
    assert balancer.pick("1.1.1.1", not_(a)) is c
    assert balancer.order("1.1.1.1") == [a, c, b]


# --- ip-hash: rendezvous ------------------------------------------------------------------------------------------


def assignment(balancer: IpHash, usable: Usable | None = None) -> dict[str, str]:
    return {ip: balancer.pick(ip, usable).origin.url for ip in CLIENTS}


def test_ip_hash_spreads_evenly_with_equal_weights() -> None:
    counts = Counter(assignment(IpHash(make_pools(1, 1, 1))).values())
    assert len(counts) == 3
    assert all(250 <= n <= 420 for n in counts.values()), counts


def test_ip_hash_adding_a_fourth_origin_moves_about_a_quarter_all_to_it() -> None:
    before = assignment(IpHash(make_pools(1, 1, 1)))
    after = assignment(IpHash(make_pools(1, 1, 1, 1)))
    moved = [ip for ip in CLIENTS if before[ip] != after[ip]]
    assert 0.15 <= len(moved) / len(CLIENTS) <= 0.35
    assert {after[ip] for ip in moved} == {"http://10.0.0.4:80"}


def test_ip_hash_removing_an_origin_moves_only_its_clients() -> None:
    before = assignment(IpHash(make_pools(1, 1, 1)))
    after = assignment(IpHash(make_pools(1, 1, first=2)))  # 10.0.0.1 removed
    for ip in CLIENTS:
        if before[ip] != "http://10.0.0.1:80":
            assert after[ip] == before[ip]


def test_ip_hash_health_filter_moves_only_the_down_origins_clients_to_their_second_choice() -> None:
    pools = make_pools(1, 1, 1, 1)
    balancer = IpHash(pools)
    before = assignment(balancer)
    after = assignment(balancer, not_(pools[1]))
    for ip in CLIENTS:
        if before[ip] == pools[1].origin.url:
            assert after[ip] == balancer.order(ip)[1].origin.url
        else:
            assert after[ip] == before[ip]


def test_ip_hash_ignores_origin_order_in_the_config() -> None:
    pools = make_pools(1, 2, 1)
    assert assignment(IpHash(pools)) == assignment(IpHash(pools[::-1]))


def test_ip_hash_shares_follow_weights_roughly() -> None:
    ips = [f"198.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(4000)]
    balancer = IpHash(make_pools(1, 2, 5))
    counts = Counter(balancer.pick(ip).origin.weight for ip in ips)
    for weight in (1, 2, 5):
        assert abs(counts[weight] / 4000 - weight / 8) < 0.04, counts


def test_ip_hash_order_ranks_all_usable_origins_without_repeats() -> None:
    pools = make_pools(1, 3, 1, 1)
    balancer = IpHash(pools)
    order = balancer.order("203.0.113.9", not_(pools[2]))
    assert order[0] is balancer.pick("203.0.113.9", not_(pools[2]))
    assert len(order) == 3 and pools[2] not in order


def test_ip_hash_gives_repeated_urls_their_own_share() -> None:
    origin = Origin("http", "10.0.0.1", 80, "http://10.0.0.1:80")
    pools = [Pool(origin), Pool(origin)]
    counts = Counter(id(IpHash(pools).pick(ip)) for ip in CLIENTS)
    assert len(counts) == 2


# --- every strategy -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", sorted(BALANCERS))
def test_nothing_usable_raises_on_pick_and_is_empty_in_order(strategy: str) -> None:
    balancer = BALANCERS[strategy](make_pools(1, 2))
    with pytest.raises(NoUsableOrigin):
        balancer.pick("1.1.1.1", lambda pool: False)
    assert balancer.order("1.1.1.1", lambda pool: False) == []


@pytest.mark.parametrize("strategy", sorted(BALANCERS))
def test_the_gateways_one_argument_call_still_works(strategy: str) -> None:
    pools = make_pools(1)
    assert BALANCERS[strategy](pools).pick("2001:db8::1") is pools[0]


@pytest.mark.parametrize("strategy", sorted(BALANCERS))
def test_a_single_origin_needs_no_strategy_but_keeps_the_health_filter(strategy: str) -> None:
    one, two = make_pools(1), make_pools(1, 2)
    balancer = balancer_for(strategy, one)
    assert isinstance(balancer, Only) and isinstance(balancer_for(strategy, two), BALANCERS[strategy])
    assert balancer.order("1.1.1.1") == [one[0]] and balancer.pick("1.1.1.1") is one[0]
    assert balancer.order("1.1.1.1", lambda pool: True) == [one[0]]
    assert balancer.order("1.1.1.1", lambda pool: False) == []
    with pytest.raises(NoUsableOrigin):
        balancer.pick("1.1.1.1", lambda pool: False)
