"""edge.toml is taken live too: a valid edit is swapped in within seconds, a broken one changes nothing."""

from __future__ import annotations

import time

from .harness import DemoOrigin, GatewayFactory


def wait_for(predicate: object, timeout: float = 4.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def test_site_edit_is_taken_live_and_broken_edit_keeps_the_old_config(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin, origin_b: DemoOrigin
) -> None:
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}])
    assert gateway.request("GET", "/echo").json()["origin"] == "alpha"
    text = gateway.config_path.read_text()

    gateway.config_path.write_text(text.replace(origin_a.url, origin_b.url))
    elapsed = wait_for(lambda: gateway.request("GET", "/echo").json()["origin"] == "beta")
    assert elapsed < 2.5

    gateway.config_path.write_text(text.replace(origin_a.url, origin_a.url + '"]\nbalanse = ["x'))
    wait_for(lambda: gateway.admin("/status").json()["reloads"]["config"]["ok"] is False)
    status = gateway.admin("/status").json()["reloads"]["config"]
    assert any("balanse" in error and "did you mean 'balance'" in error for error in status["errors"])
    assert all(gateway.request("GET", "/echo").json()["origin"] == "beta" for _ in range(3))
    assert "config not reloaded" in gateway.stderr_text()


def test_listener_change_is_reported_as_needing_a_restart(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}])
    text = gateway.config_path.read_text()
    gateway.config_path.write_text(text.replace("workers = 1", "workers = 2"))
    wait_for(lambda: "server.workers changed; it takes effect at the next restart" in gateway.stderr_text())
    assert gateway.admin("/status").json()["reloads"]["config"]["restart_needed"] == ["server.workers"]
    assert gateway.request("GET", "/echo").status == 200
