"""In-process rate-limit counters for `memory://`: the three `limits` strategies, O(1) per hit.

Written here instead of using `limits`' async memory storage because that one is costly on the hot path:
its moving window inserts at the head of a list (O(limit) per hit) and nearly every hit schedules an expiry
task that walks every key through a thread hop. These counters keep the same semantics (the moving window
counts hits in the last `expiry` seconds; the fixed window starts at its first hit; the sliding window
counter weighs the previous window by the part of it still in view), and `check` tests every window before
counting any, so a refused request never uses up another window's budget. Shared storages (Redis,
memcached, ...) still go through `limits`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence

from edge.ratepolicy import Window

SWEEP_INTERVAL = 10.0  # seconds between sweeps of idle keys

# One window's state for one key: (allowed, remaining, seconds until capacity frees up). A tuple, not a
# dataclass: this is made on every rate-limited request.
WindowState = tuple[bool, int, float]


class MovingWindow:
    """Timestamps of the hits in the last `expiry` seconds, oldest first (at most `amount` are kept)."""

    def __init__(self) -> None:
        self.hits: dict[str, deque[float]] = {}

    def state(self, key: str, amount: int, expiry: int, now: float) -> WindowState:
        hits = self.hits.get(key)
        if hits is None:
            return (amount > 0, amount, 0.0)
        cutoff = now - expiry
        while hits and hits[0] <= cutoff:
            hits.popleft()
        used = len(hits)
        reset = hits[0] + expiry - now if hits else 0.0
        return (used < amount, amount - used, reset)

    def count(self, key: str, amount: int, expiry: int, now: float) -> None:
        hits = self.hits.get(key)
        if hits is None:
            hits = self.hits[key] = deque(maxlen=max(amount, 1))
        hits.append(now)

    def sweep(self, now: float, longest: float) -> None:
        for key in [k for k, hits in self.hits.items() if not hits or hits[-1] <= now - longest]:
            del self.hits[key]


class FixedWindow:
    """A counter per key that starts at the key's first hit and resets `expiry` seconds later."""

    def __init__(self) -> None:
        self.windows: dict[str, list[float]] = {}  # key -> [ends_at, count]

    def state(self, key: str, amount: int, expiry: int, now: float) -> WindowState:
        window = self.windows.get(key)
        if window is None or window[0] <= now:
            return (amount > 0, amount, float(expiry))
        used = int(window[1])
        return (used < amount, amount - used, window[0] - now)

    def count(self, key: str, amount: int, expiry: int, now: float) -> None:
        window = self.windows.get(key)
        if window is None or window[0] <= now:
            self.windows[key] = [now + expiry, 1]
        else:
            window[1] += 1

    def sweep(self, now: float, longest: float) -> None:
        for key in [k for k, w in self.windows.items() if w[0] <= now]:
            del self.windows[key]


class SlidingWindowCounter:
    """Fixed, aligned windows; the previous one counts in proportion to how much of it is still in view."""

    def __init__(self) -> None:
        self.windows: dict[str, list[float]] = {}  # key -> [window_start, previous_count, current_count]

    def _current(self, key: str, expiry: int, now: float) -> list[float]:
        start = now - now % expiry
        window = self.windows.get(key)
        if window is None or window[0] < start - expiry:
            window = self.windows[key] = [start, 0.0, 0.0]
        elif window[0] < start:
            window[:] = [start, window[2], 0.0]
        return window

    def state(self, key: str, amount: int, expiry: int, now: float) -> WindowState:
        start, previous, current = self._current(key, expiry, now)
        weight = 1.0 - (now - start) / expiry
        used = math.floor(previous * weight + current)
        reset = (start + expiry - now) if used >= amount else 0.0
        return (used < amount, max(0, amount - used), reset)

    def count(self, key: str, amount: int, expiry: int, now: float) -> None:
        self._current(key, expiry, now)[2] += 1

    def sweep(self, now: float, longest: float) -> None:
        for key in [k for k, w in self.windows.items() if w[0] <= now - 2 * longest]:
            del self.windows[key]


Counter = MovingWindow | FixedWindow | SlidingWindowCounter
WINDOWS: dict[str, Callable[[], Counter]] = {
    "moving-window": MovingWindow,
    "fixed-window": FixedWindow,
    "sliding-window-counter": SlidingWindowCounter,
}


class LocalCounters:
    """All counters of one worker for one strategy; `check` is synchronous and never fails."""

    def __init__(self, strategy: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = WINDOWS[strategy]()
        self.clock = clock
        self.longest = 1.0
        self.next_sweep = clock() + SWEEP_INTERVAL

    def check(self, windows: Sequence[Window], key: str) -> list[WindowState]:
        """Every window's state for `key`, in order; the hit is counted in all of them only when all allow it."""
        now = self.clock()
        if now >= self.next_sweep:
            self.window.sweep(now, self.longest)
            self.next_sweep = now + SWEEP_INTERVAL
        state, count = self.window.state, self.window.count
        names, states = [], []
        allowed = True
        for w in windows:
            name = w.prefix + key + w.suffix  # limits' name of the counter
            if w.expiry > self.longest:
                self.longest = float(w.expiry)
            found = state(name, w.amount, w.expiry, now)
            names.append(name)
            states.append(found)
            if not found[0]:
                allowed = False
        if allowed:
            for index, w in enumerate(windows):
                count(names[index], w.amount, w.expiry, now)
                _, remaining, reset = states[index]
                states[index] = (True, remaining - 1, reset or float(w.expiry))
        return states
