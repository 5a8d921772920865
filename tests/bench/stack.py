"""The processes a benchmark runs against: an nginx origin, edge and nginx as reference gateway.

`Stack` owns a temp folder (configs, certificates, logs, the served file) and every process it starts;
`Stack.close()` stops them all (SIGTERM, then SIGKILL of the process group) and is safe to call twice.
Gateways are started on demand and cached by name, so a later scenario can ask for another edge (e.g.
with the WAF on) next to the plain one without restarting anything.

CPU pinning: the gateways share one core, the origin and the load generators the other, so that the
gateways compete for exactly one core and the load never steals from them.
"""

from __future__ import annotations

import contextlib
import grp
import http.client
import os
import pwd
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

HOST = "localhost"
FILE_PATH = "/1k"
FILE_SIZE = 1024
CACHED_PREFIX = "/cached/"  # the origin's files again, with `Cache-Control: max-age=3600`
UPLOAD_PATH = "/upload"  # the origin reads a POST body whole (up to UPLOAD_MAX) before it answers 200
UPLOAD_MAX = "16m"
# The TLS 1.2 ciphers of edge (edge/tls/sni.py); TLS 1.3 suites are OpenSSL's defaults in both.
CIPHERS_TLS12 = "ECDHE+AESGCM:ECDHE+CHACHA20"
REPO = Path(__file__).resolve().parents[2]


# The `location /` of the reference nginx: what edge does to a proxied request and its response.
NGINX_PROXY = """\
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header Forwarded "for=$remote_addr;host=$host;proto=https";
            proxy_hide_header X-Powered-By;
            add_header Strict-Transport-Security "max-age=31536000" always;
            add_header Edge-Request-Id $request_id always;"""


class BenchError(Exception):
    """The benchmark could not run (a tool is missing, a server did not start...)."""


def free_port() -> int:
    """A loopback port nobody listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- tools ------------------------------------------------------------------------------------------------------


def _which(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.is_file() and os.access(p, os.X_OK)),
        None,
    )


def ensure_tools() -> dict[str, str]:
    """Paths of wrk and nginx, installing the Debian packages (as root) when one is missing."""
    wanted = {"wrk": "wrk", "nginx": "nginx-light"}
    missing = [pkg for cmd, pkg in wanted.items() if _which(cmd) is None]
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise BenchError(f"missing {' '.join(missing)}: install them (apt-get install -y {' '.join(missing)})")
        print(f"installing {' '.join(missing)} ...", flush=True)
        _apt_install(missing)
    paths = {cmd: _which(cmd) for cmd in wanted}
    absent = [cmd for cmd, path in paths.items() if path is None]
    if absent:
        raise BenchError(f"{', '.join(absent)} still missing after apt-get install")
    return {cmd: path for cmd, path in paths.items() if path is not None}


def _apt_install(packages: list[str]) -> None:
    """apt-get install, with `apt-get update` and a retry on failure. A temporary policy-rc.d keeps the
    nginx package from starting a system nginx on port 80 (which we would then leave running)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\n# written by edge's tests/bench for the time of an install\nexit 101\n")
        policy.chmod(0o755)
    try:
        install = ["apt-get", "install", "-y", "-qq", *packages]
        if subprocess.run(install, env=env, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
            if subprocess.run(install, env=env, check=False).returncode != 0:
                raise BenchError(f"apt-get install {' '.join(packages)} failed")
    finally:
        if ours:
            policy.unlink(missing_ok=True)


def tool_version(argv: list[str]) -> str:
    """First line of a tool's version output (nginx prints on stderr, wrk exits non-zero)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except OSError as exc:
        return f"unknown ({exc})"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


# --- CPU pinning ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pinning:
    """Core of the gateways and core of the origin + load generator; `None` when not pinned."""

    gateway_core: int | None
    load_core: int | None
    note: str

    @classmethod
    def decide(cls) -> Pinning:
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            return cls(None, None, f"not pinned: only {len(cores)} core(s) available")
        if shutil.which("taskset") is None:
            return cls(None, None, "not pinned: taskset is missing (util-linux)")
        gateway, load = cores[0], cores[1]
        return cls(gateway, load, f"gateways on core {gateway}; origin and load generator on core {load}")

    @property
    def pinned(self) -> bool:
        return self.gateway_core is not None

    def gateway(self) -> list[str]:
        return ["taskset", "-c", str(self.gateway_core)] if self.gateway_core is not None else []

    def load(self) -> list[str]:
        return ["taskset", "-c", str(self.load_core)] if self.load_core is not None else []

    def pin_self_to_load_core(self) -> None:
        """This process runs the Python load generators: it belongs on the load core too. Threads started
        afterwards inherit the affinity."""
        if self.load_core is not None:
            os.sched_setaffinity(0, {self.load_core})


# --- processes --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    logs: list[Path]
    files: list[IO[bytes]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, lines: int = 15) -> str:
        out = []
        for path in self.logs:
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").splitlines()[-lines:]
                if text:
                    out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait, then SIGKILL whatever is left of its process group (its own session)."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, 0)  # raises when the group is empty
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        for file in self.files:
            file.close()


@dataclass(frozen=True, slots=True)
class Target:
    """A running gateway to load at https://localhost:port; its CPU time is that of `proc` and its children."""

    name: str
    port: int
    proc: Proc

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}{FILE_PATH}"

    def cpu_seconds(self) -> float:
        """User + system CPU of the gateway process and its children (nginx's worker)."""
        return sum(_cpu_of(pid) for pid in (self.proc.pid, *_children(self.proc.pid)))


class CpuMeter:
    """Around one run: the CPU seconds of the gateway, of the load generator (wrk or this process), and of
    processes that are not ours (another job on the machine disturbs the figures, and we would rather say so
    than publish them silently)."""

    def __init__(self, target: Target, ours: list[int]) -> None:
        self.target = target
        self.ours = ours
        self.gateway = 0.0
        self.client = 0.0
        self.foreign = 0.0
        self._start = (0.0, 0.0, 0.0, 0.0)

    def _read(self) -> tuple[float, float, float, float]:
        pids = {pid for top in self.ours for pid in (top, *_children(top))}
        own = resource.getrusage(resource.RUSAGE_SELF)  # the Python load generators
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
        load = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        ours = sum(_cpu_of(pid) for pid in pids) + load
        return self.target.cpu_seconds(), load, ours, _machine_busy()

    def __enter__(self) -> CpuMeter:
        self._start = self._read()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        gateway, load, ours, machine = self._read()
        self.gateway = gateway - self._start[0]
        self.client = load - self._start[1]
        self.foreign = max(0.0, (machine - self._start[3]) - (ours - self._start[2]))


def _machine_busy() -> float:
    """User + system CPU seconds of the whole machine (interrupt time left out: it is nobody's process)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system = (int(v) for v in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


# --- the stack --------------------------------------------------------------------------------------------------


class Stack:
    def __init__(self, tools: dict[str, str], pinning: Pinning, *, keep: bool = False) -> None:
        self.tools = tools
        self.pinning = pinning
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="edge-bench-"))
        self.procs: list[Proc] = []
        self.targets: dict[str, Target] = {}
        self.origin_port: int | None = None
        self.www = self.dir / "www"
        self.www.mkdir()
        (self.www / FILE_PATH.lstrip("/")).write_bytes(os.urandom(FILE_SIZE // 2).hex().encode())
        (self.dir / "rules").mkdir()
        self.cert: Path | None = None
        self.ca: Path | None = None

    # --- lifecycle

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        self.targets.clear()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _spawn(self, name: str, argv: list[str], *, stdout: Path | None = None) -> Proc:
        err_path = self.dir / f"{name}.stderr"
        err: IO[bytes] = err_path.open("wb")
        out: IO[bytes] | int = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
        files = [err] + ([out] if not isinstance(out, int) else [])
        # A session of its own: Ctrl-C reaches only us, and we stop the servers in order in `close`.
        popen = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        proc = Proc(name, popen, [err_path], files)
        self.procs.append(proc)
        return proc

    def _wait_ready(self, proc: Proc, port: int, *, tls: bool, timeout: float = 20.0) -> None:
        """Poll GET /1k until it answers 200, the process dies or `timeout` passes."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise BenchError(f"{proc.name} exited with {proc.popen.returncode} while starting\n{proc.tail()}")
            try:
                status = _get(port, tls=tls, ca=self.ca)
                if status == 200:
                    return
                last = f"status {status}"
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        raise BenchError(f"{proc.name} did not answer on port {port} within {timeout:.0f}s ({last})\n{proc.tail()}")

    # --- pieces

    def _nginx_common(self, name: str) -> tuple[str, str]:
        """The main-context lines of an nginx config, and the http-context temp paths (all in the temp folder)."""
        temp = self.dir / "nginx-temp" / name
        temp.mkdir(parents=True, exist_ok=True)
        user = ""
        if os.geteuid() == 0:
            # Workers of a root master switch to `nobody`, who could not read the (0700) temp folder.
            user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(0).gr_name};\n"
        return (
            f"{user}worker_processes 1;\ndaemon off;\nmaster_process on;\n"
            f"pid {self.dir / name}.pid;\nerror_log {self.dir / name}-error.log warn;\n"
            "events { worker_connections 4096; }\n"
        ), "\n".join(
            f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )

    def origin(self) -> int:
        """The nginx origin over plain HTTP with keep-alive; its port. It serves the files of <tmp>/www (/1k),
        the same under CACHED_PREFIX with `Cache-Control: max-age=3600`, and answers a POST to UPLOAD_PATH
        with 200 once it has read the whole body, as an application would (nginx buffers it in memory, then
        hands it to an inner location that answers)."""
        if self.origin_port is not None:
            return self.origin_port
        port = free_port()
        main, temps = self._nginx_common("origin")
        conf = self.dir / "origin.conf"
        conf.write_text(
            main
            + "http {\n"
            + temps
            + f"""
    access_log off;
    default_type application/octet-stream;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    open_file_cache max=16;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        server_name _;
        root {self.www};
        location / {{ }}
        location {CACHED_PREFIX} {{
            alias {self.www}/;
            add_header Cache-Control "max-age=3600";
        }}
        location = {UPLOAD_PATH} {{
            client_max_body_size {UPLOAD_MAX};
            client_body_buffer_size {UPLOAD_MAX};
            proxy_request_buffering on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://127.0.0.1:{port}/uploaded;
        }}
        location = /uploaded {{
            client_max_body_size {UPLOAD_MAX};
            default_type application/json;
            return 200 '{{"ok":true}}';
        }}
    }}
}}
"""
        )
        argv = [*self.pinning.load(), self.tools["nginx"], "-p", str(self.dir), "-c", str(conf)]
        proc = self._spawn("origin", [*argv, "-e", str(self.dir / "origin-error.log")])
        proc.logs.append(self.dir / "origin-error.log")
        self._wait_ready(proc, port, tls=False)
        self.origin_port = port
        return port

    def _certificates(self) -> tuple[Path, Path]:
        """`edge certs dev localhost` into <tmp>/certs (needs an edge.toml there, which `edge()` writes)."""
        if self.cert is None or self.ca is None:
            config = self._edge_config("edge-certs", https_port=free_port(), origin_port=1)
            done = subprocess.run(
                [*_edge_command(), "certs", "dev", HOST, "-c", str(config)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            cert, ca = self.dir / "certs" / f"{HOST}.pem", self.dir / "certs" / "dev-ca" / "ca.pem"
            if done.returncode != 0 or not cert.is_file() or not ca.is_file():
                raise BenchError(f"edge certs dev {HOST} failed ({done.returncode}): {done.stdout}{done.stderr}")
            self.cert, self.ca = cert, ca
        return self.cert, self.ca

    def _edge_config(
        self,
        name: str,
        *,
        https_port: int,
        origin_port: int,
        site_extra: str = "",
        certs: str | Path = "certs",
        hosts: Sequence[str] = (HOST,),
    ) -> Path:
        path = self.dir / f"{name}.toml"
        path.write_text(
            f"""[server]
https = "127.0.0.1:{https_port}"
workers = 1
grace = "1s"

[tls]
certs = "{certs}"
default = "{HOST}"
min_version = "TLSv1.2"

[[site]]
hosts = [{", ".join(f'"{host}"' for host in hosts)}]
origins = ["http://127.0.0.1:{origin_port}"]
{site_extra}
"""
        )
        return path

    def edge(
        self,
        name: str = "edge",
        *,
        site_extra: str = "",
        certs: str | Path = "certs",
        hosts: Sequence[str] = (HOST,),
        timeout: float = 20.0,
        origin_port: int | None = None,
    ) -> Target:
        """edge with one worker in front of the origin; stdout (the access log) goes to <tmp>/<name>-access.log.

        `site_extra` is appended to the [[site]] table, for scenarios that turn features on; `certs` is its
        certificate folder (default: <tmp>/certs, with the dev certificate), `hosts` the site's names, `timeout`
        how long it may take to answer its first request, `origin_port` another origin than the nginx one."""
        if name in self.targets:
            return self.targets[name]
        origin = origin_port or self.origin()
        self._certificates()
        port = free_port()
        config = self._edge_config(
            name, https_port=port, origin_port=origin, site_extra=site_extra, certs=certs, hosts=hosts
        )
        proc = self._spawn(
            name,
            [*self.pinning.gateway(), *_edge_command(), "run", "-c", str(config)],
            stdout=self.dir / f"{name}-access.log",
        )
        self._wait_ready(proc, port, tls=True, timeout=timeout)
        self.targets[name] = target = Target(name, port, proc)
        return target

    def nginx(
        self,
        name: str = "nginx",
        *,
        origin_port: int | None = None,
        websocket: bool = False,
        location: str | None = None,
        server_extra: str = "",
        http_extra: str = "",
    ) -> Target:
        """nginx as TLS reverse proxy, configured like edge: same certificate, protocols and ciphers, pooled
        keep-alive upstream connections, the X-Forwarded-* headers and HSTS edge adds, a buffered access log
        (edge's is flushed every 0.25 s, see edge/observe.py). `websocket`: nginx's documented recipe for
        WebSocket proxying (`Upgrade` passed on, `Connection: upgrade` when the client asked for one).

        `location` replaces the body of `location / {...}` (default NGINX_PROXY; the origin is `upstream
        origin`); `server_extra` (more locations) is added to the server context, `http_extra` to the http
        context (a proxy_cache_path, a log_format): for scenarios that configure nginx otherwise."""
        if name in self.targets:
            return self.targets[name]
        origin = origin_port or self.origin()
        connection = "$connection_upgrade" if websocket else '""'
        upgrade_map = "    map $http_upgrade $connection_upgrade { default upgrade; '' ''; }\n" if websocket else ""
        upgrade_header = "proxy_set_header Upgrade $http_upgrade;\n            " if websocket else ""
        if location is None:
            location = NGINX_PROXY.replace(
                'proxy_set_header Connection "";', f"{upgrade_header}proxy_set_header Connection {connection};"
            )
        cert, _ = self._certificates()
        port = free_port()
        main, temps = self._nginx_common(name)
        conf = self.dir / f"{name}.conf"
        conf.write_text(
            main
            + "http {\n"
            + temps
            + f"""
    log_format edge escape=json '{{"ts":"$time_iso8601","request_id":"$request_id","client":"$remote_addr",'
        '"host":"$host","method":"$request_method","path":"$uri","status":$status,"bytes":$body_bytes_sent,'
        '"duration_s":$request_time,"origin":"$upstream_addr"}}';
{upgrade_map}    access_log {self.dir / name}-access.log edge buffer=64k flush=250ms;
    server_tokens off;
    keepalive_timeout 75s;
    keepalive_requests 1000000;  # uvicorn has no per-connection request limit; nginx's default is 1000
{http_extra}

    upstream origin {{
        server 127.0.0.1:{origin};
        keepalive 64;
        keepalive_requests 1000000;
    }}

    server {{
        listen 127.0.0.1:{port} ssl backlog=2048;
        server_name {HOST};
        ssl_certificate {cert};
        ssl_certificate_key {cert};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers {CIPHERS_TLS12};
        ssl_prefer_server_ciphers on;

        location / {{
{location}
        }}
{server_extra}
    }}
}}
"""
        )
        argv = [*self.pinning.gateway(), self.tools["nginx"], "-p", str(self.dir), "-c", str(conf)]
        proc = self._spawn(name, [*argv, "-e", str(self.dir / f"{name}-error.log")])
        proc.logs.append(self.dir / f"{name}-error.log")
        self._wait_ready(proc, port, tls=True)
        self.targets[name] = target = Target(name, port, proc)
        return target

    def meter(self, target: Target) -> CpuMeter:
        return CpuMeter(target, [proc.pid for proc in self.procs])

    def tls_of(self, target: Target) -> dict[str, str]:
        """What a default Python client negotiates with `target`: protocol version and cipher."""
        assert self.ca is not None
        context = ssl.create_default_context(cafile=str(self.ca))
        with (
            socket.create_connection(("127.0.0.1", target.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=HOST) as tls,
        ):
            cipher = tls.cipher()
            return {"version": tls.version() or "?", "cipher": cipher[0] if cipher else "?"}


def _edge_command() -> list[str]:
    """`edge` next to this interpreter (the venv's), else `python -m edge`."""
    script = Path(sys.executable).parent / "edge"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "edge"]


def _get(port: int, *, tls: bool, ca: Path | None) -> int:
    conn: http.client.HTTPConnection
    if tls:
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        conn = http.client.HTTPSConnection(HOST, port, context=context, timeout=2)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", FILE_PATH)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
