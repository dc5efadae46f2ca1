"""The in-process mirror of ``store_vectors``: every stored vector in one numpy matrix.

Vector search on SQLite scores a query against a ``VectorIndex`` (the same one InMemoryStore
uses) that holds a copy of the table, instead of asking SQLite to compute distances row by row:
one matrix-vector product over the candidate rows, with namespaces narrowing the candidates
before top-k. This module keeps that copy right; it reads nothing itself:

- it is filled lazily, on the first search with a query, from the rows the store fetches;
- this store's own writes are applied to it after their transaction commits;
- another connection's writes are noticed through ``PRAGMA data_version``, and then only the
  items whose vector ids changed are reloaded. Vector ids are never reused (AUTOINCREMENT), so
  "same ids" means "same vectors".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from threadloom.store._vectors import BoolArray, FloatArray, VectorIndex
from threadloom.store.sqlite._sql import decode_namespace

__all__ = ["VectorMirror"]


@dataclass(slots=True)
class _Entry:
    """The mirrored vectors of one item."""

    namespace: tuple[str, ...]
    vector_ids: tuple[int, ...]
    """Its ``store_vectors`` ids, ascending."""


class VectorMirror:
    """A ``VectorIndex`` kept in step with the ``store_vectors`` table of one database."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.loaded = False
        """Whether the mirror holds the table (as of ``data_version``)."""
        self.data_version: int | None = None
        """The connection's ``PRAGMA data_version`` when the mirror last matched the table."""
        self._clear()

    def _clear(self) -> None:
        self._index = VectorIndex(self.dims)
        self._items: dict[int, _Entry] = {}
        self._item_of_vector: dict[int, int] = {}
        self._namespace_items: Counter[tuple[str, ...]] = Counter()
        # Every prefix of every namespace with vectors -> those namespaces.
        self._under: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        self._max_item = -1

    def reset(self) -> None:
        """Forget everything; the next search reloads the table."""
        self._clear()
        self.loaded = False
        self.data_version = None

    # -- changes ---------------------------------------------------------------------------

    def put_many(
        self,
        entries: Sequence[tuple[int, tuple[str, ...], Sequence[int]]],
        vectors: FloatArray,
    ) -> None:
        """Make each ``(item_id, namespace, vector_ids)`` item's vectors its rows of ``vectors``.

        ``vectors`` holds the entries' vectors back to back; an entry without vector ids is
        an item that is no longer embedded.
        """
        offset = 0
        for item_id, namespace, vector_ids in entries:
            self.drop(item_id)
            count = len(vector_ids)
            if not count:
                continue
            self._index.put(namespace, item_id, vectors[offset : offset + count])
            offset += count
            self._items[item_id] = _Entry(namespace, tuple(vector_ids))
            for vid in vector_ids:
                self._item_of_vector[vid] = item_id
            if self._namespace_items[namespace] == 0:
                for i in range(len(namespace) + 1):
                    self._under.setdefault(namespace[:i], set()).add(namespace)
            self._namespace_items[namespace] += 1
            self._max_item = max(self._max_item, item_id)

    def drop(self, item_id: int) -> None:
        """Forget ``item_id``'s vectors, if any."""
        entry = self._items.pop(item_id, None)
        if entry is None:
            return
        self._index.remove(item_id)
        for vid in entry.vector_ids:
            del self._item_of_vector[vid]
        namespace = entry.namespace
        self._namespace_items[namespace] -= 1
        if self._namespace_items[namespace] == 0:
            del self._namespace_items[namespace]
            for i in range(len(namespace) + 1):
                under = self._under[namespace[:i]]
                under.discard(namespace)
                if not under:
                    del self._under[namespace[:i]]

    def load(self, rows: Sequence[Sequence[Any]], reloaded: Iterable[int] = ()) -> None:
        """Apply fetched ``(item_id, prefix, vector_id, embedding)`` rows, grouped by item.

        Items in ``reloaded`` that have no rows lost their vectors and are dropped.
        """
        for item_id in reloaded:
            self.drop(item_id)
        if not rows:
            return
        matrix = np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32)
        entries: list[tuple[int, tuple[str, ...], list[int]]] = []
        for item_id, prefix, vector_id, _ in rows:  # rows come ordered by item
            if not entries or entries[-1][0] != item_id:
                entries.append((item_id, decode_namespace(prefix), []))
            entries[-1][2].append(vector_id)
        self.put_many(entries, matrix.reshape(len(rows), self.dims))

    def changed_items(self, listing: Sequence[Sequence[int]]) -> list[int]:
        """Items whose vectors differ from ``listing`` (every ``(vector_id, item_id)`` row)."""
        current = np.array(listing, dtype=np.int64).reshape(-1, 2)
        known = np.fromiter(self._item_of_vector, dtype=np.int64, count=len(self._item_of_vector))
        added = ~np.isin(current[:, 0], known)
        removed = known[~np.isin(known, current[:, 0])]
        changed = set(current[added, 1].tolist())
        changed.update(self._item_of_vector[vid] for vid in removed.tolist())
        return sorted(changed)

    # -- search ----------------------------------------------------------------------------

    def search(
        self,
        query: FloatArray,
        need: int,
        namespace_prefix: tuple[str, ...],
        allowed: Sequence[int] | None,
    ) -> tuple[list[int], list[float]]:
        """The ``need`` best item ids under ``namespace_prefix`` and their cosine scores.

        ``allowed`` (item ids that pass the filter) narrows the candidates before top-k.
        """
        namespaces = None if not namespace_prefix else list(self._under.get(namespace_prefix, ()))
        mask: BoolArray | None = None
        if allowed is not None:
            mask = np.zeros(max(self._max_item, max(allowed, default=-1)) + 1, dtype=np.bool_)
            mask[list(allowed)] = True
        items, scores = self._index.search(query, need, namespaces, mask)
        return items.tolist(), scores.tolist()
