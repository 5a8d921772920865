"""A bounded memo for per-value results that repeat across requests (transformations, detector verdicts,
prefilter hits): a dict that is cleared whole when it would grow past its bounds.

Clearing beats LRU bookkeeping on the hot path: a lookup is the dict's own `get` (no Python call of ours),
and work is spent only on a miss. Values longer than `max_item` are never kept, so one huge argument cannot
evict everything, and `max_size` bounds the memory the keys hold.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    __slots__ = ("data", "get", "max_entries", "max_item", "max_size", "size_of", "used")

    def __init__(
        self,
        max_entries: int,
        max_item: int,
        max_size: int | None = None,
        size_of: Callable[[K], int] = len,  # type: ignore[assignment]
    ) -> None:
        self.data: dict[K, V] = {}
        self.get = self.data.get  # stays valid: the dict is cleared, never replaced
        self.max_entries = max_entries
        self.max_item = max_item
        self.max_size = max_size
        self.size_of = size_of
        self.used = 0

    def put(self, key: K, value: V) -> None:
        """Keep `value` under `key` unless the key is too large; clear everything first when full."""
        size = self.size_of(key)
        if size > self.max_item:
            return
        if len(self.data) >= self.max_entries or (self.max_size is not None and self.used + size > self.max_size):
            self.data.clear()
            self.used = 0
        self.data[key] = value
        self.used += size
