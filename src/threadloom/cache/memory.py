"""``InMemoryCache``: a node cache in this process's memory (as ``langgraph.cache.memory``).

Values are kept serialized, so later changes to what a node returned never reach the cache. Safe
to share between threads and between graphs; gone when the process ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from threadloom.cache.base import BaseCache, FullKey, Namespace, expiry_of, is_live
from threadloom.checkpoint.serde.base import SerializerProtocol

__all__ = ["InMemoryCache"]

ValueT = TypeVar("ValueT")


class InMemoryCache(BaseCache[ValueT]):
    """A thread-safe in-memory cache; expired entries are dropped when read."""

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self._entries: dict[Namespace, dict[str, tuple[tuple[str, bytes], float | None]]] = {}
        self._lock = threading.RLock()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        now, found = time.time(), {}
        with self._lock:
            for ns, key in keys:
                entries = self._entries.get(ns)
                entry = entries.get(key) if entries is not None else None
                if entry is None:
                    continue
                typed, expiry = entry
                if not is_live(expiry, now):
                    del entries[key]  # type: ignore[union-attr]
                    continue
                found[(ns, key)] = typed
        return {k: self.serde.loads_typed(v) for k, v in found.items()}

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return self.get(keys)

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        now = time.time()
        encoded: list[tuple[FullKey, Any]] = [
            (full, (self.serde.dumps_typed(value), expiry_of(ttl, now)))
            for full, (value, ttl) in pairs.items()
        ]
        with self._lock:
            for (ns, key), entry in encoded:
                self._entries.setdefault(ns, {})[key] = entry

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        self.set(pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._entries.clear()
                return
            for ns in namespaces:
                self._entries.pop(tuple(ns), None)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self.clear(namespaces)
