"""Starting and stopping the listeners: uvicorn servers for https, http (redirect) and admin, in N workers.

Each worker process runs all its uvicorn servers on one uvloop loop; signals are ours (SIGTERM and SIGINT
make every server stop accepting and drain for `server.grace`), because several uvicorn servers in one
loop would fight over signal handlers. With `workers > 1` the parent binds the sockets, forks the workers
(who share them) and restarts any that dies; the admin listener runs in worker 0 only.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import socket
import ssl
import sys
import time
from typing import Any

import uvicorn

from edge.admin import build_admin
from edge.config import Config, Listen
from edge.gateway import Gateway
from edge.protocol import Connections, EdgeHttpProtocol, protocol_class
from edge.proxyproto import ProxyThenTls
from edge.redirect import HttpsRedirect
from edge.reload import Reloader
from edge.rules import RulesState, load_rules
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


async def serve_worker(config: Config, listeners: Listeners, rules: RulesState, *, worker: int) -> None:
    """Run this worker's servers until SIGTERM/SIGINT, then drain for the grace period."""
    runtime = Runtime(config, rules=rules)
    certs = CertStateRef()
    certs.swap(load_cert_state(config))
    runtime.certs = certs
    reloader = Reloader(runtime, certs)
    reloader.report_certs(initial=True)
    if worker == 0:
        reloader.report_rules()
        if config.server.workers > 1 and not runtime.limiter.is_shared:
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
        "timeout_graceful_shutdown": config.server.grace,
        "ws": "none",
        "proxy_headers": False,  # X-Forwarded-For is trusted only from server.trusted_proxies, by edge itself
    }
    if config.server.proxy_protocol:
        # Plain TCP first: a trusted proxy may prefix the connection with a PROXY header before TLS.
        protocol: Any = _proxied_https(base_context(config, certs), runtime, http_protocol)
        https = uvicorn.Config(Gateway(runtime), **{**common, "http": protocol})
    else:
        https = uvicorn.Config(
            Gateway(runtime), ssl_context_factory=lambda _cfg, _default: base_context(config, certs), **common
        )
    handshake = config.server.client_header_timeout
    servers = [(EdgeServer(https, handshake), listeners.https)]
    if listeners.http is not None:
        servers.append((EdgeServer(uvicorn.Config(HttpsRedirect(runtime), **common), handshake), listeners.http))
    if listeners.admin is not None and worker == 0:
        servers.append((EdgeServer(uvicorn.Config(build_admin(runtime), **common), handshake), listeners.admin))
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    runtime.log.start_flusher()
    connections.start()
    reloader.start()
    for server, sock in servers:
        await server.startup(sockets=[sock])
    if worker == 0:
        where = ", ".join(f"{name}={listen}" for name, listen in _listens(config))
        log.warning("edge %s serving %s (pid %d, %d worker(s))", config.path, where, os.getpid(), config.server.workers)
    await stopping.wait()
    log.warning("edge worker %d stopping: draining for up to %.0fs", worker, config.server.grace)
    for server, _ in servers:
        server.should_exit = True
    await reloader.stop()
    await asyncio.gather(*(server.shutdown(sockets=[sock]) for server, sock in servers))
    connections.stop()
    runtime.state.sites.close()
    runtime.log.stop()
    runtime.audit.close()
    runtime.inspector.shutdown(wait=False, cancel_futures=True)


def _listens(config: Config) -> list[tuple[str, Listen]]:
    out = [("https", config.server.https)]
    if config.server.http:
        out.append(("http", config.server.http))
    if config.server.admin:
        out.append(("admin", config.server.admin))
    return out


def _run_loop(config: Config, listeners: Listeners, rules: RulesState, worker: int) -> None:
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvloop is a dependency on every platform we support
        runner = asyncio.Runner()
    with runner:
        runner.run(serve_worker(config, listeners, rules, worker=worker))


def run(config: Config) -> int:
    """`edge run`: serve until SIGINT/SIGTERM; 0 on a clean stop."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    rules, problems = load_rules(config.waf.rules, config.waf.paranoia)
    if rules is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"edge: not starting: the rules in {config.waf.rules} have {len(problems)} problem(s)", file=sys.stderr)
        return 1
    listeners = Listeners(config)
    if config.server.workers == 1:
        _run_loop(config, listeners, rules, 0)
        return 0
    return _supervise(config, listeners, rules)


def _supervise(config: Config, listeners: Listeners, rules: RulesState) -> int:
    """Fork the workers, restart any that dies, forward SIGTERM/SIGINT and wait for all to drain."""
    context = multiprocessing.get_context("fork")
    workers: dict[int, Any] = {}

    def start(index: int) -> None:
        process = context.Process(target=_run_loop, args=(config, listeners, rules, index), name=f"edge-worker-{index}")
        process.start()
        workers[index] = process

    for index in range(config.server.workers):
        start(index)
    stopping = False

    def stop(signum: int, _: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in workers.values():
            if process.pid:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        time.sleep(0.5)
        for index, process in list(workers.items()):
            if not process.is_alive() and not stopping:
                log.error("worker %d exited with %s; restarting it", index, process.exitcode)
                start(index)
    for process in workers.values():
        process.join(config.server.grace + 5)
    return 0
