"""Stopping: SIGTERM drains in-flight requests within the grace period, then exits 0."""

from __future__ import annotations

import http.client
import signal
import socket
import time

import pytest

from .harness import LOOPBACK, DemoOrigin, GatewayFactory, send


def _wait_until_in_flight(origin: DemoOrigin, before: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while origin.count() <= before:
        assert time.monotonic() < deadline, "the slow request never reached the origin"
        time.sleep(0.02)


def _refuses_connections(port: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), 0.5):
                pass
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def test_in_flight_request_completes_on_sigterm(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], grace="10s")
    before = origin_a.count()
    with gw.connection() as conn:
        conn.request("GET", "/slow?seconds=1", headers={"Host": "localhost"})
        _wait_until_in_flight(origin_a, before)
        stopped_at = time.monotonic()
        gw.signal(signal.SIGTERM)
        assert _refuses_connections(gw.https_port), "the listener still accepts new connections while draining"
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"slow\n"
    assert gw.wait(timeout=15) == 0
    assert time.monotonic() - stopped_at < 5, "drained long after the last request ended"
    assert "stopping" in gw.stderr_text()


def test_client_closing_after_its_answer_lets_the_stop_finish_at_once(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], grace="10s")
    with gw.connection() as conn:
        assert send(conn, "GET", "/1k").status == 200
    stopped_at = time.monotonic()
    gw.signal(signal.SIGTERM)
    assert gw.wait(timeout=15) == 0
    assert time.monotonic() - stopped_at < 3


def test_idle_keep_alive_connection_does_not_hold_up_the_stop(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], grace="4s")
    with gw.connection() as conn:
        assert send(conn, "GET", "/1k").status == 200
        stopped_at = time.monotonic()
        gw.signal(signal.SIGTERM)
        assert gw.wait(timeout=15) == 0
        elapsed = time.monotonic() - stopped_at
    assert elapsed < 2.5, f"stopping took {elapsed:.1f}s with nothing in flight"


def test_sigint_stops_cleanly(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}])
    assert gw.request("GET", "/1k").status == 200
    gw.signal(signal.SIGINT)
    assert gw.wait(timeout=10) == 0


@pytest.mark.slow
def test_request_longer_than_the_grace_period_is_cut_off(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], grace="1s")
    before = origin_a.count()
    with gw.connection(timeout=10) as conn:
        conn.request("GET", "/slow?seconds=6", headers={"Host": "localhost"})
        _wait_until_in_flight(origin_a, before)
        stopped_at = time.monotonic()
        gw.signal(signal.SIGTERM)
        assert gw.wait(timeout=10) == 0
        assert time.monotonic() - stopped_at < 4, "the grace period bounds the drain"
        try:
            response = conn.getresponse()
            response.read()
        except (http.client.HTTPException, ConnectionError):
            return  # the connection closed without an answer: fine
    assert response.status != 200


@pytest.mark.slow
def test_request_cut_off_at_the_grace_period_gets_a_gateway_answer(
    gateway_factory: GatewayFactory, origin_a: DemoOrigin
) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], grace="1s")
    before = origin_a.count()
    with gw.connection(timeout=10) as conn:
        conn.request("GET", "/slow?seconds=6", headers={"Host": "localhost"})
        _wait_until_in_flight(origin_a, before)
        gw.signal(signal.SIGTERM)
        assert gw.wait(timeout=10) == 0
        try:
            response = conn.getresponse()
            body = response.read()
        except (http.client.HTTPException, ConnectionError):
            response = None
    assert "Traceback" not in gw.stderr_text()
    lines = [line for line in gw.stdout_lines() if line["path"] == "/slow"]
    assert len(lines) == 1
    if response is not None:
        rid = response.getheader("Edge-Request-Id")
        assert rid and rid.encode() in body
        assert lines[0]["request_id"] == rid
        assert lines[0]["status"] == response.status
    else:
        assert lines[0]["status"] != 0


def test_several_workers_serve_and_stop_cleanly(gateway_factory: GatewayFactory, origin_a: DemoOrigin) -> None:
    gw = gateway_factory.start([{"hosts": ["localhost"], "origins": [origin_a.url]}], server={"workers": 2})
    responses = [gw.request("GET", "/echo") for _ in range(12)]
    assert [r.status for r in responses] == [200] * 12
    for response in responses:
        gw.log_for(response.request_id or "")  # every worker writes its access-log lines
    assert gw.admin("/healthz").status == 200
    stopped_at = time.monotonic()
    assert gw.stop() == 0
    assert time.monotonic() - stopped_at < 5
