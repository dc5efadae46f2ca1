"""``BaseCache``: the interface of a node cache (LangGraph's ``langgraph.cache.base``).

Entries are addressed by a full key ``(namespace, key)``; a namespace is a tuple of strings (for
a node: ``("__pregel_ns_writes", "<module>.<function>", "<node name>")``) and clearing works by
namespace. Values go through ``serde`` (threadloom's ``JsonPlusSerializer`` by default), so a cache
never hands back the very objects a node returned, and a file cache holds no pickles.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from threadloom.checkpoint.serde.base import SerializerProtocol, maybe_add_typed_methods
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = ["BaseCache", "FullKey", "Namespace", "expiry_of"]

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]


class BaseCache(ABC, Generic[ValueT]):
    """A cache of values by ``(namespace, key)``, each with an optional time to live."""

    serde: SerializerProtocol

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = maybe_add_typed_methods(serde) if serde is not None else JsonPlusSerializer()

    @abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The live (not expired) values of those ``keys`` that are cached."""

    @abstractmethod
    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """Async ``get``."""

    @abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Cache each ``key: (value, ttl)``; ``ttl`` in seconds, ``None`` to keep it forever."""

    @abstractmethod
    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        """Async ``set``."""

    @abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Drop the entries of these namespaces (exact matches), or every entry."""

    @abstractmethod
    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Async ``clear``."""


def expiry_of(ttl: int | float | None, now: float | None = None) -> float | None:
    """When an entry set now with ``ttl`` expires (epoch seconds), or None for never."""
    if ttl is None:
        return None
    return (time.time() if now is None else now) + ttl


def is_live(expiry: Any, now: float) -> bool:
    """Whether an entry with this expiry may still be read at ``now``."""
    return expiry is None or float(expiry) > now
