"""Hidden origins through the running gateway: weighted and consistent balancing, passive and active health,
safe retries, timeouts, signed origin pulls checked by `edge.origin_guard`, TLS to origins, no leaks."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import ssl
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from edge.origin_guard import verify

from .harness import (
    LOOPBACK,
    Gateway,
    GatewayFactory,
    Pki,
    Response,
    ThreadedOrigin,
    free_port,
    read_text_request,
    send,
)


class Behaviour:
    """A named origin whose answers the test switches at run time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.health_status = 200
        self.delay = 0.0
        self.close_unanswered = False
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def count(self, path: str | None = None) -> int:
        with self.lock:
            return sum(1 for p, _ in self.seen if path is None or p == path)


def behaving(behaviour: Behaviour) -> Any:
    async def handle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_text_request(reader)
            if request is None:
                return
            method, target, headers = request
            with behaviour.lock:
                behaviour.seen.append((target, headers))
            if target == "/healthz":
                status = behaviour.health_status
            else:
                if behaviour.close_unanswered:
                    writer.transport.abort()
                    return
                status = 200
            if behaviour.delay:
                await asyncio.sleep(behaviour.delay)
            body = f"{behaviour.name} {method} {target}".encode()
            writer.write(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
            await writer.drain()

    return handle


def origins(threaded_origin: Any, *names: str) -> tuple[list[Behaviour], list[ThreadedOrigin]]:
    behaviours = [Behaviour(name) for name in names]
    return behaviours, [threaded_origin(behaving(b)) for b in behaviours]


def names(gateway: Gateway, count: int, path: str = "/", **kwargs: Any) -> Counter[str]:
    seen: Counter[str] = Counter()
    with gateway.connection() as conn:
        for _ in range(count):
            r = send(conn, "GET", path, **kwargs)
            seen[r.body.split(b" ")[0].decode()] += 1
    return seen


# --- balancing ---------------------------------------------------------------------------------------------------


def test_weighted_round_robin_follows_the_weights(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    _, (a, b, c) = origins(threaded_origin, "a", "b", "c")
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [{"url": a.url, "weight": 5}, {"url": b.url, "weight": 3}, c.url]}]
    )
    seen = names(gateway, 450)
    for name, share in (("a", 250), ("b", 150), ("c", 50)):
        assert abs(seen[name] - share) <= share * 0.1, seen


def test_least_conn_avoids_a_slow_origin(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    (slow, _), (a, b) = origins(threaded_origin, "slow", "fast")
    slow.delay = 0.5
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [a.url, b.url], "balance": "least-conn"}])
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: gateway.request("GET", "/").body, range(40)))
    served = Counter(body.split(b" ")[0] for body in bodies)
    assert served[b"fast"] > 3 * served[b"slow"], served


def test_ip_hash_moves_about_one_in_n_clients_when_an_origin_is_added(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    _, servers = origins(threaded_origin, "a", "b", "c", "d")
    site = {"hosts": ["localhost"], "origins": [s.url for s in servers[:3]], "balance": "ip-hash"}
    gateway = gateway_factory.start([site], server={"trusted_proxies": ["127.0.0.0/8"]})
    clients = [f"198.51.{i // 250}.{i % 250 + 1}" for i in range(300)]

    def placement() -> dict[str, str]:
        out = {}
        with gateway.connection() as conn:
            for client in clients:
                r = send(conn, "GET", "/", headers={"X-Forwarded-For": client})
                out[client] = r.body.split(b" ")[0].decode()
        return out

    before = placement()
    assert placement() == before  # stable while nothing changes
    text = gateway.config_path.read_text().replace(
        ", ".join(f'"{s.url}"' for s in servers[:3]), ", ".join(f'"{s.url}"' for s in servers)
    )
    gateway.config_path.write_text(text)
    deadline = time.monotonic() + 10
    after = placement()
    while "d" not in after.values() and time.monotonic() < deadline:
        time.sleep(0.3)
        after = placement()
    after = placement()  # the pass that saw the new origin may have begun before the reload
    moved = [c for c in clients if after[c] != before[c]]
    assert 0.12 * len(clients) <= len(moved) <= 0.38 * len(clients), len(moved)
    assert all(after[c] == "d" for c in moved)


# --- health ------------------------------------------------------------------------------------------------------


def test_a_refusing_origin_is_ejected_and_returns(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    _, (good,) = origins(threaded_origin, "good")
    spare = free_port()
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [good.url, f"http://{LOOPBACK}:{spare}"], "health": {"unhealthy": 2}}]
    )
    for _ in range(6):
        assert gateway.request("GET", "/").status == 200
    status = gateway.admin("/status").json()
    states = {o["origin"]: o["state"] for o in status["config"]["sites"][0]["origins"]}
    assert states[f"http://{LOOPBACK}:{spare}"] in ("down", "probing")
    assert gateway.metric("edge_origin_up", origin=f"http://{LOOPBACK}:{spare}", site="localhost") == 0
    # it comes back: an origin now listening on that port takes requests again after the back-off
    behaviour = Behaviour("back")
    revived = ThreadedOrigin(behaving(behaviour), port=spare)
    try:
        deadline = time.monotonic() + 8
        while behaviour.count() == 0 and time.monotonic() < deadline:
            gateway.request("GET", "/")
            time.sleep(0.2)
        assert behaviour.count() > 0
    finally:
        revived.stop()


def test_all_origins_down_answers_503_at_once(gateway_factory: GatewayFactory) -> None:
    dead = [f"http://{LOOPBACK}:{free_port()}" for _ in range(2)]
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": dead, "health": {"unhealthy": 1}}])
    for _ in range(3):
        gateway.request("GET", "/")  # ejects both
    with gateway.connection() as conn:
        started = time.monotonic()
        r = send(conn, "GET", "/")
        took = time.monotonic() - started
    assert r.status in (502, 503)
    assert r.header("edge-request-id")
    codes = set()
    with gateway.connection() as conn:
        for _ in range(5):
            started = time.monotonic()
            codes.add(send(conn, "GET", "/").status)
            assert time.monotonic() - started < 0.1
    assert 503 in codes and took < 1.0


def test_active_checks_take_an_origin_out_and_back(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    (sick, well), (a, b) = origins(threaded_origin, "sick", "well")
    health = {"path": "/healthz", "interval": "300ms", "timeout": "200ms", "unhealthy": 2, "healthy": 2}
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [a.url, b.url], "health": health}])
    assert names(gateway, 20)["sick"] > 0
    sick.health_status = 503
    time.sleep(0.3 * 2 + 1)
    assert names(gateway, 20)["sick"] == 0
    reason = next(
        o["reason"] for o in gateway.admin("/status").json()["config"]["sites"][0]["origins"] if o["origin"] == a.url
    )
    assert "503" in reason
    sick.health_status = 200
    time.sleep(0.3 * 2 + 1)
    assert names(gateway, 20)["sick"] > 0
    assert well.count("/healthz") >= 3


# --- retries and timeouts ------------------------------------------------------------------------------------------


def test_idempotent_request_moves_to_another_origin_post_does_not(
    gateway_factory: GatewayFactory, threaded_origin: Any
) -> None:
    (flaky, steady), (a, b) = origins(threaded_origin, "flaky", "steady")
    gateway = gateway_factory.start([{"hosts": ["localhost"], "origins": [a.url, b.url]}])
    flaky.close_unanswered = True
    for _ in range(4):
        assert gateway.request("GET", "/idem").status == 200
    posts = [gateway.request("POST", "/pay", body=b"x=1").status for _ in range(4)]
    assert 502 in posts  # the POST that met the closing origin was not sent again
    assert flaky.count("/pay") == posts.count(502)
    assert steady.count("/pay") == posts.count(200)


def test_connect_read_and_total_timeouts(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    (slow,), (origin,) = origins(threaded_origin, "slow")
    slow.delay = 1.5
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin.url], "timeouts": {"connect": "1s", "read": "500ms"}}]
    )
    started = time.monotonic()
    r = gateway.request("GET", "/")
    assert r.status == 504 and time.monotonic() - started < 1.4
    # connect: an address that drops SYNs would hang; a listener with a full backlog is the loopback stand-in
    blackhole = socket.socket()
    blackhole.bind((LOOPBACK, 0))
    blackhole.listen(0)
    fillers = []
    try:
        for _ in range(8):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(blackhole.getsockname())
            fillers.append(f)
        port = blackhole.getsockname()[1]
        gw2 = gateway_factory.start(
            [{"hosts": ["localhost"], "origins": [f"http://{LOOPBACK}:{port}"], "timeouts": {"connect": "500ms"}}]
        )
        started = time.monotonic()
        r = gw2.request("GET", "/")
        assert r.status in (502, 504) and time.monotonic() - started < 3
    finally:
        for f in fillers:
            f.close()
        blackhole.close()


def test_total_timeout_cuts_a_trickling_response(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    async def trickle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.1)

    origin = threaded_origin(trickle)
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin.url], "timeouts": {"read": "1s", "total": "1s"}}]
    )
    started = time.monotonic()
    with pytest.raises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
        gateway.request("GET", "/")
    assert time.monotonic() - started < 3


# --- signed origin pulls -------------------------------------------------------------------------------------------


GUARD_APP = """
import os, sys
import uvicorn
from edge.origin_guard import OriginGuard

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"guarded ok"})

uvicorn.run(OriginGuard(app, secret=os.environ["SECRET"], max_age=30), host="127.0.0.1", port=int(sys.argv[1]),
            log_level="warning")
"""


@pytest.fixture
def guarded_origin(tmp_path: Path) -> Any:
    import subprocess
    import sys

    port = free_port()
    script = tmp_path / "guarded.py"
    script.write_text(GUARD_APP)
    process = subprocess.Popen(
        [sys.executable, str(script), str(port)], env={**os.environ, "SECRET": "new-secret,old-secret"}
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection((LOOPBACK, port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)


def direct(port: int, path: str, headers: dict[str, str] | None = None) -> Response:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": "localhost", **(headers or {})})
        resp = conn.getresponse()
        return Response(resp.status, resp.reason, resp.getheaders(), resp.read())
    finally:
        conn.close()


def test_signed_pulls_pass_the_guard_and_nothing_else_does(
    gateway_factory: GatewayFactory, guarded_origin: int
) -> None:
    gateway = gateway_factory.start(
        [
            {
                "hosts": ["localhost"],
                "origins": [f"http://{LOOPBACK}:{guarded_origin}"],
                "origin_auth": {"secret_env": "EDGE_TEST_ORIGIN_SECRET"},
            }
        ],
        env={"EDGE_TEST_ORIGIN_SECRET": "old-secret"},
    )
    r = gateway.request("GET", "/page?x=1")
    assert r.status == 200 and r.body == b"guarded ok"
    assert direct(guarded_origin, "/page?x=1").status == 403
    forged = direct(guarded_origin, "/page", {"Edge-Origin-Auth": f"t={int(time.time())},sig={'0' * 64}"})
    assert forged.status == 403
    # a client-sent header never reaches the origin as the gateway's own
    r = gateway.request("GET", "/page", headers={"Edge-Origin-Auth": "t=1,sig=00"})
    assert r.status == 200


def test_signature_covers_method_host_and_target() -> None:
    from edge.proxy.signing import Signer

    signer = Signer(b"s3cret")
    now = int(time.time())
    header = signer.header("GET", b"Shop.Test:8443", b"/a?b=1", now).decode()
    assert verify(header, "GET", "shop.test", "/a?b=1", "s3cret", now=now)
    assert not verify(header, "POST", "shop.test", "/a?b=1", "s3cret", now=now)
    assert not verify(header, "GET", "shop.test", "/a?b=2", "s3cret", now=now)
    assert not verify(header, "GET", "shop.test", "/a?b=1", "s3cret", now=now + 31)


# --- TLS to origins --------------------------------------------------------------------------------------------------


def tls_origin(pki: Pki, folder: Path, *, require_client: bool) -> tuple[ThreadedOrigin, Path]:
    leaf = pki.leaf(("127.0.0.1", "origin.internal"))
    cert = folder / "origin.pem"
    cert.write_bytes(b"".join(p.bytes() for p in leaf.cert_chain_pems) + leaf.private_key_pem.bytes())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert)
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(pki.ca_path))
    behaviour = Behaviour("tls")
    return ThreadedOrigin(behaving(behaviour), ssl_context=context), pki.ca_path


def test_https_origin_verified_with_origin_ca_and_client_certificate(
    gateway_factory: GatewayFactory, pki: Pki, tmp_path: Path
) -> None:
    origin, ca = tls_origin(pki, tmp_path, require_client=True)
    client = pki.leaf(("edge-client",))
    client_cert, client_key = tmp_path / "edge-client.pem", tmp_path / "edge-client.key"
    client_cert.write_bytes(b"".join(p.bytes() for p in client.cert_chain_pems))
    client_key.write_bytes(client.private_key_pem.bytes())
    try:
        url = f"https://127.0.0.1:{origin.port}"
        gateway = gateway_factory.start(
            [
                {
                    "hosts": ["localhost"],
                    "origins": [url],
                    "origin_ca": str(ca),
                    "origin_client": {"cert": str(client_cert), "key": str(client_key)},
                }
            ]
        )
        for _ in range(3):
            r = gateway.request("GET", "/secure")
            assert r.status == 200 and r.body.startswith(b"tls GET /secure")
        assert origin.connections == 1  # reused over TLS like over TCP
        without_client = gateway_factory.start([{"hosts": ["localhost"], "origins": [url], "origin_ca": str(ca)}])
        assert without_client.request("GET", "/secure").status == 502
        unverified = gateway_factory.start([{"hosts": ["localhost"], "origins": [url]}])  # system store: untrusted
        assert unverified.request("GET", "/secure").status == 502
    finally:
        origin.stop()


# --- no leaks --------------------------------------------------------------------------------------------------------


async def chatty(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        me = f"127.0.0.1:{origin.port}".encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nServer: Kestrel\r\nX-Powered-By: ASP.NET\r\nX-AspNet-Version: 4.0.30319\r\n"
            b"X-AspNetMvc-Version: 5.2\r\nVia: 1.1 internal-proxy\r\nX-Backend: node-7\r\n"
            b"Refresh: 5; url=http://%s/later\r\nContent-Length: 2\r\n\r\nok" % me
        )
        await writer.drain()


def test_banners_and_addresses_never_leak(gateway_factory: GatewayFactory, threaded_origin: Any) -> None:
    origin = threaded_origin(chatty)
    gateway = gateway_factory.start(
        [{"hosts": ["localhost"], "origins": [origin.url], "drop_response_headers": ["X-Backend"]}]
    )
    r = gateway.request("GET", "/")
    assert r.status == 200
    for name in ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "via", "x-backend"):
        assert r.header(name) is None, name
    assert r.header("refresh") == "5; url=https://localhost/later"
    text = r.text()
    assert "127.0.0.1" not in text and str(origin.port) not in text
    errors = gateway_factory.start([{"hosts": ["localhost"], "origins": [f"http://{LOOPBACK}:{free_port()}"]}])
    page = errors.request("GET", "/")
    assert page.status == 502 and "127.0.0.1" not in page.text() and "refused" not in page.text().lower()
