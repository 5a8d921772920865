"""Redis fixtures for the rate-limit tests (imported by test_ratelimit.py; the shared conftest.py is left alone).

`redis` is one real `redis-server` per test module on a free loopback port, emptied before each test that
asks for it; `own_redis` is a server of the test's own, which it may stop and start again on the same port.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .redis_server import RedisServer


@pytest.fixture(name="module_redis", scope="module")
def module_redis_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="redis")
def redis_fixture(module_redis: RedisServer) -> RedisServer:
    """The module's redis-server, flushed: every test starts from empty counters."""
    if not module_redis.ping():  # a test stopped it: bring it back on its port
        module_redis.start()
    module_redis.flush()
    return module_redis


@pytest.fixture(name="own_redis")
def own_redis_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server for one test alone (for outages: `.stop()` then `.start()` on the same port)."""
    server = RedisServer(tmp_path_factory.mktemp("own-redis"))
    try:
        yield server
    finally:
        server.stop()
