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
from cryptography import x509
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from edge.admin import build_admin
from edge.config import Config, Listen
from edge.exchange import ConnectionInfo
from edge.gateway import Gateway
from edge.proxyproto import ProxyThenTls
from edge.redirect import HttpsRedirect
from edge.reload import Reloader
from edge.rules import RulesState, load_rules
from edge.runtime import Runtime
from edge.tls.sni import CertStateRef, base_context, load_cert_state

log = logging.getLogger("edge")


MAX_REQUEST_HEAD = 64 * 1024  # request line + headers; nginx's large_client_header_buffers default is 4 x 8k


class EdgeHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus what the ASGI scope lacks (the TLS server name, version and peer)
    and a bound on the request head, which httptools would otherwise buffer without limit."""

    edge_info: ConnectionInfo
    edge_in_head = True
    edge_head_bytes = 0
    edge_events = 0  # heads and messages completed so far: a chunk without one lies inside a single part
    edge_rejected = False

    def data_received(self, data: bytes) -> None:
        if self.edge_rejected:
            return
        events = self.edge_events
        super().data_received(data)
        if self.edge_in_head and self.edge_events == events and self.parser is not None:
            # The whole chunk went into a request head that is still not complete.
            self.edge_head_bytes += len(data)
            if self.edge_head_bytes > MAX_REQUEST_HEAD:
                self.edge_reject_head()

    def on_headers_complete(self) -> None:
        self.edge_in_head = False
        self.edge_head_bytes = 0
        self.edge_events += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.edge_in_head = True
        self.edge_events += 1

    def edge_reject_head(self) -> None:
        """431 and close: the client sent more head than any sane request needs."""
        self.edge_rejected = True
        body = b"431 Request Header Fields Too Large\n"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()

    edge_proxied: tuple[str, int] | None = None

    def set_proxied_client(self, address: str, port: int) -> None:
        """The client address a trusted proxy announced in a PROXY header (see proxyproto.py)."""
        self.edge_proxied = (address, port)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.edge_proxied is not None:
            self.client = self.edge_proxied
        info = ConnectionInfo(transport=transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            info.sni = getattr(ssl_object, "edge_sni", None)
            info.tls_version = ssl_object.version()
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                info.client_cert = x509.load_der_x509_certificate(der)
                info.client_subject = info.client_cert.subject.rfc4514_string()
        self.edge_info = info
        self.edge_extensions: dict[str, object] = {
            "edge": info,
            "tls": {"server_name": info.sni, "tls_version": info.tls_version, "client_subject": info.client_subject},
        }

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope["extensions"] = self.edge_extensions  # type: ignore[typeddict-item]

    def connection_lost(self, exc: Exception | None) -> None:
        if hasattr(self, "edge_info"):
            self.edge_info.closed = True
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """On stop, idle keep-alive connections go at once: a TLS close waits for the client's close_notify,
        which an idle client never sends, and that would hold the stop for the whole grace period."""
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            super().shutdown()


def _proxied_https(context: ssl.SSLContext, runtime: Runtime) -> type[ProxyThenTls]:
    """The protocol class uvicorn instantiates per connection when PROXY headers may come first."""

    class ProxiedHttps(ProxyThenTls):
        def __init__(self, **uvicorn_kwargs: Any) -> None:
            super().__init__(
                lambda: EdgeHttpProtocol(**uvicorn_kwargs),
                context,
                lambda peer: runtime.state.clients.is_trusted(peer),
            )

    return ProxiedHttps


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
    common: dict[str, Any] = {
        "lifespan": "off",
        "access_log": False,
        "server_header": False,
        "date_header": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": config.server.grace,
        "ws": "none",
        "timeout_keep_alive": 75,
        "proxy_headers": False,  # X-Forwarded-For is trusted only from server.trusted_proxies, by edge itself
    }
    if config.server.proxy_protocol:
        # Plain TCP first: a trusted proxy may prefix the connection with a PROXY header before TLS.
        protocol: Any = _proxied_https(base_context(config, certs), runtime)
        https = uvicorn.Config(Gateway(runtime), http=protocol, **common)
    else:
        https = uvicorn.Config(
            Gateway(runtime),
            http=EdgeHttpProtocol,
            ssl_context_factory=lambda _cfg, _default: base_context(config, certs),
            **common,
        )
    servers = [(uvicorn.Server(https), listeners.https)]
    if listeners.http is not None:
        servers.append(
            (uvicorn.Server(uvicorn.Config(HttpsRedirect(runtime), http="httptools", **common)), listeners.http)
        )
    if listeners.admin is not None and worker == 0:
        servers.append(
            (uvicorn.Server(uvicorn.Config(build_admin(runtime), http="httptools", **common)), listeners.admin)
        )
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    runtime.log.start_flusher()
    reloader.start()
    for server, sock in servers:
        server.config.load()
        server.lifespan = server.config.lifespan_class(server.config)
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
    runtime.state.sites.close()
    runtime.log.stop()


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
    rules, problems = load_rules(config.waf.rules)
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
