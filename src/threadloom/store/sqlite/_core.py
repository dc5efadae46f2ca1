"""What a SqliteStore batch does, written once as generators of effects for both drivers.

Each public function here is a generator: it yields an effect (run this SQL, embed these texts)
and receives its result, so the sync store (``sqlite3``) and the async store (``aiosqlite``) are
thin drivers that only carry out effects. A batch runs in two steps:

1. ``prepare`` checks every op and embeds every text the batch needs. No SQL yet, so a bad op or a
   failing embedder changes nothing.
2. ``apply`` runs the batch in one transaction: reads first (they see the store as it was before
   the batch, like InMemoryStore), then the writes. ``BEGIN IMMEDIATE`` when the batch writes, so
   several processes can share one file (DECISIONS 6). The driver rolls back on any error: a
   batch applies whole or not at all.

Vector search is answered by the in-process mirror (``_mirror``), synced inside the same
transaction, so the scores always belong to the rows read.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

import numpy as np

from threadloom._sqlite_wal import use_wal
from threadloom.errors import IndexDimensionsError
from threadloom.store._batch import EmbedQuery, EmbedTexts, Prepared, prepare_batch
from threadloom.store._batch import MicrosClock as _Clock
from threadloom.store._filters import And, parse_filter
from threadloom.store._ttl import deadline
from threadloom.store._validate import validate_ttl_config
from threadloom.store.base import (
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    list_matching_namespaces,
)
from threadloom.store.embed import EmbeddingIndex, Vectors
from threadloom.store.sqlite import _sql as sql
from threadloom.store.sqlite._filter_sql import compile_filter
from threadloom.store.sqlite._mirror import VectorMirror

__all__ = [
    "Attempt",
    "EmbedQuery",
    "EmbedTexts",
    "ExecMany",
    "Fetch",
    "Pause",
    "Prepared",
    "StoreCore",
]

T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class Fetch:
    """Run one statement; the result is all its rows (a list of tuples)."""

    sql: str
    params: Sequence[Any] = ()


@dataclass(slots=True, frozen=True)
class ExecMany:
    """Run one statement once per parameter row; the result is None."""

    sql: str
    rows: Sequence[Sequence[Any]]


@dataclass(slots=True, frozen=True)
class Attempt:
    """Run one statement that may fail: the result is its rows, or the ``sqlite3.Error``."""

    sql: str


@dataclass(slots=True, frozen=True)
class Pause:
    """Wait ``seconds`` (retrying a step another process holds up); the result is None."""

    seconds: float


Effect: TypeAlias = Fetch | ExecMany | Attempt | Pause | EmbedTexts | EmbedQuery
Steps: TypeAlias = Generator[Effect, Any, T]


@dataclass(slots=True)
class _MirrorChanges:
    """What a committed write tells the vector mirror."""

    drops: list[int] = field(default_factory=list)
    """Deleted items."""
    entries: list[tuple[int, tuple[str, ...], list[int]]] = field(default_factory=list)
    """Written items with their new vector ids (empty: no longer embedded)."""
    vectors: list[Vectors] = field(default_factory=list)
    """The entries' vectors, in entry order."""


class StoreCore:
    """The logic of one SqliteStore: its configuration, vector mirror and clock."""

    def __init__(self, index: IndexConfig | None, ttl: TTLConfig | None, store_name: str) -> None:
        validate_ttl_config(ttl, store_name)
        self.index = EmbeddingIndex.from_config(index) if index is not None else None
        self.ttl_config = ttl
        self.store_name = store_name
        self.mirror = VectorMirror(self.index.dims) if self.index is not None else None
        self._clock = _Clock()
        self.path: str | None = None
        """The database file, learnt by ``setup`` (for messages)."""
        self.time = time.time
        """Epoch seconds, for expiry (tests may replace it)."""

    # -- setup -----------------------------------------------------------------------------

    def setup(self) -> Steps[None]:
        """Connection settings, then the migrations not yet applied, with their records.

        A file that is already set up is only read (no write lock), so opening it works while
        another connection writes, and on a read-only file.
        """
        self.path = sql.database_path((yield Fetch(sql.DATABASE_LIST)))
        for pragma in sql.CONNECTION_PRAGMAS:
            yield Fetch(pragma)
        started = time.monotonic()
        try:
            yield from use_wal(Fetch, Attempt, Pause)  # the checkpointer runs the same steps
        except sqlite3.Error as exc:  # refused for 10 s, or not "locked"
            waited = time.monotonic() - started
            raise sql.storage_error(exc, "switching to WAL", self.path, waited) from exc
        yield Fetch(sql.BEGIN_READ)
        ready = yield from self._is_set_up()
        yield Fetch(sql.COMMIT)
        if ready:
            return
        yield Fetch(sql.BEGIN_WRITE)  # a second process waits here, then finds the work done
        yield from self._is_set_up()  # the same checks, now under the write lock
        yield Fetch(sql.CREATE_MIGRATIONS_TABLE)
        ((done,),) = yield Fetch(sql.SELECT_MIGRATION_DONE)
        for version in range(done + 1, len(sql.MIGRATIONS)):
            yield Fetch(sql.MIGRATIONS[version])
            yield Fetch(sql.INSERT_MIGRATION, (version,))
        if self.index is not None and not (yield Fetch(sql.SELECT_DIMS)):
            yield Fetch(sql.INSERT_DIMS, (str(self.index.dims),))
        yield Fetch(sql.COMMIT)

    def _is_set_up(self) -> Steps[bool]:
        """Read-only: whether every migration (and the index's dims) is recorded.

        Refuses a file whose tables are someone else's, and a vector index of other dims.
        """
        tables = {name for (name,) in (yield Fetch(sql.SELECT_TABLES))}
        if not sql.check_tables(tables, self.path or ":memory:"):
            return False
        ((done,),) = yield Fetch(sql.SELECT_MIGRATION_DONE)
        if done < len(sql.MIGRATIONS) - 1:
            return False
        if self.index is None:
            return True
        rows = yield Fetch(sql.SELECT_DIMS)
        if rows and int(rows[0][0]) != self.index.dims:
            ((count,),) = yield Fetch(sql.COUNT_VECTORS)
            raise IndexDimensionsError(int(rows[0][0]), self.index.dims, count)
        return bool(rows)

    def describe(self, effect: Effect) -> str:
        """What a failed effect was doing, for its error message."""
        if isinstance(effect, Fetch | ExecMany):
            return f"running {effect.sql[:60]!r}"
        return type(effect).__name__  # pragma: no cover - only statements fail in the driver

    # -- step 1: check and embed -----------------------------------------------------------

    def prepare(self, ops: Sequence[Op]) -> Steps[Prepared]:
        """Check the batch and embed its documents (one call) and its queries."""
        return (yield from prepare_batch(ops, self.index, self.store_name, sql.encode_value))

    # -- step 2: one transaction -----------------------------------------------------------

    def apply(self, batch: Prepared) -> Steps[list[Result]]:
        """Answer the reads, then write; one transaction, committed at the end."""
        writes = bool(batch.puts)
        now = self.time()
        yield Fetch(sql.BEGIN_WRITE if writes else sql.BEGIN_READ)
        results: list[Result] = []
        refresh: list[int] = []  # ids of read rows whose expiry a read pushes back
        for op in batch.ops:
            if isinstance(op, GetOp):
                results.append((yield from self._get(op, now, refresh)))
            elif isinstance(op, SearchOp):
                results.append((yield from self._search(op, batch, now, refresh)))
            elif isinstance(op, ListNamespacesOp):
                rows = yield Fetch(sql.SELECT_NAMESPACES)
                namespaces = [sql.decode_namespace(prefix) for (prefix,) in rows]
                results.append(list_matching_namespaces(namespaces, op))
            else:
                results.append(None)
        if refresh and writes:
            yield Fetch(sql.REFRESH_TTL, (now, json.dumps(refresh)))
        changes = _MirrorChanges()
        if writes:
            changes = yield from self._write(batch, now)
        yield Fetch(sql.COMMIT)
        if refresh and not writes:  # a read-only batch takes the write lock only when it must
            yield Fetch(sql.BEGIN_WRITE)
            yield Fetch(sql.REFRESH_TTL, (now, json.dumps(refresh)))
            yield Fetch(sql.COMMIT)
        if self.mirror is not None and self.mirror.loaded:
            for item_id in changes.drops:
                self.mirror.drop(item_id)
            if changes.entries:
                vectors = (
                    np.concatenate(changes.vectors)
                    if changes.vectors
                    else np.empty((0, self.mirror.dims), dtype=np.float32)
                )
                self.mirror.put_many(changes.entries, vectors)
        return results

    def _omit_expired(self) -> bool:
        return bool(self.ttl_config and self.ttl_config.get("omit_expired"))

    def _get(self, op: GetOp, now: float, refresh: list[int]) -> Steps[Item | None]:
        rows = yield Fetch(sql.SELECT_GET, (sql.encode_namespace(op.namespace), op.key))
        if not rows:
            return None
        row = rows[0]
        if self._omit_expired() and row[7] is not None and row[7] < now:
            return None
        if op.refresh_ttl and row[6] is not None:
            refresh.append(row[0])
        return sql.decode_item(row)

    def _search(
        self, op: SearchOp, batch: Prepared, now: float, refresh: list[int]
    ) -> Steps[list[SearchItem]]:
        where, params = sql.prefix_range(op.namespace_prefix)
        tree = parse_filter(op.filter)
        filtered = tree != And(()) or self._omit_expired()
        if tree != And(()):
            filter_sql, filter_params = compile_filter(tree)
            where, params = f"{where} AND {filter_sql}", params + filter_params
        if self._omit_expired():
            where, params = f"{where} AND {sql.NOT_EXPIRED}", [*params, now]
        need = op.offset + op.limit
        hits: list[tuple[Sequence[Any], float | None]] = []
        if op.query and self.mirror is not None and need:
            yield from self._sync_mirror()
            allowed = None
            if filtered:
                allowed = [
                    i for (i,) in (yield Fetch(f"SELECT s.id FROM store s WHERE {where}", params))
                ]
            item_ids, scores = self.mirror.search(
                batch.queries[op.query], need, tuple(op.namespace_prefix), allowed
            )
            if item_ids:
                rows = yield Fetch(sql.select_by_ids(len(item_ids)), item_ids)
                by_id = {row[0]: row for row in rows}
                hits = [(by_id[i], s) for i, s in zip(item_ids, scores, strict=True)]
            if len(hits) < need:  # pad with items that have no vectors, as InMemoryStore
                pad = yield Fetch(
                    f"SELECT {sql.ITEM_COLUMNS} FROM store s WHERE {where} AND "
                    f"{sql.HAS_NO_VECTORS}{sql.INSERTION_ORDER} LIMIT ?",
                    [*params, need - len(hits)],
                )
                hits.extend((row, None) for row in pad)
            hits = hits[op.offset : need]
        else:
            rows = yield Fetch(
                f"SELECT {sql.ITEM_COLUMNS} FROM store s WHERE {where}{sql.NEWEST_FIRST}"
                " LIMIT ? OFFSET ?",
                [*params, op.limit, op.offset],
            )
            hits = [(row, None) for row in rows]
        if op.refresh_ttl:
            refresh.extend(row[0] for row, _ in hits if row[6] is not None)
        return [sql.decode_search_item(row, score) for row, score in hits]

    def _sync_mirror(self) -> Steps[None]:
        """Bring the mirror in step with the table, inside the current transaction."""
        mirror = self.mirror
        assert mirror is not None
        ((version,),) = yield Fetch(sql.DATA_VERSION)  # read first: a later commit only resyncs
        if mirror.loaded and version == mirror.data_version:
            return
        try:
            if not mirror.loaded:
                mirror.load((yield Fetch(sql.SELECT_ALL_VECTORS)))
            else:
                changed = mirror.changed_items((yield Fetch(sql.SELECT_VECTOR_IDS)))
                if changed:
                    rows = yield Fetch(sql.SELECT_VECTORS_OF_ITEMS, (json.dumps(changed),))
                    mirror.load(rows, changed)
        except BaseException:
            mirror.reset()  # half-applied: start over on the next search
            raise
        mirror.loaded, mirror.data_version = True, version

    def _write(self, batch: Prepared, now: float) -> Steps[_MirrorChanges]:
        """Apply the batch's puts and deletes; return what the mirror must learn after commit."""
        keys = [[sql.encode_namespace(ns), key] for ns, key in batch.puts]
        found = yield Fetch(sql.SELECT_IDS_OF_KEYS, (json.dumps(keys),))
        existing = {(prefix, key): item_id for item_id, prefix, key in found}
        sequences = dict((yield Fetch(sql.SELECT_SEQUENCES)))
        next_item = int(sequences.get("store", 0))
        next_vector = int(sequences.get("store_vectors", 0))
        clear: list[tuple[int]] = [(i,) for i in existing.values()]
        deletes: list[tuple[int]] = []
        upserts: list[tuple[Any, ...]] = []
        vectors: list[tuple[int, int, str, bytes]] = []
        changes = _MirrorChanges()
        for (namespace, key), op in batch.puts.items():
            item_id = existing.get((sql.encode_namespace(namespace), key))
            if op.value is None:
                if item_id is not None:
                    deletes.append((item_id,))
                    changes.drops.append(item_id)
                continue
            new = item_id is None
            if item_id is None:
                next_item += 1
                item_id = next_item
            stamp = self._clock.next()
            upserts.append(
                (
                    item_id if new else None,  # an existing row keeps its id (and created_at)
                    sql.encode_namespace(namespace),
                    key,
                    batch.values[(namespace, key)],
                    stamp,
                    stamp,
                    deadline(now, op.ttl),
                    op.ttl,
                )
            )
            start, names = batch.names.get((namespace, key), (0, ()))
            own = batch.vectors[start : start + len(names)] if batch.vectors is not None else None
            vector_ids = list(range(next_vector + 1, next_vector + 1 + len(names)))
            next_vector += len(names)
            if own is not None and names:
                vectors.extend(
                    (vid, item_id, name, row.tobytes())
                    for vid, name, row in zip(vector_ids, names, own, strict=True)
                )
                changes.vectors.append(own)
            changes.entries.append((item_id, namespace, vector_ids if names else []))
        if clear:
            yield ExecMany(sql.DELETE_VECTORS_OF_ITEM, clear)
        if deletes:
            yield ExecMany(sql.DELETE_ITEM, deletes)
        if upserts:
            yield ExecMany(sql.UPSERT_ITEM, upserts)
        if vectors:
            yield ExecMany(sql.INSERT_VECTOR, vectors)
        return changes

    # -- TTL -------------------------------------------------------------------------------

    def sweep(self) -> Steps[int]:
        """Delete every expired item; return how many."""
        now = self.time()
        yield Fetch(sql.BEGIN_WRITE)
        yield Fetch(sql.DELETE_EXPIRED_VECTORS, (now,))
        rows = yield Fetch(sql.DELETE_EXPIRED, (now,))
        yield Fetch(sql.COMMIT)
        if self.mirror is not None and self.mirror.loaded:
            for (item_id,) in rows:
                self.mirror.drop(item_id)
        return len(rows)
