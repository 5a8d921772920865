"""The Prometheus metric families of edge, summed over every worker.

`prometheus-client` in multiprocess mode: the master creates a private folder, puts its path in
PROMETHEUS_MULTIPROC_DIR before any family exists, and every process writes its values to its own mmap
files there; `/metrics` (worker 0) reads them all (`render`), and the master marks a worker's files dead when
it exits, so its live gauges vanish while its counts stay in the sums. Without that variable (unit tests,
tools) the families are plain in-process values.

Every label value is bounded by the config or the rule set: sites are named by their first host (a Host
no site serves counts as `unmatched`), origins by their configured URL, rules by id; never a raw path, an
arbitrary Host or a client address.

On the request path, counts go through `TALLY` rather than straight to the families: a write to an mmap value
costs about 1 µs (a lock, a pid check, a struct pack) and a histogram observation 2 µs, against 0.15 µs for a
dict increment, so each worker adds up in plain dicts and writes the sums once a second, when it stops, and
when `/metrics` is scraped (worker 0 asks every worker to flush first, over the control channel). A worker
killed with SIGKILL loses at most its last second of counts.

    metrics.TALLY.inc(metrics.child(metrics.CACHE_REQUESTS, "hit"))        # the hot path
    metrics.TALLY.observe(metrics.child(metrics.REQUEST_DURATION, site), seconds)
    metrics.CACHE_BYTES.set(store.size)                                     # gauges: set directly, when they change

`child(family, *labels)` is `family.labels(*labels)` looked up once and cached. Gauges summed across workers
(`edge_cache_bytes`, `edge_cache_entries`) are set by each worker to its own value.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

if os.environ.get(MULTIPROC_ENV) and not getattr(values.ValueClass, "_multiprocess", False):
    # prometheus_client was imported before the master set the folder: switch to mmap values now, before
    # the first family below exists (each family takes the value class when it is created).
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]

REGISTRY = CollectorRegistry()

# Request durations: from 1 ms to 30 s (an origin's read timeout), as the hand-written histogram had.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "edge_requests_total",
    "Requests answered on any listener, by site (its first host; `unmatched` when no site serves the Host), "
    "method class (read: GET HEAD OPTIONS; write: POST PUT PATCH DELETE; other) and status class (2xx...).",
    ["site", "method", "code"],
    registry=REGISTRY,
)
REQUEST_DURATION = Histogram(
    "edge_request_duration_seconds",
    "Time from the request head to the last byte of the answer, by site.",
    ["site"],
    buckets=BUCKETS,
    registry=REGISTRY,
)
ORIGIN_UP = Gauge(
    "edge_origin_up",
    "1 when the origin is usable, 0 when it is not (the lowest value among workers: 0 if any worker cannot use it).",
    ["site", "origin"],
    multiprocess_mode="livemin",
    registry=REGISTRY,
)
ORIGIN_ACTIVE = Gauge(
    "edge_origin_active_connections",
    "Connections to the origin carrying a request now, summed over workers (sampled every second).",
    ["site", "origin"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
ORIGIN_DURATION = Histogram(
    "edge_origin_response_seconds",
    "Time from the request head written to the origin to its response head.",
    ["site", "origin"],
    buckets=BUCKETS,
    registry=REGISTRY,
)
ORIGIN_ERRORS = Counter(
    "edge_origin_errors_total",
    "Exchanges with the origin that failed: kind `error` (refused, reset, bad answer: 502) or `timeout` (504).",
    ["site", "origin", "kind"],
    registry=REGISTRY,
)
WAF_MATCHES = Counter(
    "edge_waf_matches_total",
    "WAF rule matches, by rule id and the rule's action.",
    ["rule", "action"],
    registry=REGISTRY,
)
RATELIMIT_LIMITED = Counter(
    "edge_ratelimit_limited_total",
    "Requests answered 429 by a [[ratelimit]] rule, by rule id.",
    ["rule"],
    registry=REGISTRY,
)
RATELIMIT_REQUESTS = Counter(
    "edge_ratelimit_requests_total",
    "Requests counted by a [[ratelimit]] rule (the tightest one), by rule id and outcome: allowed, limited, "
    "or error (the storage failed).",
    ["rule", "outcome"],
    registry=REGISTRY,
)
RELOADS = Counter(
    "edge_reloads_total",
    "Loads of edge.toml, the certificate folder or the rule folder (at start and after), by kind and result "
    "(ok, error).",
    ["kind", "result"],
    registry=REGISTRY,
)
RELOAD_ERRORS = Counter(
    "edge_reload_errors_total",
    "Reloads of config, certificates or rules that failed (the last good state kept serving), by kind.",
    ["kind"],
    registry=REGISTRY,
)
CLIENT_CONNECTIONS = Gauge(
    "edge_client_connections",
    "Open client connections on every listener, summed over workers (sampled every second).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
WORKER_RESTARTS = Counter(
    "edge_worker_restarts_total",
    "Workers the master started again after one exited without being asked to.",
    registry=REGISTRY,
)
CACHE_BYTES = Gauge(
    "edge_cache_bytes",
    "Bytes held by the response cache, summed over workers.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
CACHE_ENTRIES = Gauge(
    "edge_cache_entries",
    "Responses held by the response cache, summed over workers.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
CACHE_REQUESTS = Counter(
    "edge_cache_requests_total",
    "Cache lookups by result: hit, miss, stale, revalidated, bypass, ...",
    ["result"],
    registry=REGISTRY,
)

UNMATCHED_SITE = "unmatched"

METHOD_CLASS = {
    "GET": "read",
    "HEAD": "read",
    "OPTIONS": "read",
    "POST": "write",
    "PUT": "write",
    "PATCH": "write",
    "DELETE": "write",
}


def method_class(method: str) -> str:
    return METHOD_CLASS.get(method, "other")


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "none"


_children: dict[tuple[Any, ...], Any] = {}


def child(family: Any, *labels: str) -> Any:
    """`family.labels(*labels)`, looked up once: the hot path then pays one dict lookup, not the client's lock."""
    key = (id(family), *labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = family.labels(*labels)
    return found


class Tally:
    """Counts and observations of this process, kept in dicts until `flush` writes them to the families.

    `observe` relies on the histogram child's `_upper_bounds`, `_sum` and `_buckets` (prometheus-client's
    layout since 0.4; the unit tests render a flushed histogram, so a change of layout fails there first).
    """

    def __init__(self) -> None:
        self.counts: defaultdict[Any, float] = defaultdict(float)
        self.observations: dict[Any, list[Any]] = {}

    def inc(self, counter: Any, amount: float = 1.0) -> None:
        self.counts[counter] += amount

    def observe(self, histogram: Any, value: float) -> None:
        entry = self.observations.get(histogram)
        if entry is None:
            entry = self.observations[histogram] = [0.0, [0] * len(histogram._upper_bounds)]
        entry[0] += value
        entry[1][bisect_left(histogram._upper_bounds, value)] += 1

    def flush(self) -> None:
        counts, self.counts = self.counts, defaultdict(float)
        for counter, amount in counts.items():
            counter.inc(amount)
        observations, self.observations = self.observations, {}
        for histogram, (total, buckets) in observations.items():
            histogram._sum.inc(total)
            for index, count in enumerate(buckets):
                if count:
                    histogram._buckets[index].inc(count)


TALLY = Tally()


def is_multiprocess() -> bool:
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def _summed() -> CollectorRegistry:
    """A registry whose collection is every family summed over all workers (or this process's, alone)."""
    registry = CollectorRegistry()
    registry.register(_Summed() if is_multiprocess() else _Forward(REGISTRY))
    return registry


class _Summed(Collector):
    """The multiprocess files, plus HELP and TYPE of the families no process has written a sample of yet,
    so that every family is listed, typed and documented from the first scrape."""

    def collect(self) -> Iterator[Metric]:
        seen = set()
        for family in MultiProcessCollector(None).collect():  # type: ignore[no-untyped-call]
            seen.add(family.name)
            yield family
        for family in REGISTRY.collect():
            if family.name not in seen:
                yield Metric(family.name, family.documentation, family.type)


def render(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of every family, summed over all workers, plus `extra` collectors of this process.

    This process's tally is flushed first; the other workers' are the caller's business (admin.py asks them).
    """
    TALLY.flush()
    registry = _summed()
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def totals(sample_name: str, label: str) -> dict[str, float]:
    """The sum over all workers of one sample (e.g. `edge_waf_matches_total`) by the value of one label."""
    TALLY.flush()
    out: dict[str, float] = {}
    for family in _summed().collect():
        for sample in family.samples:
            if sample.name == sample_name:
                key = sample.labels.get(label, "")
                out[key] = out.get(key, 0.0) + sample.value
    return out


def process_exited(pid: int) -> None:
    """The master, when a worker exits: its live gauges stop counting (counters stay in the sums)."""
    if is_multiprocess():
        mark_process_dead(pid)  # type: ignore[no-untyped-call]


class _Forward(Collector):
    """The in-process registry's families, for `render` without multiprocess mode."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


class LegacyNames:
    """`inc("edge_waf_matches_total", (("action", "block"), ("rule", "x")))`: the call the gateway makes.

    Kept so that code written against the former hand-written metrics keeps working; new code uses the
    families above directly.
    """

    FAMILIES: dict[str, Any] = {
        "edge_waf_matches_total": WAF_MATCHES,
        "edge_ratelimit_limited_total": RATELIMIT_LIMITED,
        "edge_reload_errors_total": RELOAD_ERRORS,
        "edge_cache_requests_total": CACHE_REQUESTS,
    }

    def __init__(self) -> None:
        self._cache: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    def inc(self, name: str, labels: tuple[tuple[str, str], ...] = (), value: float = 1.0) -> None:
        found = self._cache.get((name, labels))
        if found is None:
            family = self.FAMILIES[name]
            found = self._cache[(name, labels)] = family.labels(**dict(labels)) if labels else family
        TALLY.counts[found] += value


class StateGauge(Collector):
    """A gauge read from this process's state at scrape time (`read() -> {label value: number}`).

    For values every worker holds identically, such as the certificates' expiry: worker 0's view is the
    truth, and a name that disappears from the folder disappears from the metric, which mmap gauges cannot do.
    """

    def __init__(self, name: str, documentation: str, label: str, read: Any) -> None:
        self.name = name
        self.documentation = documentation
        self.label = label
        self.read = read

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, number in sorted(self.read().items()):
            family.add_metric([value], number)
        yield family
