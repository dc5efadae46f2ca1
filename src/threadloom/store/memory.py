"""InMemoryStore: the store in process memory, with fast semantic search and TTL.

Values live in dicts keyed by namespace and key; vectors live in one numpy matrix
(``_vectors.VectorIndex``). A batch is checked and embedded in full before anything changes, then
applied under one lock: its reads see the store as it was before its writes, and a batch either
applies whole or not at all. Where this differs from LangGraph's InMemoryStore (order, created_at,
copies, TTL, list_namespaces) it follows threadloom's DECISIONS 10-11; see docs/store.md.
"""

from __future__ import annotations

import asyncio
import heapq
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np

from threadloom._copying import EXACT_SCALARS, copy_value
from threadloom.store._filters import And, compile_filter, parse_filter
from threadloom.store._ttl import SweepsInThread, TTLSweeper, deadline
from threadloom.store._validate import validate_ttl_config
from threadloom.store._vectors import VectorIndex
from threadloom.store.base import (
    NOT_PROVIDED,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    list_matching_namespaces,
    validate_ops,
)
from threadloom.store.embed import EmbeddingIndex, Vectors

__all__ = ["InMemoryStore"]


def _copy_plain_value(value: Any) -> dict[str, Any] | None:
    """``copy_value(value)`` when it is a ``dict`` with ``str`` keys, else None (then the
    caller validates it the slow way, which raises with the bad key)."""
    if type(value) is not dict:
        return None
    copied: dict[str, Any] = {}
    for k, v in value.items():
        if type(k) is not str:
            return None
        copied[k] = v if type(v) in EXACT_SCALARS else copy_value(v)
    return copied


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _stamp_datetime(micros: int) -> datetime:
    """A store clock reading (microseconds since the epoch) as an aware UTC datetime."""
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(slots=True, eq=False)
class _Record:
    """One stored item and its bookkeeping."""

    id: int
    """Stable while the key exists; the vector index refers to items by it."""
    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    """Owned by the store: copied on the way in and on the way out."""
    created: int
    updated: int
    """Store clock readings (microseconds since the epoch): a put only reads the clock, the
    datetimes are made when an item is read."""
    seq: int
    """Write order; the store clock is strictly increasing, so this orders updated_at too."""
    ttl: float | None
    """Minutes; None never expires."""
    expires_at: float | None
    """Epoch seconds."""
    vector_names: tuple[str, ...]
    """One name per vector in the vector index (the field path, or ``f"{path}.{i}"`` for paths
    with several texts); empty when the item is not embedded."""

    def item(self) -> Item:
        return Item(
            value=copy_value(self.value),
            key=self.key,
            namespace=self.namespace,
            created_at=_stamp_datetime(self.created),
            updated_at=_stamp_datetime(self.updated),
        )

    def search_item(self, score: float | None) -> SearchItem:
        return SearchItem(
            self.namespace,
            self.key,
            copy_value(self.value),
            _stamp_datetime(self.created),
            _stamp_datetime(self.updated),
            score,
        )


@dataclass(slots=True)
class _Plan:
    """What a batch needs before it may change anything: its puts and every text to embed."""

    puts: dict[tuple[tuple[str, ...], str], PutOp]
    """Last put per (namespace, key) wins; dict order is the order of last writes."""
    texts: list[str]
    spans: dict[tuple[tuple[str, ...], str], tuple[int, tuple[str, ...]]]
    """Per put: where its texts start in ``texts`` and the names of its vectors."""
    queries: list[str]
    """Distinct search queries, each embedded once."""
    reads: bool
    """Whether any op is not a put, so ``_apply`` must answer ops one by one."""


class _Clock:
    """UTC time in microseconds that never repeats or goes back, so write order is updated_at
    order. Read under the store's lock."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def now(self) -> int:
        now = time.time_ns() // 1000
        if now <= self._last:
            now = self._last + 1
        self._last = now
        return now


class InMemoryStore(SweepsInThread):
    """A store in process memory: fast, not persistent, for tests and single-process apps.

    ``index`` turns on semantic search (``{"dims": 384, "embed": ..., "fields": ["text"]}``);
    ``ttl`` sets expiry defaults (``{"default_ttl": 60, "refresh_on_read": True}``).
    """

    supports_ttl = True

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> None:
        validate_ttl_config(ttl, type(self).__name__)
        self.index_config = index
        self._index = EmbeddingIndex.from_config(index) if index is not None else None
        self.embeddings = self._index.embeddings if self._index else None
        self._vectors = VectorIndex(self._index.dims) if self._index else None
        self.ttl_config = ttl
        self._data: dict[tuple[str, ...], dict[str, _Record]] = {}
        self._by_id: dict[int, _Record] = {}
        # Every prefix of every namespace that holds items -> those namespaces, so a search
        # finds its namespaces in one lookup and ("a", "1") never sees ("a", "10").
        self._under: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        self._next_id = 0
        self._seq = 0
        self._clock = _Clock()
        self._time: Callable[[], float] = time.time  # epoch seconds, for expiry
        self._lock = threading.RLock()
        self._sweeper = TTLSweeper(self.sweep_ttl, type(self).__name__)

    # -- batches -----------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops``: reads see the store before the batch's writes; all or nothing."""
        ops = validate_ops(list(ops), store_name=type(self).__name__, supports_ttl=True)
        return self._run_ops(ops)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of ``batch``; embeds with the embedder's async methods."""
        ops = validate_ops(list(ops), store_name=type(self).__name__, supports_ttl=True)
        plan = self._plan(ops)
        vectors: Vectors | None = None
        queries: dict[str, Vectors] = {}
        if self._index is not None:
            vectors = await self._index.aembed_documents(plan.texts)
            found = await asyncio.gather(*(self._index.aembed_query(q) for q in plan.queries))
            queries = dict(zip(plan.queries, found, strict=True))
        with self._lock:
            return self._apply(ops, plan, vectors, queries)

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any] | None,
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
    ) -> None:
        """Store ``value`` at ``(namespace, key)``, replacing what was there (None: delete it)."""
        if (
            ttl is NOT_PROVIDED
            and index is None
            and self._index is None
            and self.ttl_config is None
            and type(namespace) is tuple
            and type(key) is str
            and namespace in self._data  # checked when its first item was written
            and namespace[0] != "langgraph"  # a batch may write there, put may not
        ):
            # The hot path of the hot path: a plain dict into a namespace already in use.
            copied = _copy_plain_value(value)
            if copied is not None:
                with self._lock:
                    self._put((namespace, key), copied, None, 0.0)
                return
        op = self._put_op(namespace, key, value, index, ttl)  # checks namespace, value, ttl
        if (index is not None and index is not False) or value is None:
            self.batch([op])  # field paths are checked by validate_ops; None is a delete
            return
        # The hot path: one put needs no plan. Embed first, so a failure changes nothing.
        where = (op.namespace, op.key)
        names: tuple[str, ...] = ()
        vectors: Vectors | None = None
        if self._index is not None and index is None:
            pairs = self._index.texts_for(value, None)
            if pairs:
                names = tuple(name for name, _ in pairs)
                vectors = self._index.embed_documents([text for _, text in pairs])
        with self._lock:
            self._write(where, op, self._time(), vectors, names)

    def _run_ops(self, ops: list[Op]) -> list[Result]:
        """Plan, embed and apply ``ops``, which have been validated."""
        plan = self._plan(ops)
        vectors: Vectors | None = None
        queries: dict[str, Vectors] = {}
        if self._index is not None:
            vectors = self._index.embed_documents(plan.texts)
            if plan.queries:
                queries = {q: self._index.embed_query(q) for q in plan.queries}
        with self._lock:
            return self._apply(ops, plan, vectors, queries)

    def _plan(self, ops: list[Op]) -> _Plan:
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        queries: dict[str, None] = {}  # distinct, in order
        reads = False
        for op in ops:
            if isinstance(op, PutOp):
                namespace = op.namespace
                where = (namespace if type(namespace) is tuple else tuple(namespace), op.key)
                puts.pop(where, None)  # re-insert so order follows the last write
                puts[where] = op
            else:
                reads = True
                if isinstance(op, SearchOp) and op.query:
                    queries[op.query] = None
        texts: list[str] = []
        spans: dict[tuple[tuple[str, ...], str], tuple[int, tuple[str, ...]]] = {}
        if self._index is not None:
            texts_for = self._index.texts_for
            for where, op in puts.items():
                if op.value is None or op.index is False:
                    continue
                pairs = texts_for(op.value, op.index)
                if len(pairs) == 1:  # the usual case: one field, one vector
                    spans[where] = (len(texts), (pairs[0][0],))
                    texts.append(pairs[0][1])
                elif pairs:
                    spans[where] = (len(texts), tuple(name for name, _ in pairs))
                    texts.extend(text for _, text in pairs)
        return _Plan(puts, texts, spans, list(queries), reads)

    def _apply(
        self,
        ops: list[Op],
        plan: _Plan,
        vectors: Vectors | None,
        queries: Mapping[str, Vectors],
    ) -> list[Result]:
        now = self._time()
        results: list[Result]
        if plan.reads:
            results = []
            for op in ops:
                if isinstance(op, GetOp):
                    results.append(self._get(op, now))
                elif isinstance(op, SearchOp):
                    results.append(self._search(op, queries, now))
                elif isinstance(op, ListNamespacesOp):
                    results.append(list_matching_namespaces(self._data, op))
                else:
                    results.append(None)
        else:
            results = [None] * len(ops)
        spans = plan.spans
        for where, put in plan.puts.items():
            if put.value is None:
                self._delete(*where)
                continue
            span = spans.get(where)
            if span is not None and vectors is not None:
                start, names = span
                self._write(where, put, now, vectors[start : start + len(names)], names)
            else:
                self._write(where, put, now, None, ())
        return results

    # -- reads -------------------------------------------------------------------------------

    def _hidden(self, record: _Record, now: float) -> bool:
        """Expired items stay readable until swept, unless ttl_config asks to omit them."""
        return bool(
            self.ttl_config
            and self.ttl_config.get("omit_expired")
            and record.expires_at is not None
            and record.expires_at < now
        )

    def _touch(self, record: _Record, now: float) -> None:
        if record.ttl is not None:
            record.expires_at = deadline(now, record.ttl)

    def _get(self, op: GetOp, now: float) -> Item | None:
        record = self._data.get(tuple(op.namespace), {}).get(op.key)
        if record is None or self._hidden(record, now):
            return None
        if op.refresh_ttl:
            self._touch(record, now)
        return record.item()

    def _search(self, op: SearchOp, queries: Mapping[str, Vectors], now: float) -> list[SearchItem]:
        prefix = tuple(op.namespace_prefix)
        namespaces = self._under.get(prefix, set())
        tree = parse_filter(op.filter)
        predicate = None if tree == And(()) else compile_filter(tree)
        omit = bool(self.ttl_config and self.ttl_config.get("omit_expired"))

        def matching() -> Iterable[_Record]:
            for ns in namespaces:
                for record in self._data[ns].values():
                    if (predicate is None or predicate(record.value)) and not (
                        omit and self._hidden(record, now)
                    ):
                        yield record

        need = op.offset + op.limit
        hits: list[tuple[_Record, float | None]]
        if op.query and self._vectors is not None and need:
            allowed = None
            if predicate is not None or omit:
                allowed = np.zeros(self._next_id, dtype=np.bool_)
                allowed[[r.id for r in matching() if r.vector_names]] = True
            item_ids, scores = self._vectors.search(
                queries[op.query], need, None if not prefix else list(namespaces), allowed
            )
            hits = [
                (self._by_id[i], s) for i, s in zip(item_ids.tolist(), scores.tolist(), strict=True)
            ]
            if len(hits) < need:  # pad with matching items that have no vectors, as LangGraph
                plain = (r for r in matching() if not r.vector_names)
                first_put = heapq.nsmallest(need - len(hits), plain, key=lambda r: r.id)
                hits.extend((r, None) for r in first_put)  # in insertion order, as LangGraph
        else:
            hits = [(r, None) for r in self._newest(matching(), need)]
        page = hits[op.offset : need]
        if op.refresh_ttl:
            for record, _ in page:
                self._touch(record, now)
        return [record.search_item(score) for record, score in page]

    @staticmethod
    def _newest(records: Iterable[_Record], count: int) -> list[_Record]:
        """The ``count`` most recently written records, newest first (DECISIONS 10)."""
        return heapq.nlargest(count, records, key=lambda r: r.seq)

    # -- writes ------------------------------------------------------------------------------

    def _write(
        self,
        where: tuple[tuple[str, ...], str],
        op: PutOp,
        now: float,
        vectors: Vectors | None,
        names: tuple[str, ...],
    ) -> None:
        """Apply one checked and embedded put: the value, then its vectors (one per name)."""
        value = op.value
        assert value is not None
        copied = copy_value(value if type(value) is dict else dict(value))
        record = self._put(where, copied, op.ttl, now)
        if names and vectors is not None and self._vectors is not None:
            self._vectors.put(where[0], record.id, vectors)
            record.vector_names = names

    def _put(
        self,
        where: tuple[tuple[str, ...], str],
        value: dict[str, Any],
        ttl: float | None,
        now: float,
    ) -> _Record:
        """Write the (already copied) value and bookkeeping; the caller adds the new vectors."""
        namespace, key = where
        stamp = self._clock.now()
        self._seq += 1
        bucket = self._data.get(namespace)
        if bucket is None:
            bucket = self._data[namespace] = {}
            for i in range(len(namespace) + 1):
                self._under.setdefault(namespace[:i], set()).add(namespace)
        record = bucket.get(key)
        if record is None:
            record = _Record(self._next_id, namespace, key, value, stamp, stamp, 0, None, None, ())
            self._next_id += 1
            bucket[key] = record
            self._by_id[record.id] = record
        else:
            if record.vector_names:
                self._drop_vectors(record)
            record.value = value
            record.updated = stamp
        record.seq = self._seq
        if ttl is not None or record.ttl is not None:
            record.ttl = ttl
            record.expires_at = None if ttl is None else deadline(now, ttl)
        return record

    def _drop_vectors(self, record: _Record) -> None:
        if record.vector_names and self._vectors is not None:
            self._vectors.remove(record.id)
        record.vector_names = ()

    def _delete(self, namespace: tuple[str, ...], key: str) -> None:
        bucket = self._data.get(namespace)
        record = bucket.pop(key, None) if bucket is not None else None
        if record is None:
            return
        self._drop_vectors(record)
        del self._by_id[record.id]
        if not bucket:  # list_namespaces lists only namespaces that hold items
            del self._data[namespace]
            for i in range(len(namespace) + 1):
                under = self._under[namespace[:i]]
                under.discard(namespace)
                if not under:
                    del self._under[namespace[:i]]

    # -- TTL ---------------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Delete every expired item now; return how many were deleted."""
        with self._lock:
            now = self._time()
            expired = [
                (record.namespace, record.key)
                for bucket in self._data.values()
                for record in bucket.values()
                if record.expires_at is not None and record.expires_at < now
            ]
            for namespace, key in expired:
                self._delete(namespace, key)
            return len(expired)

    async def asweep_ttl(self) -> int:
        """Async twin of ``sweep_ttl``."""
        return self.sweep_ttl()
