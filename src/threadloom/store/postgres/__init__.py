"""PostgresStore: the store in PostgreSQL with pgvector, shared by many workers on many hosts.

Same import path, constructor and ``from_conn_string(...)`` / ``setup()`` usage as LangGraph's
``langgraph.store.postgres.PostgresStore``; same behaviour as threadloom's other stores (the one
store test suite runs on all of them). This module is the sync driver: the logic is in ``_core``,
connections and transactions in ``threadloom._postgres``. ``aio.AsyncPostgresStore`` is its
asyncio twin. See ``docs/postgres.md`` for production use (pooling, PgBouncer, migrations).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

from threadloom._postgres import Connector
from threadloom.store._batch import embed_async, embed_sync
from threadloom.store._ttl import SweepsInThread, TTLSweeper
from threadloom.store.base import IndexConfig, Op, Result, TTLConfig
from threadloom.store.postgres._core import PgStoreCore

if TYPE_CHECKING:
    from threadloom.store.postgres.aio import AsyncPostgresStore

__all__ = ["AsyncPostgresStore", "PostgresIndexConfig", "PostgresStore"]


class PostgresIndexConfig(IndexConfig, total=False):
    """``IndexConfig`` plus LangGraph's PostgreSQL keys."""

    distance_type: str
    """``"cosine"`` (default), ``"l2"`` or ``"inner_product"``."""
    ann_index_config: Mapping[str, Any]
    """``{"kind": "hnsw" | "flat", "vector_type": "vector" | "halfvec", "m": 16,
    "ef_construction": 64, "ef_search": 100}``; ``halfvec`` is chosen above 2,000 dims."""


class PostgresStore(SweepsInThread):
    """A persistent store in PostgreSQL, with semantic search (pgvector) and TTL.

    ``conn`` is a connection string, a ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``
    (use a pool when several threads share the store). Its settings do not matter: the store
    runs its own transactions with the settings it needs. Call ``setup()`` once per database
    (at deploy time or startup; idempotent, safe from several workers at once).
    """

    supports_ttl = True

    def __init__(
        self,
        conn: str | Connection[Any] | ConnectionPool[Any],
        *,
        index: PostgresIndexConfig | IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        self._connector = conn if isinstance(conn, Connector) else Connector(conn)
        self.conn = self._connector.source
        self.index_config = index
        self.ttl_config = ttl
        self._core = PgStoreCore(index, ttl, type(self).__name__)
        self.embeddings = self._core.index.embeddings if self._core.index else None
        self._sweeper = TTLSweeper(self.sweep_ttl, type(self).__name__)

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: Mapping[str, Any] | None = None,
        index: PostgresIndexConfig | IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> Iterator[PostgresStore]:
        """Connect (one connection, or a pool when ``pool_config`` is given), yield a store.

        ``pipeline=True`` keeps the connection in psycopg's pipeline mode, as LangGraph's does
        (not needed: a batch runs as one multi-row statement; ignored with ``pool_config``).
        """
        connector = Connector.open(conn_string, pool_config=pool_config, pipeline=pipeline)
        try:
            store = cls(connector, index=index, ttl=ttl)  # type: ignore[arg-type]
        except BaseException:  # a bad configuration: close what was just opened
            connector.close()
            raise
        try:
            yield store
        finally:
            store.close()

    def close(self) -> None:
        """Stop the sweeper; close the connection opened from a connection string (never the
        caller's own connection or pool)."""
        self.stop_ttl_sweeper()
        self._connector.close()

    def setup(self) -> None:
        """Create or migrate the tables (and the vector index the config needs)."""
        self._connector.run(self._core.setup, f"setting up {type(self).__name__}")

    # -- batches -----------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in one transaction; reads see the store before the batch's writes."""
        prepared = embed_sync(self._core.index, self._core.prepare(list(ops)))
        return self._connector.run(
            lambda: self._core.apply(prepared),
            "running a store batch",
            atomic=self._core.atomic(prepared),
        )

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of ``batch``: embeds with the async embedder, runs SQL in a thread."""
        prepared = await embed_async(self._core.index, self._core.prepare(list(ops)))
        return await asyncio.to_thread(
            self._connector.run,
            lambda: self._core.apply(prepared),
            "running a store batch",
            atomic=self._core.atomic(prepared),
        )

    # -- TTL ---------------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Delete every expired item now; return how many were deleted."""
        return self._connector.run(self._core.sweep, "sweeping expired items")

    async def asweep_ttl(self) -> int:
        """Async twin of ``sweep_ttl``."""
        return await asyncio.to_thread(self.sweep_ttl)


def __getattr__(name: str) -> Any:
    """``AsyncPostgresStore`` is importable from here, as from ``langgraph.store.postgres``
    (bound on first use: ``aio`` imports this module)."""
    if name == "AsyncPostgresStore":
        from threadloom.store.postgres.aio import AsyncPostgresStore

        return AsyncPostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
