"""What a PostgresStore batch does, written once as generators of SQL effects for both drivers.

Step 1 (``store._batch.prepare_batch``) checks the ops and embeds every text before any SQL, so
a bad op or a failing embedder changes nothing. Step 2 (:meth:`PgStoreCore.apply`) is one unit of
work for ``threadloom._postgres``: one transaction, reads first (they see the store as it was
before the batch, like InMemoryStore and SqliteStore), then the writes as one multi-row statement
per kind (vectors by one binary COPY). The driver retries the unit once if the connection drops
before COMMIT. A lone read runs without a transaction (``atomic``).

Vector search decides per search how to be right (an index searched first and a namespace
filter applied after finds a fifth of the true top 10 inside one user's namespace), from the
vector counts per namespace that triggers keep, in the same statement as the exact search:

- the searched namespaces hold at most ``EXACT_CANDIDATES`` vectors (one user's memories, the
  common case) → exact: every candidate scored, through the namespace index, recall 1;
- more → the HNSW index with pgvector 0.8's iterative scan, which keeps walking the graph until
  enough rows pass the namespace and value filters, then the best vector per item. ``setup()``
  builds that index once the store holds ``EXACT_CANDIDATES`` vectors (below, it would only slow
  every write); until then large searches stay exact and a warning says to run ``setup()``.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from threadloom._postgres import CopyIn, Query, Steps, migrate, require_setup
from threadloom.errors import IndexDimensionsError, LangGraphStoreWarning, SetupRequiredError
from threadloom.store._batch import Embedding, MicrosClock, Prepared, prepare_batch
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
from threadloom.store.embed import EmbeddingIndex
from threadloom.store.postgres import _sql as sql
from threadloom.store.postgres._filters import compile_filter
from threadloom.store.sqlite._sql import (
    decode_item,
    decode_namespace,
    decode_search_item,
    encode_namespace,
    encode_value,
)

__all__ = ["PgStoreCore"]

logger = logging.getLogger("threadloom.store.postgres")


def warn_langgraph_store() -> Steps[None]:
    """A database with LangGraph's store and an empty threadloom store is most likely one being
    moved over: say that LangGraph's items are not read here and how to copy them. (Both stores
    may share a database on purpose, so this warns rather than refuses.)"""
    ((found,),) = yield Query(sql.LANGGRAPH_STORE_BESIDE_EMPTY)
    if found:
        rows = yield Query(sql.LANGGRAPH_STORE_ITEMS)
        if rows[0][0]:
            warnings.warn(LangGraphStoreWarning(int(rows[0][0])), stacklevel=2)


class PgStoreCore:
    """The logic of one PostgresStore: its configuration, what it learnt of the database, clock."""

    def __init__(self, index: IndexConfig | None, ttl: TTLConfig | None, store_name: str) -> None:
        validate_ttl_config(ttl, store_name)
        self.index = EmbeddingIndex.from_config(index) if index is not None else None
        self.spec = (
            sql.VectorSpec.from_config(self.index.dims, index)
            if self.index is not None and index is not None
            else None
        )
        self.ttl_config = ttl
        self.store_name = store_name
        self.checked = False
        """The database was found set up for this store (checked once, on first use)."""
        self.has_vectors = False
        """The database has a vector table (maybe from another store's index configuration)."""
        self._warned_no_index = False
        self._indexed = False
        """The HNSW index was seen (checked again while it was not)."""
        self._clock = MicrosClock()
        self.time = time.time
        """Epoch seconds, for expiry (tests may replace it)."""

    # -- setup -------------------------------------------------------------------------------

    def setup(self) -> Steps[None]:
        """Apply pending migrations, then create the vector table and index the config needs."""
        yield from migrate(sql.MIGRATIONS)
        yield from warn_langgraph_store()
        if self.spec is not None:
            if not (yield Query(sql.SELECT_EXTENSION)):
                # no pgvector or no privilege: the driver raises MissingExtensionError
                yield Query(sql.CREATE_EXTENSION)
            yield Query(self.spec.create_table())
            for statement in self.spec.create_indexes():
                yield Query(statement)
        yield from self.check()  # e.g. dims differing from the stored vectors: nothing is built
        if self.spec is not None and self.spec.kind == "hnsw":
            ((stored,),) = yield Query(sql.COUNT_AT_LEAST, (sql.EXACT_CANDIDATES,))
            if stored >= sql.EXACT_CANDIDATES:
                ((indexed,),) = yield Query(self.spec.ann_index_exists)
                if not indexed:
                    yield Query(sql.BUILD_MEMORY)
                    yield Query(self.spec.create_ann_index())
                    yield Query(sql.ANALYZE_VECTORS)

    def check(self) -> Steps[None]:
        """Refuse a database that was not set up for this store; learn its vector column."""
        vector_column = Query(sql.SELECT_VECTOR_COLUMN, solo=True)  # a catalog read
        (rows,) = yield from require_setup(sql.MIGRATIONS, (vector_column,))
        if isinstance(rows, BaseException):
            raise rows
        self.has_vectors = bool(rows)
        if self.spec is not None:
            if not rows:
                raise SetupRequiredError(
                    f"This {self.store_name} has an index configured, but the database has no "
                    f"vector table yet. Call {self.store_name}.setup() once with this index "
                    "configuration."
                )
            vector_type, dims = sql.parse_column_type(rows[0][0])
            if dims != self.spec.dims:
                ((count,),) = yield Query(sql.COUNT_VECTORS)
                raise IndexDimensionsError(dims, self.spec.dims, int(count))
            self.spec = replace(self.spec, vector_type=vector_type)  # the table decides
        self.checked = True

    # -- step 1: check and embed -------------------------------------------------------------

    def prepare(self, ops: Sequence[Op]) -> Embedding:
        """Check the batch and embed its documents (one call) and its queries."""
        return prepare_batch(ops, self.index, self.store_name, encode_value)

    # -- step 2: one transaction -------------------------------------------------------------

    @staticmethod
    def atomic(batch: Prepared) -> bool:
        """Whether ``apply`` needs a transaction: a batch that writes, or several reads that
        must see one state. A lone read (and the TTL refresh it may do) is safe without one,
        and saves the BEGIN and COMMIT round trips."""
        return bool(batch.puts) or len(batch.ops) > 1

    def apply(self, batch: Prepared) -> Steps[list[Result]]:
        """Answer the reads, then write; the driver runs this as one transaction."""
        if not self.checked:
            yield from self.check()
        now = self.time()
        results: list[Result] = []
        refresh: list[int] = []  # ids of read rows whose expiry a read pushes back
        for op in batch.ops:
            if isinstance(op, GetOp):
                results.append((yield from self._get(op, now, refresh)))
            elif isinstance(op, SearchOp):
                results.append((yield from self._search(op, batch, now, refresh)))
            elif isinstance(op, ListNamespacesOp):
                rows = yield Query(sql.SELECT_NAMESPACES)
                namespaces = [decode_namespace(prefix) for (prefix,) in rows]
                results.append(list_matching_namespaces(namespaces, op))
            else:
                results.append(None)
        if refresh:
            yield Query(sql.REFRESH_TTL, (now, refresh))
        if batch.puts:
            yield from self._write(batch, now)
        return results

    def _omit_expired(self) -> bool:
        return bool(self.ttl_config and self.ttl_config.get("omit_expired"))

    def _get(self, op: GetOp, now: float, refresh: list[int]) -> Steps[Item | None]:
        rows = yield Query(sql.SELECT_GET, (encode_namespace(op.namespace), op.key))
        if not rows:
            return None
        row = rows[0]
        if self._omit_expired() and row[7] is not None and row[7] < now:
            return None
        if op.refresh_ttl and row[6] is not None:
            refresh.append(row[0])
        return decode_item(row)

    def _search(
        self, op: SearchOp, batch: Prepared, now: float, refresh: list[int]
    ) -> Steps[list[SearchItem]]:
        tree = parse_filter(op.filter)
        extra, extra_params = "", []
        if tree != And(()):
            filter_sql, filter_params = compile_filter(tree)
            extra, extra_params = f" AND {filter_sql}", filter_params
        if self._omit_expired():
            extra, extra_params = f"{extra} AND {sql.NOT_EXPIRED}", [*extra_params, now]
        where, params = sql.prefix_range(op.namespace_prefix)
        where, params = where + extra, params + extra_params
        need = op.offset + op.limit
        hits: list[tuple[Sequence[Any], float | None]] = []
        if op.query and self.spec is not None and need:
            rows = yield from self._vector_search(op, batch, extra, extra_params, need)
            hits = [(row[:8], float(row[8])) for row in rows]
            if len(hits) < need:  # pad with items that have no vectors, as InMemoryStore
                pad = yield Query(
                    f"SELECT {sql.ITEM_COLUMNS} FROM {sql.ITEMS} s WHERE {where} AND "
                    f"{sql.HAS_NO_VECTORS}{sql.INSERTION_ORDER} LIMIT %s",
                    [*params, need - len(hits)],
                )
                hits.extend((row, None) for row in pad)
            hits = hits[op.offset : need]
        else:
            rows = yield Query(
                f"SELECT {sql.ITEM_COLUMNS} FROM {sql.ITEMS} s WHERE {where}{sql.NEWEST_FIRST}"
                " LIMIT %s OFFSET %s",
                [*params, op.limit, op.offset],
            )
            hits = [(row, None) for row in rows]
        if op.refresh_ttl:
            refresh.extend(row[0] for row, _ in hits if row[6] is not None)
        return [decode_search_item(row, score) for row, score in hits]

    def _vector_search(
        self, op: SearchOp, batch: Prepared, extra: str, extra_params: list[Any], need: int
    ) -> Steps[list[tuple[Any, ...]]]:
        """The ``need`` best items by their best vector: exact when the candidates are few."""
        spec = self.spec
        assert spec is not None
        assert op.query is not None
        query = spec.encode_query(batch.queries[op.query])
        namespaces, ns_params = sql.prefix_range(op.namespace_prefix, "v.prefix")
        where, params, join = namespaces + extra, ns_params + extra_params, bool(extra)
        fields = len(self.index.fields) if self.index is not None else 1
        read = need * max(2, fields)  # vector rows holding the best `need` items (nearly always)
        statement = spec.counted_exact_items(namespaces, where, join)
        counted = yield Query(statement, [*ns_params, query, *params, read, need])
        candidates = int(counted[0][-1])
        exact = spec.kind == "flat" or candidates <= sql.EXACT_CANDIDATES
        rows: list[tuple[Any, ...]] = [row[:-1] for row in counted if row[0] is not None]
        if not exact:
            if not self._indexed:  # built by some worker's setup(); it stays once built
                ((self._indexed,),) = yield Query(spec.ann_index_exists)
            if self._indexed:
                statement = spec.top_items(where, join, index_rows=read)
                rows = yield Query(statement, [query, *params, query, read, need])
                return rows
            if not self._warned_no_index:
                self._warned_no_index = True
                logger.warning(
                    "%s: more than %d vectors to search and no HNSW index yet, so searches "
                    "over them are exact (right, but slower as the store grows). Call setup() "
                    "again (e.g. at the next deploy) to build the index.",
                    self.store_name,
                    sql.EXACT_CANDIDATES,
                )
        if len(rows) < need and read < candidates:  # not scored yet, or items with many vectors
            statement = spec.top_items(where, join, index_rows=None)
            rows = yield Query(statement, [query, *params, candidates, need])
        return rows

    def _write(self, batch: Prepared, now: float) -> Steps[None]:
        """The batch's puts and deletes, one statement per kind, rows in key order.

        Key order makes concurrent batches lock rows in the same order, so they wait for each
        other instead of deadlocking.
        """
        upserts: list[tuple[Any, ...]] = []
        deletes: list[tuple[str, str]] = []
        for (namespace, key), op in batch.puts.items():
            prefix = encode_namespace(namespace)
            if op.value is None:
                deletes.append((prefix, key))
                continue
            stamp = self._clock.next()
            value = batch.values[(namespace, key)]
            upserts.append((prefix, key, value, stamp, stamp, deadline(now, op.ttl), op.ttl))
        if deletes:
            deletes.sort()
            yield Query(sql.DELETE_ITEMS, [list(column) for column in zip(*deletes, strict=True)])
        if not upserts:
            return
        upserts.sort(key=lambda row: (row[0], row[1]))
        returned = yield Query(
            sql.UPSERT_ITEMS, [list(column) for column in zip(*upserts, strict=True)]
        )
        ids = {(prefix, key): item_id for item_id, prefix, key in returned}
        if self.has_vectors:  # a re-put replaces the item's vectors (or drops them: index=False)
            yield Query(sql.DELETE_VECTORS_OF_ITEMS, (sorted(ids.values()),))
        if self.spec is None or batch.vectors is None:
            return
        item_ids: list[int] = []
        names: list[str] = []
        prefixes: list[str] = []
        for (namespace, key), (_, fields) in batch.names.items():  # in `vectors` row order
            prefix = encode_namespace(namespace)
            item_ids.extend([ids[(prefix, key)]] * len(fields))
            names.extend(fields)
            prefixes.extend([prefix] * len(fields))
        if item_ids:
            data = self.spec.encode_copy(item_ids, names, prefixes, batch.vectors)
            yield CopyIn(self.spec.copy_vectors(), data)

    # -- TTL ---------------------------------------------------------------------------------

    def sweep(self) -> Steps[int]:
        """Delete every expired item (their vectors go with them); return how many."""
        if not self.checked:
            yield from self.check()
        rows = yield Query(sql.DELETE_EXPIRED, (self.time(),))
        return len(rows)
