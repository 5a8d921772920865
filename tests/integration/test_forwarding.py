"""What travels between client and origin: bodies, targets, the header hygiene of CONTRACT section 6."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterator

import pytest

from .harness import (
    DemoOrigin,
    Gateway,
    GatewayFactory,
    Handler,
    Response,
    ThreadedOrigin,
    counting_handler,
    leaky_handler,
    send,
)

StartOrigin = Callable[[Handler], ThreadedOrigin]


def seen_headers(response: Response) -> list[tuple[str, str]]:
    """The request headers as the demo origin's /echo saw them."""
    return [(name, value) for name, value in response.json()["headers"]]


def seen(response: Response, name: str) -> list[str]:
    return [value for n, value in seen_headers(response) if n == name]


# --- bodies and targets -----------------------------------------------------------------------------------------


def test_get_reaches_the_origin_intact(gateway: Gateway) -> None:
    r = gateway.request(
        "GET",
        "/echo/some/path",
        headers=[("X-Custom", "value with  spaces"), ("X-Multi", "1"), ("X-Multi", "2"), ("Accept", "*/*")],
    )
    assert r.status == 200
    report = r.json()
    assert report["method"] == "GET"
    assert report["target"] == "/echo/some/path"
    assert report["body_size"] == 0
    assert seen(r, "x-custom") == ["value with  spaces"]
    assert seen(r, "x-multi") == ["1", "2"], "repeated headers keep their order"
    assert seen(r, "accept") == ["*/*"]
    assert seen(r, "host") == ["localhost"]


def test_post_body_with_content_length_reaches_the_origin_intact(gateway: Gateway) -> None:
    body = os.urandom(1024 * 1024 + 17)
    r = gateway.request("POST", "/echo", body=body, headers={"Content-Type": "application/octet-stream"})
    assert r.status == 200
    report = r.json()
    assert report["method"] == "POST"
    assert report["body_size"] == len(body)
    assert report["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert seen(r, "content-length") == [str(len(body))]
    assert seen(r, "content-type") == ["application/octet-stream"]


def test_chunked_post_body_reaches_the_origin_intact(gateway: Gateway) -> None:
    pieces = [os.urandom(size) for size in (1, 100, 65536, 3, 200_000, 7)]
    r = gateway.request("POST", "/echo", body=iter(pieces))
    assert r.status == 200
    report = r.json()
    whole = b"".join(pieces)
    assert report["body_size"] == len(whole)
    assert report["body_sha256"] == hashlib.sha256(whole).hexdigest()
    assert seen(r, "transfer-encoding") == ["chunked"]
    assert seen(r, "content-length") == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_pass_with_their_bodies(gateway: Gateway, method: str) -> None:
    body = f"{method} body".encode()
    r = gateway.request(method, "/echo", body=body)
    assert r.status == 200
    assert r.json()["method"] == method
    assert r.json()["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_empty_post_body(gateway: Gateway) -> None:
    r = gateway.request("POST", "/echo", body=b"")
    assert r.status == 200
    assert r.json()["body_size"] == 0


@pytest.mark.parametrize(
    "target",
    [
        "/echo?a=1&b=2",
        "/echo?q=%2F%2f%20+plus&euro=%E2%82%AC",
        "/echo?empty=&&dup=1&dup=2",
        "/echo?bad=%ZZ%",
        "/echo/x;matrix=1?k=v;w",
        "/echo?json=%7B%22a%22%3A1%7D&raw={}",
        "/echo/a%2Fb?x=/./%61",
    ],
)
def test_normal_targets_are_forwarded_byte_for_byte(gateway: Gateway, target: str) -> None:
    r = gateway.request("GET", target)
    assert r.status == 200
    assert r.json()["target"] == target


@pytest.mark.parametrize(
    ("target", "forwarded"),
    [
        ("/echo/a%2fb/%7Euser?x", "/echo/a%2Fb/~user?x"),
        ("/echo/%2e%2e/echo/x?x=%00", "/echo/x?x=%00"),
        ("/echo//double//slash/", "/echo/double/slash/"),
        ("/x/../echo/./y", "/echo/y"),
        ("/echo\\back\\slash", "/echo/back/slash"),
    ],
)
def test_paths_are_forwarded_normalised(gateway: Gateway, target: str, forwarded: str) -> None:
    """The origin serves what the rules judged: the normalised path, the query as received."""
    r = gateway.request("GET", target)
    assert r.status == 200
    assert r.json()["target"] == forwarded


def test_head_request(gateway: Gateway) -> None:
    """HEAD gets the origin's headers and no body, and leaves both connections usable."""
    with gateway.connection() as conn:
        head = send(conn, "HEAD", "/1k")
        assert head.status == 200
        assert head.header("Content-Length") == "1024"
        assert head.body == b""
        after = send(conn, "GET", "/1k")
        assert after.status == 200
        assert after.body == b"x" * 1024


@pytest.mark.parametrize("status", [404, 500, 503])
def test_origin_statuses_pass_through_with_the_origin_body(gateway: Gateway, status: int) -> None:
    r = gateway.request("GET", f"/status/{status}")
    assert r.status == status
    assert r.body == b"status\n", "an origin's own error page is not replaced by the gateway's"
    assert r.request_id


# --- request headers -----------------------------------------------------------------------------------------------


def test_hop_by_hop_headers_are_not_forwarded(gateway: Gateway) -> None:
    r = gateway.request(
        "GET",
        "/echo",
        headers=[
            ("Connection", "keep-alive, X-Private-Hop"),
            ("Keep-Alive", "timeout=5, max=100"),
            ("TE", "trailers"),
            ("Upgrade", "h2c"),
            ("Proxy-Connection", "keep-alive"),
            ("Proxy-Authorization", "Basic Zm9vOmJhcg=="),
            ("X-Private-Hop", "secret"),
            ("X-Keep-Me", "kept"),
        ],
    )
    assert r.status == 200
    names = {n for n, _ in seen_headers(r)}
    for hop in ("connection", "keep-alive", "te", "upgrade", "proxy-connection", "x-private-hop"):
        assert hop not in names, f"{hop} reached the origin"
    assert seen(r, "x-keep-me") == ["kept"]


def test_forwarding_headers_are_set(gateway: Gateway) -> None:
    host = f"localhost:{gateway.https_port}"
    r = gateway.request("GET", "/echo", host=host, sni="localhost")
    assert seen(r, "x-forwarded-for") == ["127.0.0.1"]
    assert seen(r, "x-forwarded-proto") == ["https"]
    assert seen(r, "x-forwarded-host") == [host]
    assert seen(r, "forwarded") == [f'for=127.0.0.1;host="{host}";proto=https']


def test_spoofed_forwarding_headers_from_an_untrusted_peer_are_replaced(gateway: Gateway) -> None:
    r = gateway.request(
        "GET",
        "/echo",
        headers=[
            ("X-Forwarded-For", "6.6.6.6"),
            ("X-Forwarded-For", "7.7.7.7, 8.8.8.8"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", "evil.example"),
            ("Forwarded", "for=6.6.6.6;proto=http"),
            ("X-Real-IP", "6.6.6.6"),
        ],
    )
    assert seen(r, "x-forwarded-for") == ["127.0.0.1"], "replaced, not appended to"
    assert seen(r, "x-forwarded-proto") == ["https"]
    assert seen(r, "x-forwarded-host") == ["localhost"]
    assert seen(r, "forwarded") == ["for=127.0.0.1;host=localhost;proto=https"]
    assert seen(r, "x-real-ip") == []
    assert gateway.log_for(r.request_id or "")["client"] == "127.0.0.1"


def test_gateway_only_headers_sent_by_a_client_are_stripped(gateway: Gateway) -> None:
    r = gateway.request(
        "GET",
        "/echo",
        headers=[
            ("X-Client-Cert-Subject", "CN=admin"),
            ("Edge-Origin-Auth", "t=1,sig=00"),
            ("x-client-cert-subject", "CN=root"),
        ],
    )
    assert r.status == 200
    names = {n for n, _ in seen_headers(r)}
    assert "x-client-cert-subject" not in names
    assert "edge-origin-auth" not in names


@pytest.fixture(scope="module")
def trusting_gateway(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    return module_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}],
        server={"trusted_proxies": ["127.0.0.0/8"]},
    )


def test_trusted_proxy_keeps_the_client_address_as_the_client(trusting_gateway: Gateway) -> None:
    r = trusting_gateway.request("GET", "/echo", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert r.status == 200
    xff = seen(r, "x-forwarded-for")
    assert len(xff) == 1
    assert xff[0].startswith("198.51.100.1, 203.0.113.9"), "incoming values from a trusted proxy are kept"
    assert trusting_gateway.log_for(r.request_id or "")["client"] == "203.0.113.9"


def test_trusted_proxy_xff_is_appended_with_the_peer_address(trusting_gateway: Gateway) -> None:
    r = trusting_gateway.request(
        "GET",
        "/echo",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "Forwarded": "for=198.51.100.1, for=203.0.113.9"},
    )
    assert seen(r, "x-forwarded-for") == ["198.51.100.1, 203.0.113.9, 127.0.0.1"]
    assert seen(r, "forwarded") == ["for=198.51.100.1, for=203.0.113.9, for=127.0.0.1;host=localhost;proto=https"]


def test_trusted_proxy_without_xff_is_the_client(trusting_gateway: Gateway) -> None:
    r = trusting_gateway.request("GET", "/echo")
    assert seen(r, "x-forwarded-for") == ["127.0.0.1"]
    assert trusting_gateway.log_for(r.request_id or "")["client"] == "127.0.0.1"


# --- response headers ----------------------------------------------------------------------------------------------


def test_server_and_x_powered_by_are_removed(gateway: Gateway, origin_a: DemoOrigin) -> None:
    direct = origin_a.get("/1k")
    assert direct.header("Server") and direct.header("X-Powered-By"), "the demo origin does send them"
    r = gateway.request("GET", "/1k")
    assert r.status == 200
    assert "server" not in r.names()
    assert "x-powered-by" not in r.names()


@pytest.mark.parametrize("with_port", [False, True])
def test_location_and_refresh_to_the_origin_are_rewritten(
    gateway: Gateway, origin_a: DemoOrigin, with_port: bool
) -> None:
    host = f"localhost:{gateway.https_port}" if with_port else "localhost"
    direct = origin_a.get("/redirect")
    assert direct.header("Location") == f"http://127.0.0.1:{origin_a.port}/echo"
    r = gateway.request("GET", "/redirect", host=host, sni="localhost")
    assert r.status == 302
    assert r.header("Location") == f"https://{host}/echo"
    assert r.header("Refresh") == f"0; url=https://{host}/echo"


def test_leaky_origin_headers_are_cleaned(gateway_factory: GatewayFactory, threaded_origin: StartOrigin) -> None:
    origin = threaded_origin(leaky_handler)
    gw = gateway_factory.start([{"hosts": ["leaky.test"], "origins": [origin.url], "hsts": "max-age=31536000"}])
    r = gw.request("POST", "/items", host="leaky.test", body=b"{}")
    assert r.status == 201
    assert r.body == b"leaky\n"
    assert r.header("Location") == "https://leaky.test/items/7?x=1"
    assert r.header("Content-Location") == "https://leaky.test/items/7"
    for name in ("server", "x-powered-by", "keep-alive", "connection"):
        assert name not in r.names(), f"{name} reached the client"
    assert r.all("Strict-Transport-Security") == ["max-age=31536000"], "the site's HSTS, not the origin's"
    assert r.header("X-Kept") == "yes"
    assert str(origin.port) not in r.text()


def test_response_headers_named_in_connection_are_removed(
    gateway_factory: GatewayFactory, threaded_origin: StartOrigin
) -> None:
    origin = threaded_origin(leaky_handler)
    gw = gateway_factory.start([{"hosts": ["leaky.test"], "origins": [origin.url]}])
    r = gw.request("GET", "/items", host="leaky.test")
    assert r.status == 201
    assert "x-internal-hop" not in r.names(), "a hop-by-hop header named in the origin's Connection leaked"


def test_hsts_header_is_present(gateway: Gateway) -> None:
    for path in ("/1k", "/status/404", "/redirect"):
        r = gateway.request("GET", path)
        assert r.all("Strict-Transport-Security") == ["max-age=31536000"], path


def test_hsts_is_off_unless_the_site_sets_it(gateway: Gateway) -> None:
    r = gateway.request("GET", "/1k", host="nohsts.test")
    assert r.status == 200
    assert "strict-transport-security" not in r.names()


def test_every_response_has_a_fresh_request_id(gateway: Gateway) -> None:
    ids = [gateway.request("GET", "/1k").request_id for _ in range(5)]
    assert all(ids) and len(set(ids)) == 5
    assert all(re.fullmatch(r"[0-9a-f]{16}", i or "") for i in ids)


def test_no_origin_address_reaches_a_client(gateway: Gateway, origin_a: DemoOrigin, origin_b: DemoOrigin) -> None:
    samples = [
        gateway.request("GET", "/"),
        gateway.request("GET", "/echo?x=1"),
        gateway.request("POST", "/echo", body=b"abc"),
        gateway.request("GET", "/redirect"),
        gateway.request("GET", "/redirect", host=f"localhost:{gateway.https_port}", sni="localhost"),
        gateway.request("GET", "/redirect", host="b.test"),
        gateway.request("GET", "/status/500"),
        gateway.request("GET", "/status/404", host="rr.test"),
        gateway.request("GET", "/nothing-here", host="nobody.example", sni="localhost"),
        gateway.request("GET", "/echo", host="b.test", sni="a.test"),
        gateway.request("POST", "/echo", host="limit.test", body=b"x" * 70_000),
        gateway.plain("GET", "/echo?x=1"),
    ]
    for response in samples:
        text = response.text()
        for port in (origin_a.port, origin_b.port):
            assert f"127.0.0.1:{port}" not in text, text
            assert not re.search(rf"\b{port}\b", text), text


# --- balancing and pooling ---------------------------------------------------------------------------------------


def test_round_robin_alternates_between_two_origins(gateway: Gateway) -> None:
    names = [gateway.request("GET", "/echo", host="rr.test").json()["origin"] for _ in range(10)]
    assert set(names) == {"alpha", "beta"}
    assert all(a != b for a, b in itertools.pairwise(names)), names


def test_refused_origin_is_skipped_for_another(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, dead_origin_url: str
) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url, dead_origin_url]}])
    statuses = [gw.request("GET", "/echo").status for _ in range(6)]
    assert statuses == [200] * 6


def _new_connection_requests(gw: Gateway, host: str, count: int) -> Iterator[Response]:
    for _ in range(count):
        yield gw.request("GET", "/", host=host)


def test_origin_connections_are_pooled(gateway_factory: GatewayFactory, threaded_origin: StartOrigin) -> None:
    origin = threaded_origin(counting_handler())
    gw = gateway_factory.start([{"hosts": ["count.test"], "origins": [origin.url]}])
    # 50 sequential requests, each on a new client connection: pooling is the gateway's own doing
    responses = list(_new_connection_requests(gw, "count.test", 50))
    assert [r.status for r in responses] == [200] * 50
    assert origin.requests == 50
    assert origin.connections <= 3, f"{origin.connections} origin connections for 50 sequential requests"


def test_origin_closing_idle_connections_does_not_fail_requests(
    gateway_factory: GatewayFactory, threaded_origin: StartOrigin
) -> None:
    """An origin that silently closes each connection after answering (its keep-alive timeout racing ours)."""
    origin = threaded_origin(counting_handler(close_after_each=True))
    gw = gateway_factory.start([{"hosts": ["flaky.test"], "origins": [origin.url]}])
    with gw.connection("flaky.test") as conn:
        statuses = [send(conn, "GET", "/", host="flaky.test").status for _ in range(20)]
        statuses += [send(conn, "POST", "/", host="flaky.test", body=b"data").status for _ in range(5)]
    assert statuses == [200] * 25
    assert origin.requests == 25
