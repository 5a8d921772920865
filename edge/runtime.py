"""The live state of one gateway process: immutable snapshots, each swapped with one assignment.

Config-derived state, the certificate store and the rule set are separate snapshots because they reload
separately (each from its own files). A request reads each reference once at its start and keeps what it
read to its end, so a swap never changes a request half-way and needs no lock. A failed load never
replaces a good snapshot: it is recorded in `reloads` for `/status`, the log and the metrics.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from edge import metrics
from edge.cache.cache import EdgeCache
from edge.clients import ClientResolver
from edge.config import Config
from edge.exchange import Exchange
from edge.metrics import METHOD_CLASS, TALLY, UNMATCHED_SITE, child, status_class
from edge.observe import AccessLog
from edge.proxy.checks import HealthChecks
from edge.ratelimit import Limiter
from edge.rules import EMPTY, RulesState
from edge.sites import Site, SiteTable
from edge.tls.sni import CertStateRef
from edge.waf_audit import WafAudit


@dataclass(frozen=True, slots=True)
class ConfigState:
    """Everything built from edge.toml that requests read."""

    config: Config
    sites: SiteTable
    clients: ClientResolver
    https_port: int

    @classmethod
    def build(cls, config: Config) -> ConfigState:
        sites = SiteTable(tuple(Site.build(index, site) for index, site in enumerate(config.sites)))
        return cls(
            config=config,
            sites=sites,
            clients=ClientResolver(config.server.trusted_proxies),
            https_port=config.server.https.port,
        )


@dataclass(slots=True)
class ReloadStatus:
    """The outcome of the last load of one kind of file (config, certs, rules)."""

    at: float = 0.0
    ok: bool = True
    errors: list[str] = field(default_factory=list)
    detail: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.at)) if self.at else None,
            "ok": self.ok,
            "errors": self.errors,
            **self.detail,
        }


class Runtime:
    """Holds the current snapshots of one process and what the last reload of each said."""

    def __init__(self, config: Config, *, rules: RulesState = EMPTY, log: AccessLog | None = None) -> None:
        self.state = ConfigState.build(config)
        self.rules = rules
        self.limiter = Limiter(config.ratelimit)
        self.metrics = metrics.LegacyNames()
        self.log = log or AccessLog(config.log.access, text=config.log.format == "text", redact=config.log.redact)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # (site, method class, status) -> children
        self.audit = WafAudit(config.waf.audit_log)
        self.started = time.time()
        self.reloads: dict[str, ReloadStatus] = {"config": ReloadStatus(at=time.time(), ok=True)}
        self.certs: CertStateRef | None = None
        self.cache = EdgeCache(config.cache.memory)
        self.checks = HealthChecks(self.state.sites)  # started by the worker once its loop runs
        # One thread per worker inspects big request bodies: one at a time, off the event loop (gateway.py).
        self.inspector = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-inspect")

    def swap_config(self, config: Config) -> None:
        """Publish a new config snapshot; the old origin pools close their idle connections and retire."""
        old = self.state
        self.state = ConfigState.build(config)
        running = bool(self.checks.tasks)
        self.checks.stop()
        self.checks = HealthChecks(self.state.sites)
        if running:
            self.checks.start()
        if config.ratelimit != old.config.ratelimit:
            retired, self.limiter = self.limiter, Limiter(config.ratelimit)
            retired.retire()
        if config.cache.memory != self.cache.memory:
            self.cache = EdgeCache(config.cache.memory)
        self.audit.reopen(config.waf.audit_log)
        old.sites.close()

    def record(self, ex: Exchange) -> None:
        """The end of every request on any listener: its access-log line, its metrics and, when a WAF rule
        matched it, its audit line and its place in the ring of recent matched requests (edge/waf_audit.py)."""
        duration = time.perf_counter() - ex.started
        site = ex.site.config.hosts[0] if ex.site is not None else UNMATCHED_SITE
        status = ex.status
        key = (site, METHOD_CLASS.get(ex.method, "other"), status)
        kids = self._children.get(key)
        if kids is None:
            kids = self._children[key] = (
                child(metrics.REQUESTS, site, key[1], status_class(status)),
                child(metrics.REQUEST_DURATION, site),
            )
        tally = TALLY
        tally.counts[kids[0]] += 1.0
        if status != 101:  # a tunnel lasts as long as its WebSocket: not a request latency
            tally.observe(kids[1], duration)
        origin = ex.origin
        upstream = ex.upstream
        if origin is not None:
            if upstream is not None:
                tally.observe(child(metrics.ORIGIN_DURATION, site, origin), upstream)
            if status in (502, 504) and upstream is None:
                tally.inc(child(metrics.ORIGIN_ERRORS, site, origin, "timeout" if status == 504 else "error"))
        if ex.cache is not None:
            tally.inc(child(metrics.CACHE_REQUESTS, ex.cache))
        if ex.ratelimit:
            outcome = "error" if "error" in ex.ratelimit else "limited" if status == 429 else "allowed"
            tally.inc(child(metrics.RATELIMIT_REQUESTS, str(ex.ratelimit.get("rule", "")), outcome))
        self.log.record(ex, duration)
        if ex.waf_trace is not None:
            self.audit.observe(ex, self.state.config.waf)

    def record_reload(self, kind: str, *, ok: bool, errors: list[str], **detail: object) -> None:
        """Note a reload's outcome; a failure keeps the previous detail so /status still shows what is served."""
        previous = self.reloads.get(kind)
        kept = previous.detail if (previous and not ok) else {}
        self.reloads[kind] = ReloadStatus(at=time.time(), ok=ok, errors=errors, detail={**kept, **detail})
        metrics.RELOADS.labels(kind, "ok" if ok else "error").inc()
        if not ok:
            metrics.RELOAD_ERRORS.labels(kind).inc()
