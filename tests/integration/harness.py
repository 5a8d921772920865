"""Real parts for the integration tests: certificates, the `edge run` process, origin processes and servers.

Everything here talks over loopback sockets to real processes: the gateway is `edge run -c CONFIG` as a
subprocess, the ordinary origin is `python -m edge.demo`, and origins with special behaviour (never answers,
closes mid-body, counts connections) are small asyncio servers running in a background thread. Ports are
always found by binding port 0, so the suite runs beside a gateway that already serves on 8443.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from prometheus_client.parser import text_string_to_metric_families

VENV_BIN = Path(sys.executable).parent
EDGE_CMD = [str(VENV_BIN / "edge")] if (VENV_BIN / "edge").exists() else [sys.executable, "-m", "edge"]
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 20.0

# The certificate files every test gateway gets unless a test says otherwise: file name -> SAN names.
DEFAULT_CERT_FILES: dict[str, tuple[str, ...]] = {
    "localhost.pem": ("localhost",),
    "a.test.pem": ("a.test",),
    "b.test.pem": ("b.test",),
    "wild.test.pem": ("*.wild.test",),
    "services.pem": (
        "rr.test",
        "limit.test",
        "nohsts.test",
        "dead.test",
        "silent.test",
        "cut.test",
        "count.test",
        "flaky.test",
        "leaky.test",
        "garbage.test",
        "big.test",
    ),
}


def free_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel just handed out for 127.0.0.1 (all held until every one is chosen)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


# --- certificates --------------------------------------------------------------------------------------------


class Pki:
    """A test CA and leaf certificates for given names, issued once per session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca = trustme.CA()
        self.ca_path = folder / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self._leaves: dict[tuple[str, ...], trustme.LeafCert] = {}

    def leaf(self, names: tuple[str, ...], **kwargs: Any) -> trustme.LeafCert:
        key = (*names, *(f"{k}={v}" for k, v in sorted(kwargs.items())))
        if key not in self._leaves:
            self._leaves[key] = self.ca.issue_cert(*names, **kwargs)
        return self._leaves[key]

    def pem(self, names: tuple[str, ...], **kwargs: Any) -> bytes:
        """One PEM holding the leaf's chain and its private key (the format `[tls] certs` reads)."""
        leaf = self.leaf(names, **kwargs)
        chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        return chain + leaf.private_key_pem.bytes()

    def der(self, names: tuple[str, ...]) -> bytes:
        """The DER of the leaf certificate for `names`, to compare with what a handshake presents."""
        return ssl.PEM_cert_to_DER_cert(self.leaf(names).cert_chain_pems[0].bytes().decode())


# --- edge.toml ---------------------------------------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def toml_table(header: str, values: dict[str, Any]) -> str:
    lines = [header]
    lines += [f"{key} = {toml_value(value)}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n"


# --- HTTP over TLS with a chosen SNI -------------------------------------------------------------------------------


class EdgeConnection(http.client.HTTPSConnection):
    """An HTTPSConnection to 127.0.0.1:port whose TLS server name is `sni` (None: no SNI at all)."""

    def __init__(self, port: int, context: ssl.SSLContext, sni: str | None, timeout: float) -> None:
        super().__init__(LOOPBACK, port, context=context, timeout=timeout)
        self.sni = sni

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.sni)  # type: ignore[attr-defined]
        except BaseException:
            sock.close()
            raise


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def names(self) -> set[str]:
        return {n.lower() for n, _ in self.headers}

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def request_id(self) -> str | None:
        return self.header("Edge-Request-Id")

    def text(self) -> str:
        """Status line, headers and body as one string, to search for things that must never leak."""
        head = "".join(f"{n}: {v}\n" for n, v in self.headers)
        return f"{self.status} {self.reason}\n{head}\n{self.body.decode('latin-1')}"


def read_response(conn: http.client.HTTPConnection) -> Response:
    resp = conn.getresponse()
    body = resp.read()
    return Response(resp.status, resp.reason, resp.getheaders(), body)


def tls_client_context(ca_path: Path | str | None, *, check_hostname: bool = True) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_path is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_verify_locations(cafile=str(ca_path))
        context.check_hostname = check_hostname
    return context


@dataclass
class Handshake:
    der: bytes
    version: str | None
    alpn: str | None


def tls_handshake(port: int, sni: str | None, context: ssl.SSLContext, timeout: float = 5.0) -> Handshake:
    """One real TLS handshake to 127.0.0.1:port; raises ssl.SSLError when the server refuses it."""
    with (
        socket.create_connection((LOOPBACK, port), timeout) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return Handshake(der, tls.version(), tls.selected_alpn_protocol())


# --- the gateway process -----------------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Live child processes of `pid` (zombies excluded), from /proc/*/stat."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def rss_of(pid: int) -> int:
    """VmRSS of one process, in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


_DEFAULT = object()


class PortTaken(RuntimeError):
    """`edge run` could not bind a port that was free a moment before."""


@dataclass
class Gateway:
    """One `edge run` process: its config folder, ports, output files and request helpers."""

    folder: Path
    config_path: Path
    ca_path: Path
    https_port: int
    http_port: int
    admin_port: int
    grace: float
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)  # more `edge run` options, e.g. ["--pidfile", "edge.pid"]
    process: subprocess.Popen[bytes] | None = None
    returncode: int | None = None
    _stdout: Any = None
    _stderr: Any = None

    @property
    def certs_dir(self) -> Path:
        return self.folder / "certs"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    # --- lifecycle ---

    def start(self, *, ready_sni: str | None = None) -> Gateway:
        self._stdout = open(self.folder / "stdout.log", "wb")  # noqa: SIM115 - closed in stop()
        self._stderr = open(self.folder / "stderr.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*EDGE_CMD, "run", "-c", str(self.config_path), *self.args],
            stdout=self._stdout,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            cwd=self.folder,
            env={**os.environ, **self.env},
        )
        self._wait_ready(ready_sni)
        return self

    def _wait_ready(self, sni: str | None) -> None:
        """Until the listeners are all up (the "serving" log line) and the https port answers TLS."""
        deadline = time.monotonic() + START_TIMEOUT
        context = tls_client_context(None)
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                self._close_files()
                stderr = self.stderr_text()
                kind = PortTaken if "Address already in use" in stderr else RuntimeError
                raise kind(f"edge run exited with {self.process.returncode}:\n{stderr}")
            if " serving " in self.stderr_text():
                try:
                    tls_handshake(self.https_port, sni, context, timeout=2.0)
                    return
                except ssl.SSLError:
                    return  # the TLS stack answered (e.g. unrecognized_name without a default): it is up
                except OSError:
                    if "proxy_protocol = true" in self.config_path.read_text():
                        return  # it answered, refusing a connection without a PROXY header

            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"edge run did not come up within {START_TIMEOUT}s:\n{self.stderr_text()}")

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self, timeout: float | None = None) -> int:
        """SIGTERM and wait for the exit (grace period plus margin); returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout if timeout is not None else self.grace + 10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._close_files()
        return self.returncode

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        self.returncode = self.process.wait(timeout)
        self._close_files()
        return self.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close_files()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _close_files(self) -> None:
        for handle in (self._stdout, self._stderr):
            if handle is not None and not handle.closed:
                handle.close()

    # --- output ---

    def stdout_text(self) -> str:
        path = self.folder / "stdout.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stderr_text(self) -> str:
        path = self.folder / "stderr.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stderr_lines(self) -> list[dict[str, Any]]:
        """The lifecycle log so far: every complete stderr line, parsed as JSON (each one must be JSON)."""
        text = self.stderr_text()
        return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]

    def log_messages(self, level: str | None = None) -> list[str]:
        """The `msg` of every lifecycle line (of one level: "info", "warning", "error")."""
        return [line["msg"] for line in self.stderr_lines() if level is None or line["level"] == level]

    def stdout_lines(self) -> list[dict[str, Any]]:
        """The access log so far: every complete stdout line, parsed as JSON (each one must be JSON)."""
        text = self.stdout_text()
        return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]

    def log_for(self, request_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """The access-log line of one request (edge flushes stdout every 0.25 s, so poll a little)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.stdout_lines() if line.get("request_id") == request_id]
            if found:
                assert len(found) == 1, f"{len(found)} access-log lines for {request_id}"
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no access-log line for request id {request_id}:\n{self.stdout_text()[-2000:]}")
            time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        """The pids of the master's children (the workers), from /proc."""
        return children_of(self.pid)

    def rss_bytes(self) -> int:
        """VmRSS of the workers (the processes that serve), summed."""
        return sum(rss_of(pid) for pid in self.worker_pids())

    # --- clients ---

    def ssl_context(self, *, check_hostname: bool = True) -> ssl.SSLContext:
        """A client context trusting the gateway's test CA (and nothing else)."""
        return tls_client_context(self.ca_path, check_hostname=check_hostname)

    def handshake(self, sni: str | None, *, context: ssl.SSLContext | None = None) -> Handshake:
        """A handshake that verifies the chain against the test CA; the name is checked by the caller."""
        return tls_handshake(self.https_port, sni, context or self.ssl_context(check_hostname=False))

    def connect(
        self, host: str = "localhost", *, sni: Any = _DEFAULT, timeout: float = 10.0, check_hostname: bool = True
    ) -> EdgeConnection:
        """A client connection; SNI defaults to the host name (without port); `sni=None` sends none."""
        name = host.rsplit(":", 1)[0] if sni is _DEFAULT else sni
        context = self.ssl_context(check_hostname=check_hostname and name is not None)
        return EdgeConnection(self.https_port, context, name, timeout)

    @contextlib.contextmanager
    def connection(self, host: str = "localhost", **kwargs: Any) -> Iterator[EdgeConnection]:
        conn = self.connect(host, **kwargs)
        try:
            yield conn
        finally:
            conn.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        host: str = "localhost",
        sni: Any = _DEFAULT,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: Any = None,
        timeout: float = 10.0,
        check_hostname: bool = True,
    ) -> Response:
        """One request on a fresh TLS connection; `host` is the Host header."""
        with self.connection(host, sni=sni, timeout=timeout, check_hostname=check_hostname) as conn:
            return send(conn, method, path, host=host, headers=headers, body=body)

    def admin(
        self, path: str, *, headers: dict[str, str] | None = None, method: str = "GET", timeout: float = 10
    ) -> Response:
        conn = http.client.HTTPConnection(LOOPBACK, self.admin_port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            return read_response(conn)
        finally:
            conn.close()

    def metrics(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """`/metrics` parsed by prometheus_client's parser: sample name -> [(labels, value), ...]."""
        text = self.admin("/metrics").body.decode()
        out: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
        return out

    def metric(self, sample: str, **labels: str) -> float:
        """The sum of the samples named `sample` whose labels include `labels` (0 when there is none)."""
        samples = self.metrics().get(sample, [])
        return sum(value for found, value in samples if all(found.get(k) == v for k, v in labels.items()))

    def plain(self, method: str, path: str, *, host: str = "localhost") -> Response:
        """A request to the plain-HTTP listener."""
        conn = http.client.HTTPConnection(LOOPBACK, self.http_port, timeout=10)
        try:
            conn.request(method, path, headers={"Host": host})
            return read_response(conn)
        finally:
            conn.close()


def send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    *,
    host: str = "localhost",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: Any = None,
) -> Response:
    """Send one request on `conn` with exactly these headers (several with one name allowed) and read the answer."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host)
    names = {n.lower() for n, _ in pairs}
    chunked = False
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        if isinstance(body, bytes):
            pairs.append(("Content-Length", str(len(body))))
        else:
            pairs.append(("Transfer-Encoding", "chunked"))
            chunked = True
    for name, value in pairs:
        conn.putheader(name, value)
    conn.endheaders()
    if isinstance(body, bytes):
        conn.send(body)
    elif body is not None:
        for piece in body:
            conn.send(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            conn.send(b"0\r\n\r\n")
    response = read_response(conn)
    if isinstance(conn, EdgeConnection):
        assert_no_origin_address(response)
    return response


ORIGIN_PORTS: set[int] = set()  # every origin the suite started: no gateway response may name one


def assert_no_origin_address(response: Response) -> None:
    """The suite-wide scan of hidden origins: no response through a gateway names an origin's address and port
    (headers or body), whatever the test checks besides."""
    text = response.text()
    for port in ORIGIN_PORTS:
        for host in ("127.0.0.1", "localhost", "[::1]"):
            assert f"{host}:{port}" not in text, f"a gateway response names the origin {host}:{port}:\n{text[:500]}"


class GatewayFactory:
    """Writes edge.toml + certificates into a fresh folder and starts `edge run` on free ports."""

    def __init__(self, root: Path, pki: Pki) -> None:
        self.root = root
        self.pki = pki
        self.gateways: list[Gateway] = []
        self._count = 0

    def prepare(
        self,
        sites: list[dict[str, Any]],
        *,
        server: dict[str, Any] | None = None,
        tls: dict[str, Any] | None = None,
        cert_files: dict[str, tuple[str, ...]] | None = None,
        grace: str = "3s",
        env: dict[str, str] | None = None,
        tables: dict[str, dict[str, Any]] | None = None,
        rules: dict[str, str] | None = None,
    ) -> Gateway:
        """The folder, certificates and edge.toml of a gateway, not started yet.

        `server` and `tls` override keys of those tables (a value of None removes the key);
        `cert_files` maps file names in the certificate folder to the names of their leaf;
        `tables` adds whole tables such as `{"waf": {...}, "ratelimit": {...}}`; `rules` writes rule files
        (name -> TOML text) into the gateway's `rules/` folder, which `[waf] rules` points at by default.
        """
        self._count += 1
        folder = self.root / f"gw{self._count}"
        certs = folder / "certs"
        certs.mkdir(parents=True)
        for name, names in (DEFAULT_CERT_FILES if cert_files is None else cert_files).items():
            (certs / name).write_bytes(self.pki.pem(names))
        https_port, http_port, admin_port = free_ports(3)
        server_table: dict[str, Any] = {
            "https": f"{LOOPBACK}:{https_port}",
            "http": f"{LOOPBACK}:{http_port}",
            "admin": f"{LOOPBACK}:{admin_port}",
            "workers": 1,
            "grace": grace,
            **(server or {}),
        }
        tls_table: dict[str, Any] = {"certs": "certs", "default": "localhost", "min_version": "TLSv1.2", **(tls or {})}
        text = toml_table("[server]", server_table) + "\n" + toml_table("[tls]", tls_table)
        for name, values in (tables or {}).items():
            text += "\n" + toml_table(f"[{name}]", values)
        (folder / "rules").mkdir()
        for name, body in (rules or {}).items():
            (folder / "rules" / name).write_text(body)
        for site in sites:
            text += "\n" + toml_table("[[site]]", site)
        config_path = folder / "edge.toml"
        config_path.write_text(text)
        gateway = Gateway(
            folder=folder.resolve(),
            config_path=config_path.resolve(),
            ca_path=self.pki.ca_path,
            https_port=https_port,
            http_port=http_port,
            admin_port=admin_port,
            grace=_seconds(grace),
            env=env or {},
        )
        self.gateways.append(gateway)
        return gateway

    def start(self, sites: list[dict[str, Any]], *, ready_sni: str | None = None, **kwargs: Any) -> Gateway:
        """prepare() and start; when another process grabbed one of the free ports meanwhile, try new ones."""
        for attempt in range(3):
            gateway = self.prepare(sites, **kwargs)
            try:
                return gateway.start(ready_sni=ready_sni)
            except PortTaken:
                self.gateways.remove(gateway)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def stop_all(self) -> None:
        """Stop every gateway still running; each must exit 0 within its grace period (plus margin)."""
        problems = []
        for gateway in self.gateways:
            if gateway.process is None or gateway.returncode is not None:
                continue
            try:
                code = gateway.stop()
            except subprocess.TimeoutExpired:
                problems.append(f"{gateway.config_path}: did not exit within {gateway.grace + 10}s of SIGTERM")
                continue
            if code != 0:
                problems.append(f"{gateway.config_path}: exit code {code}\n{gateway.stderr_text()[-2000:]}")
        assert not problems, "\n".join(problems)


def _seconds(duration: str) -> float:
    if duration.endswith("ms"):
        return float(duration[:-2]) / 1000
    return float(duration.rstrip("s"))


# --- origins -----------------------------------------------------------------------------------------------------


class DemoOrigin:
    """`python -m edge.demo --port P --name N` as a subprocess."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.port = free_port()
        ORIGIN_PORTS.add(self.port)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._queries = 0
        self._log = open(folder / f"origin-{name}-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge.demo", "--port", str(self.port), "--name", name],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self._log.close()
                raise RuntimeError(f"demo origin {name} exited with {self.process.returncode}")
            try:
                self.count()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"demo origin {name} did not come up") from None
                time.sleep(0.05)

    def get(self, path: str) -> Response:
        """A request straight to the origin, bypassing the gateway."""
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
        try:
            conn.request("GET", path)
            return read_response(conn)
        finally:
            conn.close()

    def count(self) -> int:
        """Requests the origin received so far, not counting these `/count` questions themselves."""
        self._queries += 1
        return int(self.get("/count").json()["requests"]) - self._queries

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


Handler = Callable[["ThreadedOrigin", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class ThreadedOrigin:
    """A small asyncio TCP server in a background thread, with a handler that decides how it misbehaves.

    Counts connections and requests (handlers bump `requests`), so tests can see what reached it.
    """

    def __init__(self, handler: Handler, *, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.connections = 0
        self.requests = 0
        self.port = port
        self.ssl_context = ssl_context
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="threaded-origin", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("threaded origin did not start")
        if self._error is not None:
            raise RuntimeError("threaded origin failed to start") from self._error

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread through _ready
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, LOOPBACK, self.port, ssl=self.ssl_context)
        self.port = server.sockets[0].getsockname()[1]
        ORIGIN_PORTS.add(self.port)
        self._ready.set()
        async with server:
            await self._stop.wait()
        for writer in list(self._writers):
            writer.close()  # handlers see EOF and return
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        try:
            await self.handler(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a cancelled handler ends quietly: asyncio's stream callback would log it as an error
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    async def wait_stopped(self) -> None:
        assert self._stop is not None
        await self._stop.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes] | None:
    """One HTTP/1.1 request (head and a Content-Length or chunked body); None when the peer closed first."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.split(b"\r\n")
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        if b":" in line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            body += chunk[:-2]
            if size == 0:
                break
    elif b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    return lines[0], headers, body


async def read_text_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """`read_request` as text: (method, target, headers with lower-case names); None when the peer closed."""
    try:
        request = await read_request(reader)
    except ConnectionError:
        return None
    if request is None:
        return None
    line, headers, _ = request
    method, target, _ = line.decode("latin-1").split(" ", 2)
    return method, target, {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}


async def silent_handler(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accepts and reads the request, then never answers."""
    if await read_request(reader) is not None:
        origin.requests += 1
    await origin.wait_stopped()


async def cut_handler(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Promises 1 MiB, sends 64 KiB of it, then closes the connection."""
    if await read_request(reader) is None:
        return
    origin.requests += 1
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n")
    writer.write(b"c" * 65536)
    await writer.drain()
    writer.transport.abort()


def counting_handler(*, close_after_each: bool = False) -> Handler:
    """A keep-alive origin answering `{"connection": n, "request": m}`; optionally closes after each answer
    without saying so (the race of a keep-alive timeout on the origin side)."""

    async def handle(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = origin.connections
        while True:
            request = await read_request(reader)
            if request is None:
                return
            origin.requests += 1
            body = json.dumps({"connection": connection, "request": origin.requests}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
            )
            await writer.drain()
            if close_after_each:
                return

    return handle


async def leaky_handler(origin: ThreadedOrigin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers with every header an origin should not get past the gateway: its address in Location and
    Content-Location, Server and X-Powered-By banners, its own HSTS, a hop-by-hop header named in Connection."""
    while await read_request(reader) is not None:
        origin.requests += 1
        body = b"leaky\n"
        own = f"http://{LOOPBACK}:{origin.port}".encode()
        writer.write(
            b"HTTP/1.1 201 Created\r\n"
            b"Content-Length: %d\r\n"
            b"Server: secret-origin/9.9\r\n"
            b"X-Powered-By: PHP/4.0\r\n"
            b"Location: %b/items/7?x=1\r\n"
            b"Content-Location: %b/items/7\r\n"
            b"Connection: keep-alive, X-Internal-Hop\r\n"
            b"X-Internal-Hop: secret\r\n"
            b"Keep-Alive: timeout=5\r\n"
            b"Strict-Transport-Security: max-age=1\r\n"
            b"X-Kept: yes\r\n"
            b"\r\n%b" % (len(body), own, own, body)
        )
        await writer.drain()
