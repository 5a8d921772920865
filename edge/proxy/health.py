"""Whether an origin should get requests: a pure state machine per origin, fed by the request path and checks.

No timers and no sockets in here (the split of edge/runtime.py: decisions here, I/O elsewhere); every call
takes `now` (seconds, `time.monotonic()` in the caller). Two sources feed one machine:

- Passive, from real requests: `record_failure` when a connect is refused or times out, `record_success`
  when the origin answered. `unhealthy` consecutive failures eject the origin. After a back-off that
  doubles with each ejection in a row (1 s, 2 s, 4 s ... capped at 30 s, like Envoy's outlier detection
  `base_ejection_time` / `max_ejection_time`) it is eligible for one probe request; the caller marks that
  request with `record_attempt`, and its outcome either brings the origin back (and resets the back-off)
  or ejects it again for twice as long. A probe whose outcome never arrives (the client went away)
  stops blocking the next probe after `probe_timeout`.
- Active, from a checker (`health = { path, interval, ... }`, timers elsewhere): `record_probe(now, ok)`.
  `unhealthy` failed checks in a row mark the origin down; it then takes no requests until `healthy`
  good checks in a row (Envoy's `unhealthy_threshold` / `healthy_threshold`, nginx plus's `fails` /
  `passes`). Good checks also end a passive ejection early.

The transitions are one table, `TRANSITIONS`, in the manner of h11's `_state.py`; a pair absent from it
leaves the state as it is. A site whose origins are all down never deadlocks: an ejected origin becomes
usable for one probe request when its back-off ends, and one taken out by checks comes back with checks;
meanwhile requests get 503 at once instead of waiting on timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.config import SiteConfig

UP = "up"
EJECTED = "ejected"  # by passive failures: a probe request is let through after the back-off
CHECKS_FAILED = "checks-failed"  # by active checks: only `healthy` good checks bring it back

# (state, event) -> next state. Events are named after counting, so thresholds are events, not branches:
# "failures" is the `unhealthy`-th failure in a row, "checks-ok" the `healthy`-th good check in a row.
TRANSITIONS: dict[tuple[str, str], str] = {
    (UP, "failures"): EJECTED,
    (UP, "checks-failed"): CHECKS_FAILED,
    (EJECTED, "probe-succeeded"): UP,
    (EJECTED, "probe-failed"): EJECTED,  # re-entered: the back-off doubles
    (EJECTED, "checks-ok"): UP,
    (EJECTED, "checks-failed"): CHECKS_FAILED,
    (CHECKS_FAILED, "probe-failed"): CHECKS_FAILED,  # a last-resort request failed: it moves back in line
    (CHECKS_FAILED, "checks-ok"): UP,
}


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """The thresholds and back-off of one site; built once per config load."""

    unhealthy: int = 3
    healthy: int = 2
    backoff: float = 1.0
    max_backoff: float = 30.0
    probe_timeout: float = 33.0

    @classmethod
    def for_site(cls, site: SiteConfig) -> HealthPolicy:
        """Thresholds from `health = {...}` (or the defaults); a probe request may take a connect and a read."""
        probe_timeout = site.connect_timeout + site.read_timeout
        if site.health is None:
            return cls(probe_timeout=probe_timeout)
        return cls(unhealthy=site.health.unhealthy, healthy=site.health.healthy, probe_timeout=probe_timeout)


class OriginHealth:
    """The health of one origin. Not thread-safe: one event loop owns it, as it owns the pools."""

    __slots__ = (
        "backoff",
        "check_failures",
        "check_successes",
        "failures",
        "policy",
        "probe_since",
        "reason",
        "retry_at",
        "since",
        "status",
    )

    def __init__(self, policy: HealthPolicy) -> None:
        self.policy = policy
        self.status = UP
        self.reason = ""  # why it is down, for /status and the log; "" while up
        self.since = 0.0  # when the status last changed
        self.failures = 0  # passive failures in a row
        self.check_failures = 0
        self.check_successes = 0
        self.backoff = policy.backoff  # the next ejection's length
        self.retry_at = 0.0  # when the current ejection ends
        self.probe_since: float | None = None  # a probe request is out since then

    @property
    def state(self) -> str:
        """One of "up", "down" and "probing" (down, with one request out to find out whether it is back)."""
        if self.status == UP:
            return "up"
        return "probing" if self.probe_since is not None else "down"

    def usable(self, now: float) -> bool:
        """Whether a request may go to this origin now: up, or ejected with its back-off over and no probe out."""
        if self.status == UP:
            return True
        if self.status == EJECTED and now >= self.retry_at:
            return not self.probing(now)
        return False

    def probing(self, now: float) -> bool:
        """A probe request is out and has not yet outlived `probe_timeout`."""
        return self.probe_since is not None and now < self.probe_since + self.policy.probe_timeout

    def record_attempt(self, now: float) -> None:
        """A request is being sent to this origin now. While it is down this request is the probe: no other
        goes until its outcome is recorded (or `probe_timeout` passes). Call it for every origin tried."""
        if self.status != UP:
            self.probe_since = now

    def record_failure(self, now: float, reason: str) -> None:
        """The origin refused the connection or did not accept it in time (not: it answered 5xx)."""
        probe, self.probe_since = self.probe_since is not None, None
        self.failures += 1
        counted = "failures" if self.failures >= self.policy.unhealthy else "failure"
        self._apply("probe-failed" if probe else counted, now, f"{self.failures} failure(s) in a row, last: {reason}")

    def record_success(self, now: float) -> None:
        """The origin accepted a connection and answered."""
        if self.status == UP and self.probe_since is None:  # every request's case: nothing changes
            self.failures = 0
            return
        probe, self.probe_since = self.probe_since is not None, None
        self.failures = 0
        self._apply("probe-succeeded" if probe else "success", now, "")

    def record_probe(self, now: float, ok: bool, reason: str = "") -> None:
        """The outcome of one active check (`reason` says what failed: status, timeout, refused)."""
        if ok:
            self.check_failures = 0
            self.check_successes += 1
            self._apply("checks-ok" if self.check_successes >= self.policy.healthy else "check-ok", now, "")
        else:
            self.check_successes = 0
            self.check_failures += 1
            event = "checks-failed" if self.check_failures >= self.policy.unhealthy else "check-failed"
            self._apply(event, now, f"{self.check_failures} failed check(s) in a row, last: {reason}")

    def _apply(self, event: str, now: float, reason: str) -> None:
        target = TRANSITIONS.get((self.status, event))
        if target is None:
            return
        self.status, self.since = target, now
        if target == UP:
            self.reason = ""
            self.failures = self.check_failures = 0
            self.backoff = self.policy.backoff
            self.probe_since = None
            return
        # Down (again): the next probe waits out the back-off, which doubles for the ejection after it.
        self.reason = reason
        self.check_successes = 0
        self.retry_at = now + self.backoff
        self.backoff = min(self.backoff * 2, self.policy.max_backoff)
