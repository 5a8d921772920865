"""Where stored responses live: the `Store` interface and its in-memory, per-worker implementation.

A primary key (`keys.primary_key`: scheme, host, path and query; GET and HEAD share it) holds a set of
variants told apart by the request values their Vary names (RFC 9111 section 4.1). `MemoryStore` is an LRU
bounded in bytes (`entry.StoredResponse.size`: body, headers and a fixed overhead): a `put` that would pass
the budget evicts the least recently used variants first, and an entry larger than `max_entry` (or the
whole budget) is refused. get and put are O(1) (an OrderedDict), delete is O(variants of the key), purges
are O(keys). Not thread-safe: one event loop per worker owns one store. A shared tier (Redis, disk) can
implement the same Protocol later.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Protocol

from edge.cache.entry import StoredResponse
from edge.cache.fields import Headers
from edge.cache.vary import VARY_STAR, request_values

VariantKey = tuple[bytes | None, ...]


class Store(Protocol):
    def get(self, key: str, request_headers: Headers) -> StoredResponse | None:
        """The variant under `key` whose Vary values match the request (marked as recently used), or None."""
        ...

    def variants(self, key: str) -> list[StoredResponse]:
        """Every variant under `key` (for validating several at once, and to tell uri-miss from vary-miss)."""
        ...

    def put(self, key: str, entry: StoredResponse) -> bool:
        """Store `entry` under `key`, replacing the variant with the same Vary values; False when refused."""
        ...

    def delete(self, key: str) -> int:
        """Remove every variant under `key`; the number removed."""
        ...

    def keys(self) -> Iterator[str]:
        """The primary keys held (a snapshot: deleting while iterating is safe)."""
        ...

    def purge_prefix(self, prefix: str, host: str | None = None) -> int:
        """Remove keys starting with `prefix` (a whole key), or with `host` given, whose path does; the count."""
        ...


class MemoryStore:
    """A byte-bounded LRU of variants, for one worker (see the module docstring)."""

    def __init__(self, max_bytes: int, max_entry: int | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError(f"cache store max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self.max_entry = max_bytes if max_entry is None else min(max_entry, max_bytes)
        self.bytes_used = 0
        self._lru: OrderedDict[tuple[str, VariantKey], StoredResponse] = OrderedDict()
        # key -> (the Vary names every variant under it shares, their Vary values)
        self._index: dict[str, tuple[tuple[bytes, ...], set[VariantKey]]] = {}

    @property
    def entries(self) -> int:
        """The number of variants held."""
        return len(self._lru)

    def __len__(self) -> int:
        return len(self._lru)

    def get(self, key: str, request_headers: Headers) -> StoredResponse | None:
        slot = self._index.get(key)
        if slot is None:
            return None
        lru_key = (key, request_values(request_headers, slot[0]))
        entry = self._lru.get(lru_key)
        if entry is not None:
            self._lru.move_to_end(lru_key)
        return entry

    def variants(self, key: str) -> list[StoredResponse]:
        slot = self._index.get(key)
        if slot is None:
            return []
        return [self._lru[(key, values)] for values in slot[1]]

    def put(self, key: str, entry: StoredResponse) -> bool:
        """Store `entry`; refused (False) when larger than `max_entry` or when its Vary is `*`.

        When the origin changes the Vary names of a resource, the variants stored under the old names are
        dropped: the newest response says how the resource varies now.
        """
        if entry.size > self.max_entry or entry.vary == VARY_STAR:
            return False
        slot = self._index.get(key)
        if slot is not None and slot[0] != entry.vary:
            self.delete(key)
            slot = None
        if slot is None:
            slot = self._index[key] = (entry.vary, set())
        lru_key = (key, entry.vary_values)
        old = self._lru.pop(lru_key, None)
        if old is not None:
            self.bytes_used -= old.size
        self._lru[lru_key] = entry
        slot[1].add(entry.vary_values)
        self.bytes_used += entry.size
        while self.bytes_used > self.max_bytes:
            self._evict_oldest()
        return True

    def delete(self, key: str) -> int:
        slot = self._index.pop(key, None)
        if slot is None:
            return 0
        for values in slot[1]:
            self.bytes_used -= self._lru.pop((key, values)).size
        return len(slot[1])

    def keys(self) -> Iterator[str]:
        return iter(list(self._index))

    def purge_prefix(self, prefix: str, host: str | None = None) -> int:
        """Delete every key under `prefix`: a path prefix (`/img/`) on `host` or on every host, or a whole-key
        prefix (`https://shop.test/img/`)."""
        if host is None and not prefix.startswith("/"):
            doomed = [key for key in self._index if key.startswith(prefix)]
        else:
            lowered = host.lower() if host is not None else None
            doomed = [key for key in self._index if _under(key, lowered, prefix)]
        return sum(self.delete(key) for key in doomed)

    def _evict_oldest(self) -> None:
        (key, values), entry = self._lru.popitem(last=False)
        self.bytes_used -= entry.size
        slot = self._index[key]
        slot[1].discard(values)
        if not slot[1]:
            del self._index[key]


def _under(key: str, host: str | None, path_prefix: str) -> bool:
    """True when `key` (any scheme) is on `host` (any host for None) and its path and query start with
    `path_prefix`."""
    rest = key.partition("://")[2]
    key_host, _, path = rest.partition("/")
    return (host is None or key_host == host) and ("/" + path).startswith(path_prefix)
