"""Fixtures of the integration suite: the test PKI, demo origins, gateway factories and the shared gateway."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .harness import (
    DemoOrigin,
    Gateway,
    GatewayFactory,
    Handler,
    Pki,
    ThreadedOrigin,
)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA and its leaves (issued lazily, once per name set)."""
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def origin_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoOrigin]:
    origin = DemoOrigin("alpha", tmp_path_factory.mktemp("origin-a"))
    yield origin
    origin.stop()


@pytest.fixture(scope="session")
def origin_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoOrigin]:
    origin = DemoOrigin("beta", tmp_path_factory.mktemp("origin-b"))
    yield origin
    origin.stop()


@pytest.fixture
def gateway_factory(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[GatewayFactory]:
    """Start gateways for one test; at teardown each must stop on SIGTERM with exit code 0."""
    factory = GatewayFactory(tmp_path_factory.mktemp("gateways"), pki)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def module_factory(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[GatewayFactory]:
    """Like gateway_factory, for gateways a whole test module shares."""
    factory = GatewayFactory(tmp_path_factory.mktemp("module-gateways"), pki)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def threaded_origin() -> Iterator[Callable[[Handler], ThreadedOrigin]]:
    """Start special-behaviour origins (asyncio servers in a thread); all stopped at teardown."""
    started: list[ThreadedOrigin] = []

    def start(handler: Handler) -> ThreadedOrigin:
        origin = ThreadedOrigin(handler)
        started.append(origin)
        return origin

    try:
        yield start
    finally:
        for origin in started:
            origin.stop()


@pytest.fixture(scope="session")
def dead_origin_url() -> Iterator[str]:
    """An origin address where nothing listens: a port held bound (so no one else gets it) but not listening,
    so every connection to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def standard_sites(origin_a: DemoOrigin, origin_b: DemoOrigin) -> list[dict[str, Any]]:
    return [
        {"hosts": ["localhost", "a.test", "*.wild.test"], "origins": [origin_a.url], "hsts": "max-age=31536000"},
        {"hosts": ["b.test"], "origins": [origin_b.url]},
        {"hosts": ["rr.test"], "origins": [origin_a.url, origin_b.url], "balance": "round-robin"},
        {"hosts": ["limit.test"], "origins": [origin_a.url], "max_body": "64KiB", "hsts": "max-age=31536000"},
        {"hosts": ["nohsts.test"], "origins": [origin_a.url]},  # HSTS is opt-in: none without `hsts`
    ]


@pytest.fixture(scope="session")
def session_factory(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[GatewayFactory]:
    factory = GatewayFactory(tmp_path_factory.mktemp("session-gateways"), pki)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def gateway(session_factory: GatewayFactory, origin_a: DemoOrigin, origin_b: DemoOrigin) -> Gateway:
    """The shared gateway: site A (localhost, a.test, *.wild.test) -> alpha, site B (b.test) -> beta,
    rr.test -> both, limit.test with max_body 64KiB, nohsts.test without HSTS (the default; site A sets it);
    tls.default = localhost."""
    return session_factory.start(standard_sites(origin_a, origin_b))
