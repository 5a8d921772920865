"""Choosing an origin for a request: one small class per `balance` strategy, registered in a table.

Every strategy answers two questions, each asked once per request:

- `pick(client_ip, usable=None)`: the origin to try first.
- `order(client_ip, usable=None)`: that same first origin followed by every other usable origin, best next
  choice first, for a retry after a failed connect (nginx's `proxy_next_upstream`).

`usable` is the health filter (edge/proxy/health.py decides, the caller binds `now`): origins it rejects are
skipped as if absent, and the others keep their shares. When it rejects every origin, `pick` raises
`NoUsableOrigin` and `order` returns an empty list; the caller then answers 503 at once. Without a filter `pick` always returns a pool.

Both calls advance the round-robin state, so a request calls one of them, not both. Origin weights come
from `pool.origin.weight` (edge.toml `{ url = ..., weight = 3 }`) and are read once, when the site loads.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from edge.proxy.upstream import Pool

Usable = Callable[[Pool], bool]


class NoUsableOrigin(LookupError):
    """The health filter rejected every origin of the site."""


class Balancer(Protocol):
    pools: tuple[Pool, ...]

    def pick(self, client_ip: str, usable: Usable | None = None) -> Pool:
        """The pool to try first for this request; NoUsableOrigin when `usable` rejects them all."""
        ...

    def order(self, client_ip: str, usable: Usable | None = None) -> list[Pool]:
        """The usable pools, the one `pick` would return first, then the next best; [] when none is usable."""
        ...


def smooth_choice(current: list[int], weights: Sequence[int], candidates: Iterable[int]) -> int:
    """nginx's smooth weighted round-robin step over `candidates` (indices); -1 when there are none.

    As `ngx_http_upstream_get_peer`: every candidate's current weight grows by its weight, the largest
    wins (the first on a tie) and gives back the total. Weights 3,1,1 give a,b,a,c,a: the heavy origin
    takes its share spread out, never three requests in a row while the others are up.
    """
    best = -1
    total = 0
    for i in candidates:
        current[i] += weights[i]
        total += weights[i]
        if best < 0 or current[i] > current[best]:
            best = i
    if best >= 0:
        current[best] -= total
    return best


def _candidates(pools: tuple[Pool, ...], usable: Usable | None) -> Iterable[int]:
    return range(len(pools)) if usable is None else [i for i, pool in enumerate(pools) if usable(pool)]


class _Chooser:
    """`pick` for balancers whose `_choose(usable)` gives the best index (-1: none) and the candidates."""

    pools: tuple[Pool, ...]

    def _choose(self, usable: Usable | None) -> tuple[int, Iterable[int]]:
        raise NotImplementedError

    def pick(self, client_ip: str, usable: Usable | None = None) -> Pool:
        best, _ = self._choose(usable)
        if best < 0:
            raise NoUsableOrigin
        return self.pools[best]


class RoundRobin(_Chooser):
    """Smooth weighted round-robin (nginx's default); unusable origins do not take part in a round."""

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)
        self.weights = tuple(pool.origin.weight for pool in self.pools)
        self.current = [0] * len(self.pools)

    def _choose(self, usable: Usable | None) -> tuple[int, Iterable[int]]:
        candidates = _candidates(self.pools, usable)
        return smooth_choice(self.current, self.weights, candidates), candidates

    def order(self, client_ip: str, usable: Usable | None = None) -> list[Pool]:
        best, candidates = self._choose(usable)
        if best < 0:
            return []
        # The next best are the ones the following rounds would pick first: highest current + weight.
        rest = sorted((i for i in candidates if i != best), key=lambda i: -(self.current[i] + self.weights[i]))
        return [self.pools[best], *(self.pools[i] for i in rest)]


class LeastConn(_Chooser):
    """Fewest exchanges in flight per unit of weight, as nginx's `least_conn`.

    The origin with the smallest `active / weight` wins (compared as `a1 * w2 < a2 * w1`, no division,
    like `ngx_http_upstream_get_least_conn_peer`); when several tie, smooth weighted round-robin chooses
    among them, so idle origins share the load by weight instead of the first one taking it all.
    """

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)
        self.weights = tuple(pool.origin.weight for pool in self.pools)
        self.current = [0] * len(self.pools)

    def _choose(self, usable: Usable | None) -> tuple[int, Iterable[int]]:
        pools, weights = self.pools, self.weights
        candidates = _candidates(pools, usable)
        best = -1
        tied: list[int] = []
        for i in candidates:
            if best >= 0:
                mine, theirs = pools[i].active * weights[best], pools[best].active * weights[i]
                if mine > theirs:
                    continue
                if mine == theirs:
                    tied.append(i)
                    continue
            best = i
            tied = [i]
        if len(tied) > 1:
            best = smooth_choice(self.current, weights, tied)
        return best, candidates

    def order(self, client_ip: str, usable: Usable | None = None) -> list[Pool]:
        best, candidates = self._choose(usable)
        if best < 0:
            return []
        rest = sorted(
            (i for i in candidates if i != best),
            key=lambda i: (self.pools[i].active / self.weights[i], -(self.current[i] + self.weights[i])),
        )
        return [self.pools[best], *(self.pools[i] for i in rest)]


_MASK = (1 << 64) - 1


def stable_hash(text: str) -> int:
    """64 bits of BLAKE2b: the same on every worker, host and restart (unlike `hash()`)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _mix(client: int, seed: int) -> int:
    """splitmix64's finalizer over client ^ seed: one uniform 64-bit value per (client, origin) pair."""
    z = client ^ seed
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class IpHash:
    """Consistent hashing of the client address: rendezvous (highest random weight) hashing.

    Every origin scores every client with a hash of (client address, origin seed) and the highest score
    wins, so a client's origin changes only when that origin leaves or a new origin outscores it: adding
    one origin to N moves about 1/(N+1) of the clients, all of them to the new origin, and removing one
    (or the health filter skipping it) moves only its own clients, each to its second best. The scores in
    rank order are also the retry order. Weighted as in Schindelhauer and Schomaker's "logarithmic
    method": score = -weight / ln(u) with u the hash mapped into (0, 1), so an origin's share of clients
    is its share of the weights. Seeds come from the origin URLs (not positions), so reordering origins in
    edge.toml moves nobody; the n-th repeat of the same URL gets its own seed.
    """

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)
        seen: dict[str, int] = {}
        seeds: list[int] = []
        for pool in self.pools:
            url = pool.origin.url
            repeat = seen[url] = seen.get(url, -1) + 1
            seeds.append(stable_hash(url if repeat == 0 else f"{url}#{repeat}"))
        self.seeds = tuple(seeds)
        self.weights = tuple(float(pool.origin.weight) for pool in self.pools)
        # With equal weights the raw hash ranks the same as the weighted score: skip the logarithm.
        self.weighted = len(set(self.weights)) > 1

    def scores(self, client_ip: str) -> list[float]:
        """Each origin's score for this client, in origin order; the highest wins."""
        client = stable_hash(client_ip)
        if not self.weighted:
            return [_mix(client, seed) for seed in self.seeds]
        return [
            -weight / math.log((_mix(client, seed) + 0.5) / 18446744073709551616.0)
            for seed, weight in zip(self.seeds, self.weights, strict=True)
        ]

    def pick(self, client_ip: str, usable: Usable | None = None) -> Pool:
        scores = self.scores(client_ip)
        best = -1
        for i in _candidates(self.pools, usable):
            if best < 0 or scores[i] > scores[best]:
                best = i
        if best < 0:
            raise NoUsableOrigin
        return self.pools[best]

    def order(self, client_ip: str, usable: Usable | None = None) -> list[Pool]:
        scores = self.scores(client_ip)
        ranked = sorted(_candidates(self.pools, usable), key=lambda i: -scores[i])
        return [self.pools[i] for i in ranked]


class Only:
    """A site with a single origin: every strategy chooses it, so none is computed per request."""

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)

    def pick(self, client_ip: str, usable: Usable | None = None) -> Pool:
        pool = self.pools[0]
        if usable is not None and not usable(pool):
            raise NoUsableOrigin
        return pool

    def order(self, client_ip: str, usable: Usable | None = None) -> list[Pool]:
        pool = self.pools[0]
        return [pool] if usable is None or usable(pool) else []


BALANCERS: dict[str, type[RoundRobin] | type[LeastConn] | type[IpHash]] = {
    "round-robin": RoundRobin,
    "least-conn": LeastConn,
    "ip-hash": IpHash,
}


def balancer_for(strategy: str, pools: Sequence[Pool]) -> Balancer:
    """The site's balancer: the configured strategy, or `Only` when there is a single origin to choose."""
    return Only(pools) if len(pools) == 1 else BALANCERS[strategy](pools)
