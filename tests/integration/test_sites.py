"""Requests are matched to a site by Host, and the Host must belong to the site of the TLS server name."""

from __future__ import annotations

from .harness import DemoOrigin, Gateway, send


def _assert_gateway_421(gateway: Gateway, response_status: int, request_id: str | None, body: bytes) -> None:
    assert response_status == 421
    assert request_id, "a 421 carries Edge-Request-Id"
    assert f"Edge-Request-Id: {request_id}".encode() in body


def test_unknown_host_gets_421_with_request_id(gateway: Gateway, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    r = gateway.request("GET", "/echo", host="nobody.example", sni="localhost", check_hostname=True)
    _assert_gateway_421(gateway, r.status, r.request_id, r.body)
    assert len(r.body) < 1024
    assert origin_a.count() == before, "a 421 must not reach any origin"
    line = gateway.log_for(r.request_id or "")
    assert line["status"] == 421
    assert line["host"] == "nobody.example"


def test_host_of_another_site_than_the_sni_gets_421(
    gateway: Gateway, origin_a: DemoOrigin, origin_b: DemoOrigin
) -> None:
    before = (origin_a.count(), origin_b.count())
    # TLS for a.test (site A), Host of site B
    r = gateway.request("GET", "/echo", host="b.test", sni="a.test")
    _assert_gateway_421(gateway, r.status, r.request_id, r.body)
    # and the other way round
    r = gateway.request("GET", "/echo", host="a.test", sni="b.test")
    _assert_gateway_421(gateway, r.status, r.request_id, r.body)
    assert (origin_a.count(), origin_b.count()) == before


def test_host_of_the_same_site_as_the_sni_is_served(gateway: Gateway) -> None:
    """Different names of one site share it: SNI a.test with Host localhost or x.wild.test is fine."""
    for host in ("localhost", "x.wild.test", "a.test"):
        r = gateway.request("GET", "/echo", host=host, sni="a.test", check_hostname=True)
        assert r.status == 200, (host, r.status)
        assert r.json()["origin"] == "alpha"


def test_sni_decides_with_the_site_not_a_later_host_on_the_same_connection(gateway: Gateway) -> None:
    """A connection opened for a.test cannot be reused for b.test (connection coalescing is refused)."""
    with gateway.connection("a.test") as conn:
        assert send(conn, "GET", "/echo", host="a.test").status == 200
        assert send(conn, "GET", "/echo", host="b.test").status == 421
        # the connection is still usable for its own site afterwards
        assert send(conn, "GET", "/echo", host="a.test").status == 200


def test_each_site_reaches_its_own_origin(gateway: Gateway) -> None:
    assert gateway.request("GET", "/echo", host="a.test").json()["origin"] == "alpha"
    assert gateway.request("GET", "/echo", host="b.test").json()["origin"] == "beta"
    assert gateway.request("GET", "/echo", host="deep.wild.test").json()["origin"] == "alpha"


def test_host_with_port_works(gateway: Gateway) -> None:
    host = f"localhost:{gateway.https_port}"
    r = gateway.request("GET", "/echo", host=host, sni="localhost")
    assert r.status == 200
    seen = dict(r.json()["headers"])
    assert seen["host"] == host
    assert seen["x-forwarded-host"] == host
    line = gateway.log_for(r.request_id or "")
    assert line["host"] == "localhost"


def test_host_is_case_insensitive_and_may_end_with_a_dot(gateway: Gateway) -> None:
    assert gateway.request("GET", "/echo", host="B.TEST", sni="b.test").json()["origin"] == "beta"
    assert gateway.request("GET", "/echo", host="b.test.", sni="b.test").json()["origin"] == "beta"


def test_no_sni_is_matched_by_host(gateway: Gateway) -> None:
    """Without SNI (old clients, IP literals) the Host header alone chooses the site."""
    r = gateway.request("GET", "/echo", host="b.test", sni=None)
    assert r.status == 200
    assert r.json()["origin"] == "beta"


def test_unknown_sni_with_known_host_gets_421(gateway: Gateway) -> None:
    """The default certificate answered an unknown server name; a site's Host on it is not served."""
    r = gateway.request("GET", "/echo", host="localhost", sni="nobody.example", check_hostname=False)
    assert r.status == 421
    assert r.request_id
