"""AsyncPostgresStore: PostgresStore for asyncio, on ``psycopg.AsyncConnection`` or a pool.

Same import path, constructor and ``from_conn_string(...)`` / ``setup()`` usage as LangGraph's
``langgraph.store.postgres.aio.AsyncPostgresStore``. The asyncio twin of
``threadloom.store.postgres``: it runs the same ``_core`` units through
``threadloom._postgres.AsyncConnector``, so no store logic is written twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from threadloom._on_loop import wait_on_loop
from threadloom._postgres import AsyncConnector
from threadloom.store._batch import embed_async
from threadloom.store._ttl import AsyncTTLSweeper, SweepsInTask
from threadloom.store.base import IndexConfig, Op, Result, TTLConfig
from threadloom.store.base.batch import GathersAsyncCalls
from threadloom.store.postgres import PostgresIndexConfig
from threadloom.store.postgres._core import PgStoreCore

__all__ = ["AsyncPostgresStore"]


class AsyncPostgresStore(GathersAsyncCalls, SweepsInTask):
    """A persistent store in PostgreSQL for asyncio programs, with semantic search and TTL.

    ``conn`` is a connection string, a ``psycopg.AsyncConnection`` or a
    ``psycopg_pool.AsyncConnectionPool``; its settings do not matter. The sync methods work from
    other threads while the event loop that owns the store runs.
    """

    supports_ttl = True

    def __init__(
        self,
        conn: str | AsyncConnection[Any] | AsyncConnectionPool[Any],
        *,
        index: PostgresIndexConfig | IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        self._connector = conn if isinstance(conn, AsyncConnector) else AsyncConnector(conn)
        self.conn = self._connector.source
        self.index_config = index
        self.ttl_config = ttl
        self._core = PgStoreCore(index, ttl, type(self).__name__)
        self.embeddings = self._core.index.embeddings if self._core.index else None
        self._sweeper = AsyncTTLSweeper(self.sweep_ttl, type(self).__name__)
        self._loop: asyncio.AbstractEventLoop | None = None
        with contextlib.suppress(RuntimeError):  # made in async code: sync calls from other
            self._loop = asyncio.get_running_loop()  # threads work at once, as in LangGraph

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: Mapping[str, Any] | None = None,
        index: PostgresIndexConfig | IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> AsyncIterator[AsyncPostgresStore]:
        """Connect (one connection, or a pool when ``pool_config`` is given), yield a store."""
        connector = await AsyncConnector.open(
            conn_string, pool_config=pool_config, pipeline=pipeline
        )
        try:
            store = cls(connector, index=index, ttl=ttl)  # type: ignore[arg-type]
        except BaseException:  # a bad configuration: close what was just opened
            await connector.close()
            raise
        try:
            yield store
        finally:
            await store.close()

    async def close(self) -> None:
        """Stop the sweeper; close the connection opened from a connection string (never the
        caller's own connection or pool)."""
        self._stop_gathering()
        await self.stop_ttl_sweeper()
        await self._connector.close()

    async def setup(self) -> None:
        """Create or migrate the tables (and the vector index the config needs)."""
        self._loop = asyncio.get_running_loop()
        await self._connector.run(self._core.setup, f"setting up {type(self).__name__}")

    # -- batches -----------------------------------------------------------------------------

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in one transaction; reads see the store before the batch's writes."""
        self._loop = asyncio.get_running_loop()
        prepared = await embed_async(self._core.index, self._core.prepare(list(ops)))
        return await self._connector.run(
            lambda: self._core.apply(prepared),
            "running a store batch",
            atomic=self._core.atomic(prepared),
        )

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``abatch`` on the store's event loop from another thread and wait for it."""
        return wait_on_loop(
            self._loop,
            self.abatch(list(ops)),
            "AsyncPostgresStore's sync methods (get, put, search, batch ...) only work from "
            "a thread other than the event loop's, after the store was used there once. In "
            "async code use aget, aput, asearch, abatch instead.",
        )

    # -- TTL ---------------------------------------------------------------------------------

    async def sweep_ttl(self) -> int:
        """Delete every expired item now; return how many were deleted."""
        return await self._connector.run(self._core.sweep, "sweeping expired items")
