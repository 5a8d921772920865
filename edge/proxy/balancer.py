"""Choosing an origin for a request: one small class per `balance` strategy, registered in a table."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Sequence
from typing import Protocol

from edge.proxy.upstream import Pool


class Balancer(Protocol):
    def pick(self, client_ip: str) -> Pool:
        """The pool to try first for this request."""
        ...


class RoundRobin:
    def __init__(self, pools: Sequence[Pool]) -> None:
        self._next = itertools.cycle(pools).__next__

    def pick(self, client_ip: str) -> Pool:
        return self._next()


class LeastConn:
    """Fewest exchanges in flight; ties go round-robin so that idle origins share the load."""

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)
        self._tiebreak = itertools.count()

    def pick(self, client_ip: str) -> Pool:
        start = next(self._tiebreak) % len(self.pools)
        ordered = self.pools[start:] + self.pools[:start]
        return min(ordered, key=lambda pool: pool.active)


class IpHash:
    """The same client address goes to the same origin while the origin list stays the same (CRC32, stable)."""

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)

    def pick(self, client_ip: str) -> Pool:
        return self.pools[zlib.crc32(client_ip.encode()) % len(self.pools)]


BALANCERS: dict[str, type[RoundRobin] | type[LeastConn] | type[IpHash]] = {
    "round-robin": RoundRobin,
    "least-conn": LeastConn,
    "ip-hash": IpHash,
}
