"""Signed origin pulls (CONTRACT section 6): edge's Signer, the origin's verify() and OriginGuard middleware."""

from __future__ import annotations

import ast
import asyncio
import hashlib
import hmac
import http.client
import re
import sys
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st

import edge.origin_guard
from edge.origin_guard import OriginGuard, bare_host, verify
from edge.proxy.signing import Signer

NOW = 1_700_000_000
NEW, OLD = "new-secret-0123456789", "old-secret-9876543210"


def sign(method: str = "GET", host: bytes = b"shop.test", target: bytes = b"/a?b=1", now: int = NOW) -> bytes:
    return Signer(NEW.encode()).header(method, host, target, now)


# --- signing ----------------------------------------------------------------------------------------------------------


def test_header_is_the_contracts_hmac_over_time_method_host_and_target() -> None:
    header = Signer(b"s3cret").header("POST", b"Shop.Test:8443", b"/cart/add?id=7&x=%20", NOW)
    expected = hmac.new(b"s3cret", b"1700000000\nPOST\nshop.test\n/cart/add?id=7&x=%20", hashlib.sha256).hexdigest()
    assert header == f"t={NOW},sig={expected}".encode()
    assert re.fullmatch(rb"t=\d+,sig=[0-9a-f]{64}", header)


def test_signer_from_env_signs_with_the_first_of_new_and_old() -> None:
    signer = Signer.from_env("SECRET", {"SECRET": f" {NEW} , {OLD}"})
    assert signer.header("GET", b"a.test", b"/", NOW) == Signer(NEW.encode()).header("GET", b"a.test", b"/", NOW)


@pytest.mark.parametrize("environ", [{}, {"SECRET": ""}, {"SECRET": f",{OLD}"}])
def test_signer_from_env_without_a_current_secret_fails(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="SECRET"):
        Signer.from_env("SECRET", environ)


# --- verify -----------------------------------------------------------------------------------------------------------


def test_round_trip() -> None:
    assert verify(sign(), "GET", "shop.test", "/a?b=1", NEW, now=NOW)
    assert verify(sign().decode(), b"GET", b"shop.test", b"/a?b=1", NEW.encode(), now=NOW + 0.9)


@pytest.mark.parametrize(
    ("method", "host", "target"),
    [
        ("POST", "shop.test", "/a?b=1"),
        ("GET", "evil.test", "/a?b=1"),
        ("GET", "shop.test", "/a?b=2"),
        ("get", "shop.test", "/a?b=1"),
    ],
)
def test_tampered_request_is_refused(method: str, host: str, target: str) -> None:
    assert not verify(sign(), method, host, target, NEW, now=NOW)


def test_tampered_signature_or_time_is_refused() -> None:
    header = sign().decode()
    t, sig = header.split(",")
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    assert not verify(f"{t},{flipped}", "GET", "shop.test", "/a?b=1", NEW, now=NOW)
    assert not verify(f"t={NOW - 1},{sig}", "GET", "shop.test", "/a?b=1", NEW, now=NOW)


@pytest.mark.parametrize(("age", "ok"), [(0, True), (30, True), (31, False), (3600, False), (-5, True), (-6, False)])
def test_replay_window_and_clock_skew(age: int, ok: bool) -> None:
    assert verify(sign(now=NOW - age), "GET", "shop.test", "/a?b=1", NEW, now=NOW) is ok


def test_max_age_is_the_guards_choice() -> None:
    assert verify(sign(now=NOW - 100), "GET", "shop.test", "/a?b=1", NEW, max_age=120, now=NOW)
    assert not verify(sign(now=NOW - 100), "GET", "shop.test", "/a?b=1", NEW, max_age=60, now=NOW)


@pytest.mark.parametrize(
    "secret", [f"{NEW},{OLD}", f"{OLD}, {NEW}", f"{NEW},{OLD}".encode(), [OLD, NEW], (OLD.encode(), NEW)]
)
def test_rotation_accepts_either_secret(secret: Any) -> None:
    assert verify(sign(), "GET", "shop.test", "/a?b=1", secret, now=NOW)
    by_old = Signer(OLD.encode()).header("GET", b"shop.test", b"/a?b=1", NOW)
    assert verify(by_old, "GET", "shop.test", "/a?b=1", secret, now=NOW)
    by_third = Signer(b"third-secret").header("GET", b"shop.test", b"/a?b=1", NOW)
    assert not verify(by_third, "GET", "shop.test", "/a?b=1", secret, now=NOW)


@pytest.mark.parametrize(
    ("signed", "received"),
    [
        (b"shop.test", "Shop.TEST:8443"),
        (b"SHOP.test:443", "shop.test"),
        (b"::1", "[::1]:8443"),
        (b"[::1]", "[::1]"),
        (b"2001:db8::1", "[2001:DB8::1]:443"),
    ],
)
def test_host_port_and_case_do_not_matter(signed: bytes, received: str) -> None:
    assert verify(sign(host=signed), "GET", received, "/a?b=1", NEW, now=NOW)


@pytest.mark.parametrize(("host", "bare"), [(b"A.Test:80", b"a.test"), (b"[::1]:1", b"::1"), (b"a.test", b"a.test")])
def test_bare_host(host: bytes, bare: bytes) -> None:
    assert bare_host(host) == bare


def test_an_empty_query_is_the_same_target_as_none() -> None:
    assert verify(sign(target=b"/a?"), "GET", "shop.test", "/a", NEW, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"t={NOW}",
        "sig=" + "0" * 64,
        f"t=abc,sig={'0' * 64}",
        f"t={NOW},sig=zz",
        f"t={NOW},t={NOW},sig={'0' * 64}",
        f"t={NOW},sig=é{'0' * 63}",
        f"t=-{NOW},sig={'0' * 64}",
        f"t={'9' * 40},sig={'0' * 64}",
        b"\xff\xfe",
    ],
)
def test_malformed_headers_are_false_not_errors(header: str | bytes | None) -> None:
    assert verify(header, "GET", "shop.test", "/a?b=1", NEW, now=NOW) is False


@pytest.mark.parametrize("secret", ["", ",", b"", [], None, 42])
def test_no_usable_secret_is_false_not_an_error(secret: Any) -> None:
    assert verify(sign(), "GET", "shop.test", "/a?b=1", secret, now=NOW) is False


@given(st.one_of(st.text(), st.binary()), st.text(), st.text())
def test_verify_never_raises(header: str | bytes, host: str, target: str) -> None:
    assert verify(header, "GET", host, target, NEW, now=NOW) is False


def test_guard_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(edge.origin_guard.__file__).read_text())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None, "no relative imports"
            modules.add(node.module)
    outside = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names}
    assert modules and not outside


# --- OriginGuard as ASGI ----------------------------------------------------------------------------------------------


async def hello(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        return
    if scope["type"] == "lifespan":
        await send({"type": "lifespan.startup.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello from the origin"})


GUARDED = OriginGuard(hello, secret=f"{NEW},{OLD}")


def drive(scope: dict[str, Any], app: Any = GUARDED) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "websocket.connect"} if scope["type"] == "websocket" else {"type": "http.request", "body": b""}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def scope(
    kind: str = "http", auth: bytes | None = None, host: bytes = b"Shop.Test:8443", **extra: Any
) -> dict[str, Any]:
    headers = [(b"host", host), (b"accept", b"*/*")]
    if auth is not None:
        headers.append((b"edge-origin-auth", auth))
    base = {"type": kind, "headers": headers, "path": "/a", "raw_path": b"/a", "query_string": b"b=1"}
    if kind == "http":
        base["method"] = "GET"
    return {**base, **extra}


def test_guard_answers_403_without_a_signature_and_passes_a_signed_request() -> None:
    now = int(time.time())
    refused = drive(scope())
    assert refused[0]["status"] == 403 and b"403 Forbidden" in refused[1]["body"]
    assert dict(refused[0]["headers"])[b"content-length"] == str(len(refused[1]["body"])).encode()
    passed = drive(scope(auth=sign(target=b"/a?b=1", now=now)))
    assert passed[0]["status"] == 200


def test_guard_uses_raw_path_and_query_exactly() -> None:
    now = int(time.time())
    header = sign(target=b"/caf%C3%A9?q=a%20b", now=now)
    ok = scope(auth=header, path="/café", raw_path=b"/caf%C3%A9", query_string=b"q=a%20b")
    assert drive(ok)[0]["status"] == 200
    decoded = scope(auth=sign(target=b"/caf\xc3\xa9?q=a b", now=now), path="/café", raw_path=b"/caf%C3%A9")
    assert drive(decoded)[0]["status"] == 403


def test_guard_refuses_a_websocket_handshake_without_signature_and_accepts_a_signed_one() -> None:
    assert drive(scope("websocket")) == [{"type": "websocket.close", "code": 1008}]
    signed = scope("websocket", auth=sign(target=b"/a?b=1", now=int(time.time())))
    assert drive(signed) == [{"type": "websocket.accept"}]


def test_guard_passes_lifespan_through() -> None:
    assert drive({"type": "lifespan"}) == [{"type": "lifespan.startup.complete"}]


def test_guard_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        OriginGuard(hello, secret=" , ")


# --- OriginGuard behind a real server -----------------------------------------------------------------------------------


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """uvicorn on a free loopback port in a thread; yields the port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="error", ws="none", loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def get(port: int, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_guard_through_uvicorn_refuses_direct_requests_and_serves_signed_ones() -> None:
    with serving(OriginGuard(hello, secret=NEW)) as port:
        host = f"Shop.Test:{port}"
        status, body = get(port, "/a/b?c=%20d", {"Host": host})
        assert (status, body.startswith(b"403 Forbidden")) == (403, True)
        header = Signer(NEW.encode()).header("GET", host.encode(), b"/a/b?c=%20d", int(time.time()))
        assert get(port, "/a/b?c=%20d", {"Host": host, "Edge-Origin-Auth": header.decode()}) == (
            200,
            b"hello from the origin",
        )
        assert get(port, "/a/b?c=%20e", {"Host": host, "Edge-Origin-Auth": header.decode()})[0] == 403
