"""The plain-HTTP listener (308 to https) and the admin listener."""

from __future__ import annotations

import re

import pytest

from .harness import DemoOrigin, Gateway, GatewayFactory

# --- http:// -> https:// -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["/", "/path/to/page", "/search?q=a%20b&x=%2F&y=1+2", "/p%C3%A9/x?", "/echo?redirect=https://elsewhere.example/"],
)
def test_http_request_gets_308_to_the_same_url_on_https(gateway: Gateway, origin_a: DemoOrigin, target: str) -> None:
    before = origin_a.count()
    r = gateway.plain("GET", target, host="localhost")
    assert r.status == 308
    expected = target.rstrip("?") if target.endswith("?") else target
    assert r.header("Location") == f"https://localhost:{gateway.https_port}{expected}"
    assert r.request_id
    assert origin_a.count() == before, "a redirect is answered by the gateway alone"


def test_http_redirect_replaces_the_port_of_the_host_header(gateway: Gateway) -> None:
    r = gateway.plain("POST", "/form?a=1", host=f"b.test:{gateway.http_port}")
    assert r.status == 308, "308 keeps the method and body, unlike 301"
    assert r.header("Location") == f"https://b.test:{gateway.https_port}/form?a=1"


def test_http_redirect_for_a_wildcard_host(gateway: Gateway) -> None:
    r = gateway.plain("GET", "/x", host="Shop.Wild.Test")
    assert r.status == 308
    assert r.header("Location") == f"https://shop.wild.test:{gateway.https_port}/x"


def test_http_unknown_host_gets_421(gateway: Gateway) -> None:
    r = gateway.plain("GET", "/", host="nobody.example")
    assert r.status == 421
    assert r.header("Location") is None
    assert r.request_id and r.request_id.encode() in r.body


def test_redirect_target_is_served_over_https(gateway: Gateway) -> None:
    """Following the Location lands on the site (the https port of the redirect is the live one)."""
    location = gateway.plain("GET", "/echo?from=http", host="localhost").header("Location") or ""
    match = re.fullmatch(r"https://localhost:(\d+)(/.*)", location)
    assert match and int(match.group(1)) == gateway.https_port
    r = gateway.request("GET", match.group(2), host=f"localhost:{match.group(1)}", sni="localhost")
    assert r.status == 200
    assert r.json()["target"] == "/echo?from=http"


# --- admin ---------------------------------------------------------------------------------------------------------


def test_admin_healthz(gateway: Gateway) -> None:
    r = gateway.admin("/healthz")
    assert r.status == 200
    assert r.body.strip() == b"ok"


def test_admin_status(gateway: Gateway) -> None:
    r = gateway.admin("/status")
    assert r.status == 200
    status = r.json()
    assert status["config"]["path"] == str(gateway.config_path)
    hosts = [site["hosts"] for site in status["config"]["sites"]]
    assert ["localhost", "a.test", "*.wild.test"] in hosts
    assert ["b.test"] in hosts
    (rr,) = [site for site in status["config"]["sites"] if site["hosts"] == ["rr.test"]]
    assert len(rr["origins"]) == 2 and {origin["state"] for origin in rr["origins"]} == {"up"}
    assert status["pid"] == gateway.pid
    reloads = status["reloads"]
    for kind in ("config", "certs"):
        assert reloads[kind]["ok"] is True, reloads[kind]
        assert reloads[kind]["errors"] == []
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", reloads[kind]["at"])
    assert reloads["certs"]["served"] == 5


def test_admin_status_reports_a_bad_certificate_file(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.prepare([{"hosts": ["localhost"], "origins": [origin_a.url]}])
    (gw.certs_dir / "broken.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    )
    gw.start()
    certs = gw.admin("/status").json()["reloads"]["certs"]
    assert certs["ok"] is False
    assert any("broken.pem" in error for error in certs["errors"]), certs
    # and the good certificates are served all the same
    assert gw.request("GET", "/1k").status == 200


def test_admin_certs(gateway: Gateway) -> None:
    r = gateway.admin("/certs")
    assert r.status == 200
    listing = r.json()
    assert listing["folder"] == str(gateway.certs_dir)
    rows = {tuple(row["files"]): row for row in listing["certificates"]}
    assert set(rows) == {("a.test.pem",), ("b.test.pem",), ("localhost.pem",), ("services.pem",), ("wild.test.pem",)}
    assert rows[("wild.test.pem",)]["names"] == ["*.wild.test"]
    assert "rr.test" in rows[("services.pem",)]["names"]
    assert all(row["state"] == "served" for row in rows.values())
    assert all(row["not_after"] for row in rows.values())
    assert b"PRIVATE KEY" not in r.body


def test_admin_metrics(gateway: Gateway) -> None:
    def requests_2xx() -> float:
        return gateway.metric("edge_requests_total", site="localhost", method="read", code="2xx")

    r = gateway.admin("/metrics")
    assert r.status == 200
    assert (r.header("Content-Type") or "").startswith("text/plain")
    text = r.body.decode()
    assert "# TYPE edge_requests_total counter" in text
    assert "# TYPE edge_request_duration_seconds histogram" in text
    before = requests_2xx()
    for _ in range(3):
        assert gateway.request("GET", "/1k").status == 200
    assert requests_2xx() == before + 3


def test_admin_token_guards_everything_but_healthz(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin_a.url]}],
        server={"admin_token_env": "EDGE_TEST_ADMIN_TOKEN"},
        env={"EDGE_TEST_ADMIN_TOKEN": "s3cret-token"},
    )
    assert gw.admin("/healthz").status == 200
    for path in ("/status", "/certs", "/metrics"):
        assert gw.admin(path).status == 401
        assert gw.admin(path, headers={"Authorization": "Bearer wrong"}).status == 401
        assert gw.admin(path, headers={"Authorization": "Bearer s3cret-token"}).status == 200


def test_admin_is_not_on_the_https_listener(gateway: Gateway) -> None:
    r = gateway.request("GET", "/status")
    assert r.status == 200
    assert "reloads" not in r.body.decode()
