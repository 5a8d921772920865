"""Client address resolution behind trusted proxies, host matching and balancing: pure decisions."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from edge.clients import ClientResolver, new_request_id
from edge.config import parse_config
from edge.framing import host_from_header
from edge.proxy.balancer import IpHash, LeastConn, RoundRobin
from edge.proxy.upstream import Pool
from edge.runtime import ConfigState

TRUSTED = ClientResolver((ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")))


@pytest.mark.parametrize(
    ("peer", "xff", "client"),
    [
        ("198.51.100.1", b"1.2.3.4", "198.51.100.1"),  # untrusted peer: its headers mean nothing
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", b"1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", b"6.6.6.6, 1.2.3.4", "1.2.3.4"),  # only the right-most untrusted hop counts
        ("10.0.0.2", b"1.2.3.4, 10.9.9.9", "1.2.3.4"),  # trusted hops are skipped
        ("10.0.0.2", b"10.1.1.1, 10.9.9.9", "10.0.0.2"),  # all trusted: the peer
        ("10.0.0.2", b"garbage, 1.2.3.4", "1.2.3.4"),
        ("10.0.0.2", b"1.2.3.4, garbage", "10.0.0.2"),  # a malformed hop stops the walk
        ("2001:db8::5", b"2001:db9::1", "2001:db9::1"),
    ],
)
def test_client_address(peer: str, xff: bytes | None, client: str) -> None:
    assert TRUSTED.client_ip(peer, xff) == client


def test_no_trusted_proxies_means_the_peer_always() -> None:
    assert ClientResolver(()).client_ip("10.0.0.2", b"1.2.3.4") == "10.0.0.2"


def test_request_ids_are_unique_hex() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)


@pytest.mark.parametrize(
    ("header", "host"),
    [
        (b"Shop.Test", "shop.test"),
        (b"shop.test:8443", "shop.test"),
        (b"[::1]:8443", "::1"),
        (b"shop.test.", "shop.test"),
        (b"shop.test.:8443", "shop.test"),
    ],
)
def test_host_from_header(header: bytes, host: str) -> None:
    assert host_from_header(header) == host


SITES = """
[server]
https = "127.0.0.1:8443"
[[site]]
hosts = ["shop.test", "*.shop.test"]
origins = ["http://127.0.0.1:9000", "http://127.0.0.1:9001", "http://127.0.0.1:9002"]
[[site]]
hosts = ["api.shop.test"]
origins = ["http://127.0.0.1:9100"]
"""


def test_site_table_exact_before_wildcard_and_one_label_wildcards() -> None:
    table = ConfigState.build(parse_config(SITES, Path("/x/edge.toml"))).sites
    assert table.match("shop.test") is table.sites[0]
    assert table.match("www.shop.test") is table.sites[0]
    assert table.match("api.shop.test") is table.sites[1]
    assert table.match("a.b.shop.test") is None
    assert table.match("other.test") is None


def pools() -> list[Pool]:
    site = ConfigState.build(parse_config(SITES, Path("/x/edge.toml"))).sites.sites[0]
    return list(site.pools)


def test_round_robin_cycles() -> None:
    ps = pools()
    balancer = RoundRobin(ps)
    assert [balancer.pick("1.1.1.1") for _ in range(6)] == ps + ps


def test_least_conn_prefers_idle_origins() -> None:
    ps = pools()
    ps[0].active, ps[1].active, ps[2].active = 5, 1, 3
    assert LeastConn(ps).pick("1.1.1.1") is ps[1]


def test_ip_hash_is_stable_and_spreads() -> None:
    ps = pools()
    balancer = IpHash(ps)
    assert balancer.pick("203.0.113.9") is balancer.pick("203.0.113.9")
    chosen = {id(balancer.pick(f"203.0.113.{i}")) for i in range(50)}
    assert len(chosen) == 3


def test_a_site_with_origin_auth_gets_a_signer_built_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from edge.origin_guard import verify

    monkeypatch.setenv("EDGE_TEST_ORIGIN_SECRET", "current,previous")
    text = SITES.replace(
        'origins = ["http://127.0.0.1:9100"]\n',
        'origins = ["http://127.0.0.1:9100"]\norigin_auth = { secret_env = "EDGE_TEST_ORIGIN_SECRET" }\n',
    )
    table = ConfigState.build(parse_config(text, Path("/x/edge.toml"))).sites
    shop, api = table.sites
    assert shop.signer is None and api.signer is not None
    header = api.signer.header("GET", b"api.shop.test", b"/v1", 1_700_000_000)
    assert verify(header, "GET", "api.shop.test", "/v1", "previous,current", now=1_700_000_000)
