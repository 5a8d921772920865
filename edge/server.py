"""One worker process: uvicorn servers for https, http (redirect) and admin on sockets the master bound.

Each worker runs all its uvicorn servers on one uvloop loop; signals are ours, because several uvicorn
servers in one loop would fight over signal handlers: SIGTERM, SIGINT and SIGQUIT stop accepting and drain
for `server.grace`; SIGHUP reloads edge.toml, certificates and rules; SIGUSR1 reopens the log files. The
admin listener runs in worker 0 only. The master (`master.py`) forks the workers and sends them these signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
from pathlib import Path
from typing import Any

import uvicorn

from edge import control, logs, metrics
from edge.admin import build_admin, purge
from edge.config import Config, Listen
from edge.gateway import Gateway
from edge.protocol import Connections, EdgeHttpProtocol, protocol_class
from edge.proxyproto import ProxyThenTls
from edge.redirect import HttpsRedirect
from edge.reload import Reloader
from edge.rules import RulesState
from edge.runtime import Runtime
from edge.tls.sni import CertStateRef, base_context, load_cert_state

log = logging.getLogger("edge")


def _proxied_https(context: ssl.SSLContext, runtime: Runtime, http: type[EdgeHttpProtocol]) -> type[ProxyThenTls]:
    """The protocol class uvicorn instantiates per connection when PROXY headers may come first."""
    handshake_timeout = runtime.state.config.server.client_header_timeout

    class ProxiedHttps(ProxyThenTls):
        def __init__(self, **uvicorn_kwargs: Any) -> None:
            super().__init__(
                lambda: http(**uvicorn_kwargs),
                context,
                lambda peer: runtime.state.clients.is_trusted(peer),
                handshake_timeout=handshake_timeout,
            )

    return ProxiedHttps


class EdgeServer(uvicorn.Server):
    """uvicorn's server on sockets edge bound, with the TLS handshake bounded by `client_header_timeout`
    (asyncio's default is 60 s, and uvicorn offers no setting for it)."""

    def __init__(self, config: uvicorn.Config, handshake_timeout: float) -> None:
        super().__init__(config)
        self.handshake_timeout = handshake_timeout

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        config = self.config
        config.load()
        self.lifespan = config.lifespan_class(config)
        loop = asyncio.get_running_loop()

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop
            )

        extra: dict[str, Any] = {"ssl_handshake_timeout": self.handshake_timeout} if config.ssl else {}
        self.servers = [
            await loop.create_server(create_protocol, sock=sock, ssl=config.ssl, backlog=config.backlog, **extra)
            for sock in sockets or []
        ]
        self.started = True


def bind(listen: Listen) -> socket.socket:
    """A listening socket, shared by the workers after fork."""
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if listen.host in ("::", "") else 1)
    sock.bind((listen.host, listen.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Listeners:
    def __init__(self, config: Config) -> None:
        self.https = bind(config.server.https)
        self.http = bind(config.server.http) if config.server.http else None
        self.admin = bind(config.server.admin) if config.server.admin else None

    def close(self) -> None:
        for sock in (self.https, self.http, self.admin):
            if sock is not None:
                sock.close()


class WorkerContext:
    """What the master hands a worker: its number, the control folder and the pipe to say it is serving."""

    def __init__(self, index: int, control_folder: Path | None, ready_fd: int | None) -> None:
        self.index = index
        self.control_folder = control_folder
        self.ready_fd = ready_fd

    def ready(self) -> None:
        """Tell the master this worker accepts connections (one write of a few bytes to a pipe is atomic)."""
        if self.ready_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self.ready_fd, b"%d %d\n" % (self.index, os.getpid()))


async def serve_worker(config: Config, listeners: Listeners, rules: RulesState, worker: WorkerContext) -> None:
    """Run this worker's servers until SIGTERM/SIGINT/SIGQUIT, then drain for the grace period."""
    index = worker.index
    runtime = Runtime(config, rules=rules)
    certs = CertStateRef()
    certs.swap(load_cert_state(config))
    runtime.certs = certs
    reloader = Reloader(runtime, certs)
    reloader.report_certs(initial=True)
    reloader.report_rules(quiet=index != 0)  # the rules the master loaded: one log line, from worker 0
    if index == 0 and config.server.workers > 1 and not runtime.limiter.is_shared:
        log.warning(
            "ratelimit.storage is %s with %d workers: each worker counts alone, so a limit of N lets up to "
            "N x %d through; use redis:// to share counters",
            config.ratelimit.storage,
            config.server.workers,
            config.server.workers,
        )
    connections = Connections(runtime)
    http_protocol = protocol_class(connections)
    common: dict[str, Any] = {
        "http": http_protocol,
        "lifespan": "off",
        "access_log": False,
        "server_header": False,
        "date_header": False,
        "log_level": "warning",
        "log_config": None,  # uvicorn's records go through edge's handler (logs.setup)
        "timeout_graceful_shutdown": config.server.grace,
        "ws": "none",
        "proxy_headers": False,  # X-Forwarded-For is trusted only from server.trusted_proxies, by edge itself
    }
    app = Gateway(runtime)
    if config.server.proxy_protocol:
        # Plain TCP first: a trusted proxy may prefix the connection with a PROXY header before TLS.
        protocol: Any = _proxied_https(base_context(config, certs), runtime, http_protocol)
        https = uvicorn.Config(app, **{**common, "http": protocol})
    else:
        https = uvicorn.Config(app, ssl_context_factory=lambda _cfg, _default: base_context(config, certs), **common)
    handshake = config.server.client_header_timeout
    servers = [(EdgeServer(https, handshake), listeners.https)]
    if listeners.http is not None:
        redirect = HttpsRedirect(runtime)
        servers.append((EdgeServer(uvicorn.Config(redirect, **common), handshake), listeners.http))
    if listeners.admin is not None and index == 0:
        servers.append((EdgeServer(uvicorn.Config(build_admin(runtime), **common), handshake), listeners.admin))
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        loop.add_signal_handler(sig, stopping.set)
    reloads: set[asyncio.Task[Any]] = set()

    def hangup() -> None:
        task = loop.create_task(reloader.reload_all())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    loop.add_signal_handler(signal.SIGUSR1, logs.reopen_all)

    async def reload_command(message: dict[str, Any]) -> dict[str, Any]:
        results = await reloader.reload_all()
        return {"ok": all(result["ok"] for result in results.values()), **results}

    async def flush_metrics(message: dict[str, Any]) -> dict[str, Any]:
        sample(runtime, connections)  # a scrape sees the gauges as they are now, not up to a second ago
        metrics.TALLY.flush()
        return {}

    async def purge_command(message: dict[str, Any]) -> dict[str, Any]:
        return {"purged": purge(runtime, message.get("body"))}

    control.register("reload", reload_command)
    control.register("purge", purge_command)
    control.register("waf-recent", lambda message: _recent(runtime, message))
    control.register("flush-metrics", flush_metrics)
    channel = control.ControlServer(worker.control_folder, index) if worker.control_folder else None
    runtime.log.start_flusher()
    connections.start()
    runtime.checks.start()
    reloader.start()
    sampler = loop.create_task(_sample_forever(runtime, connections))
    for server, sock in servers:
        await server.startup(sockets=[sock])
    if channel is not None:
        await channel.start()
    worker.ready()
    await stopping.wait()
    log.info("worker %d stopping: draining for up to %.0fs", index, config.server.grace)
    for server, _ in servers:
        server.should_exit = True
    sampler.cancel()
    await reloader.stop()
    await asyncio.gather(*(server.shutdown(sockets=[sock]) for server, sock in servers))
    if channel is not None:
        await channel.stop()
    connections.stop()
    runtime.checks.stop()
    runtime.state.sites.close()
    runtime.log.stop()
    metrics.TALLY.flush()
    runtime.audit.close()
    runtime.inspector.shutdown(wait=False, cancel_futures=True)


SAMPLE_INTERVAL = 1.0


async def _sample_forever(runtime: Runtime, connections: Connections) -> None:
    """Gauges that are states rather than events, set once a second (nothing on the request path), and the
    request path's tally written to the shared files."""
    while True:
        sample(runtime, connections)
        metrics.TALLY.flush()
        await asyncio.sleep(SAMPLE_INTERVAL)


def sample(runtime: Runtime, connections: Connections) -> None:
    metrics.CLIENT_CONNECTIONS.set(len(connections.open))
    for site in runtime.state.sites.sites:
        name = site.config.hosts[0]
        for pool in site.pools:
            url = pool.origin.url
            metrics.child(metrics.ORIGIN_ACTIVE, name, url).set(pool.active)
            metrics.child(metrics.ORIGIN_UP, name, url).set(1 if pool.health.state == "up" else 0)
    store = runtime.cache.store
    metrics.CACHE_BYTES.set(store.bytes_used)
    metrics.CACHE_ENTRIES.set(store.entries)


async def _recent(runtime: Runtime, message: dict[str, Any]) -> dict[str, Any]:
    """This worker's record of a recent request a WAF rule matched, for `GET /waf/recent/<id>`."""
    return {"entry": runtime.audit.recent(str(message.get("request_id", "")))}


def listens(config: Config) -> list[tuple[str, Listen]]:
    out = [("https", config.server.https)]
    if config.server.http:
        out.append(("http", config.server.http))
    if config.server.admin:
        out.append(("admin", config.server.admin))
    return out


def run_worker(config: Config, listeners: Listeners, rules: RulesState, worker: WorkerContext) -> None:
    """The body of a worker process, on a fresh uvloop loop."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop is a dependency on every platform we support
        runner = asyncio.Runner()
    with runner:
        runner.run(serve_worker(config, listeners, rules, worker))
