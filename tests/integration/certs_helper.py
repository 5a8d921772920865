"""Certificates and file operations for the rotation and mTLS tests: a certfactory CA, PEM writers that are
atomic or deliberately not, and polling a live gateway until a name presents a given certificate.

Certificates are made with `tests/unit/tls/certfactory.py` (any key type, any validity); the gateway's
default certificate (`localhost`) still comes from the session's trustme `Pki`, so a name that nothing
covers falls back to `pki.der(("localhost",))`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.unit.tls.certfactory import DAY, NOW, Issued, KeyKind, key_bytes, make_ca, make_leaf, new_key

from .harness import (
    EDGE_CMD,
    LOOPBACK,
    EdgeConnection,
    Gateway,
    GatewayFactory,
    PortTaken,
    Response,
    send,
)

ROTATION_DEADLINE = 2.0  # CONTRACT section 3: a change takes effect for new handshakes within 2 seconds
MARGIN = 0.35  # polling granularity of the test itself and a loaded CI machine
POLL = 0.05


@dataclass
class CertCa:
    """A certfactory root CA whose PEM lives in a file clients can trust."""

    issued: Issued
    path: Path

    @classmethod
    def create(cls, folder: Path, name: str = "Rotation Test CA") -> CertCa:
        ca = make_ca(name)
        path = folder / f"{name.lower().replace(' ', '-')}.pem"
        path.write_bytes(ca.pem)
        return cls(ca, path)

    def leaf(
        self,
        names: Sequence[str],
        *,
        kind: KeyKind = "p256",
        fresh_key: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        client: bool = False,
    ) -> Issued:
        """A leaf with a new serial; `fresh_key` gives it a key of its own (else certfactory's shared key of `kind`)."""
        kwargs: dict[str, Any] = {"kind": kind, "client": client}
        if fresh_key:
            kwargs["key"] = new_key(kind)
        if not_before is not None:
            kwargs["not_before"] = not_before
        if not_after is not None:
            kwargs["not_after"] = not_after
        return make_leaf(self.issued, list(names), **kwargs)


def combined(leaf: Issued, *, fmt: Any = "pkcs8", password: bytes = b"secret") -> bytes:
    """Certificate then private key in one PEM file."""
    return leaf.pem + key_bytes(leaf.key, fmt, password)


def atomic_write(path: Path, data: bytes) -> None:
    """Write a hidden temp file in the same folder, then rename it over `path` (the store ignores dot files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def inplace_write(path: Path, data: bytes) -> None:
    """Truncate the existing file and write into it (same inode): a reader may see it empty or partial."""
    with open(path, "r+b" if path.exists() else "wb") as file:
        file.truncate(0)
        file.write(data)


def client_context(*cas: Path, check_hostname: bool = False) -> ssl.SSLContext:
    """A client trusting `cas` (no verification at all when none is given)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not cas:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    for ca in cas:
        context.load_verify_locations(cafile=str(ca))
    context.check_hostname = check_hostname
    return context


_UNVERIFIED = client_context()


def served(gateway: Gateway, sni: str | None, context: ssl.SSLContext | None = None) -> bytes:
    """The DER of the leaf the gateway presents for `sni` (unverified by default: expired ones too)."""
    with (
        socket.create_connection((LOOPBACK, gateway.https_port), 5) as raw,
        (context or _UNVERIFIED).wrap_socket(raw, server_hostname=sni) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return der


def wait_served(gateway: Gateway, sni: str, der: bytes, *, since: float, timeout: float = 3.0) -> float:
    """Poll handshakes for `sni` until the gateway presents `der`; return the seconds since `since`."""
    deadline = time.monotonic() + timeout
    last: bytes | str = b""
    while True:
        try:
            last = served(gateway, sni)
        except (OSError, ssl.SSLError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if last == der:
            return time.monotonic() - since
        if time.monotonic() > deadline:
            what = last if isinstance(last, str) else f"a different certificate ({len(last)} bytes DER)"
            raise AssertionError(
                f"{sni}: the expected certificate was not served within {timeout}s; last: {what}\n"
                f"{gateway.stderr_text()[-3000:]}"
            )
        time.sleep(POLL)


def assert_within_deadline(elapsed: float) -> None:
    assert elapsed < ROTATION_DEADLINE + MARGIN, f"took {elapsed:.2f}s (> {ROTATION_DEADLINE}s + {MARGIN}s margin)"


def wait_until(predicate: Any, *, timeout: float = 3.0, what: str = "condition") -> Any:
    """Poll `predicate()` until it returns something truthy; that value, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {timeout}s")
        time.sleep(POLL)


def cert_rows(gateway: Gateway) -> list[dict[str, Any]]:
    """Admin GET /certs."""
    response = gateway.admin("/certs")
    assert response.status == 200, response.text()
    rows: list[dict[str, Any]] = response.json()["certificates"]
    return rows


def rows_for(gateway: Gateway, file: str) -> list[dict[str, Any]]:
    return [row for row in cert_rows(gateway) if file in row["files"]]


def edge_certs_table(gateway: Gateway) -> str:
    """`edge certs -c CONFIG` as an operator would run it next to the live gateway."""
    done = subprocess.run(
        [*EDGE_CMD, "certs", "-c", str(gateway.config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **gateway.env},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def table_line(table: str, file: str) -> str:
    """The one `edge certs` line whose FILE(S) cell starts with `file`."""
    lines = [line for line in table.splitlines() if line.split("  ", 1)[0].split(",")[0] == file]
    assert len(lines) == 1, f"{file}: {len(lines)} line(s) in\n{table}"
    return lines[0]


def start_with_files(
    factory: GatewayFactory,
    sites: list[dict[str, Any]],
    files: dict[str, bytes],
    *,
    extra: dict[str, bytes] | None = None,
    **kwargs: Any,
) -> Gateway:
    """prepare() a gateway with the Pki's `localhost.pem` (the default) plus `files` in its certs folder and
    `extra` files relative to its folder (CA files, a certbot archive...), then start it; retry on a port race."""
    for attempt in range(3):
        gateway = factory.prepare(sites, cert_files={"localhost.pem": ("localhost",)}, **kwargs)
        for name, data in files.items():
            path = gateway.certs_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, data in (extra or {}).items():
            path = gateway.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            return gateway.start()
        except PortTaken:
            factory.gateways.remove(gateway)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@contextlib.contextmanager
def https(gateway: Gateway, sni: str, context: ssl.SSLContext, timeout: float = 10.0) -> Iterator[EdgeConnection]:
    conn = EdgeConnection(gateway.https_port, context, sni, timeout)
    try:
        yield conn
    finally:
        conn.close()


def get(gateway: Gateway, host: str, context: ssl.SSLContext, path: str = "/echo", **kwargs: Any) -> Response:
    """One request on a fresh connection whose SNI is `host`, with `context` (e.g. holding a client certificate)."""
    with https(gateway, host, context) as conn:
        return send(conn, "GET", path, host=host, **kwargs)


__all__ = [
    "DAY",
    "NOW",
    "ROTATION_DEADLINE",
    "CertCa",
    "assert_within_deadline",
    "atomic_write",
    "cert_rows",
    "client_context",
    "combined",
    "edge_certs_table",
    "get",
    "https",
    "inplace_write",
    "rows_for",
    "served",
    "start_with_files",
    "table_line",
    "wait_served",
    "wait_until",
]
