"""Bodies stream both ways in bounded memory: 200 MiB through the gateway while its RSS is sampled."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import pytest

from .harness import DemoOrigin, Gateway, GatewayFactory, read_response

SIZE = 200 * 1024 * 1024
BLOCK = 1024 * 1024
MAX_GROWTH = 64 * 1024 * 1024
TRANSFER_TIMEOUT = 90.0

pytestmark = pytest.mark.slow


class RssSampler:
    """Samples the gateway's VmRSS every 20 ms in a thread, for as long as the `with` block runs."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.baseline = gateway.rss_bytes()
        self.peak = self.baseline
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + TRANSFER_TIMEOUT + 30
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                self.peak = max(self.peak, self.gateway.rss_bytes())
            except OSError:
                return
            self.samples += 1
            self._stop.wait(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@pytest.fixture(scope="module")
def big(module_factory: GatewayFactory, origin_a: DemoOrigin) -> Gateway:
    gw = module_factory.start([{"hosts": ["big.test"], "origins": [origin_a.url], "max_body": "300MiB"}])
    # warm up: the first requests build the TLS context and the origin pool
    for _ in range(3):
        assert gw.request("POST", "/echo", host="big.test", body=b"warm" * 1000).status == 200
        assert gw.request("GET", "/bytes/1000000", host="big.test").status == 200
    return gw


def _blocks() -> Iterator[bytes]:
    """SIZE bytes in 1 MiB blocks, each block different so that reordering or loss shows in the digest."""
    base = bytes(range(256)) * (BLOCK // 256)
    for index in range(SIZE // BLOCK):
        yield index.to_bytes(8, "big") + base[8:]


def _digest() -> str:
    digest = hashlib.sha256()
    for block in _blocks():
        digest.update(block)
    return digest.hexdigest()


def test_200mib_download_in_bounded_memory(big: Gateway) -> None:
    started = time.monotonic()
    with big.connection("big.test", timeout=30) as conn, RssSampler(big) as rss:
        conn.request("GET", f"/bytes/{SIZE}", headers={"Host": "big.test"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Length") == str(SIZE)
        received = 0
        while chunk := response.read(BLOCK):
            received += len(chunk)
            assert time.monotonic() - started < TRANSFER_TIMEOUT
        rid = response.getheader("Edge-Request-Id")
    assert received == SIZE
    assert rss.samples > 5
    assert rss.growth < MAX_GROWTH, f"gateway RSS grew by {rss.growth / 2**20:.0f} MiB"
    assert big.log_for(rid or "")["bytes"] == SIZE


def test_200mib_download_to_a_slow_reader_in_bounded_memory(big: Gateway) -> None:
    """A client that reads slowly at first: the gateway must pause the origin, not buffer what it sends."""
    with big.connection("big.test", timeout=30) as conn, RssSampler(big) as rss:
        conn.request("GET", f"/bytes/{SIZE}", headers={"Host": "big.test"})
        response = conn.getresponse()
        assert response.status == 200
        time.sleep(2.0)  # the origin could have sent all 200 MiB by now if nothing held it back
        received = 0
        while chunk := response.read(BLOCK):
            received += len(chunk)
    assert received == SIZE
    assert rss.samples > 5
    assert rss.growth < MAX_GROWTH, f"gateway RSS grew by {rss.growth / 2**20:.0f} MiB"


def test_200mib_upload_with_content_length_in_bounded_memory(big: Gateway) -> None:
    expected = _digest()
    started = time.monotonic()
    with big.connection("big.test", timeout=60) as conn, RssSampler(big) as rss:
        conn.putrequest("POST", "/echo", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "big.test")
        conn.putheader("Content-Length", str(SIZE))
        conn.endheaders()
        for block in _blocks():
            conn.send(block)
            assert time.monotonic() - started < TRANSFER_TIMEOUT
        response = read_response(conn)
    assert response.status == 200, response.body[:300]
    report = response.json()
    assert report["body_size"] == SIZE
    assert report["body_sha256"] == expected
    assert rss.samples > 5
    assert rss.growth < MAX_GROWTH, f"gateway RSS grew by {rss.growth / 2**20:.0f} MiB"


def test_200mib_chunked_upload_in_bounded_memory(big: Gateway) -> None:
    expected = _digest()
    with big.connection("big.test", timeout=60) as conn, RssSampler(big) as rss:
        conn.request("POST", "/echo", body=_blocks(), headers={"Host": "big.test"}, encode_chunked=True)
        response = read_response(conn)
    assert response.status == 200, response.body[:300]
    report = response.json()
    assert report["body_size"] == SIZE
    assert report["body_sha256"] == expected
    assert rss.samples > 5
    assert rss.growth < MAX_GROWTH, f"gateway RSS grew by {rss.growth / 2**20:.0f} MiB"
