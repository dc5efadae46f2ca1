"""AsyncSqliteStore: SqliteStore for asyncio, on ``aiosqlite``.

The asyncio twin of ``threadloom.store.sqlite``'s driver: it carries out the same ``_core``
effects with ``await``, so no store logic is written twice.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import aiosqlite

from threadloom._on_loop import wait_on_loop
from threadloom.store._ttl import AsyncTTLSweeper, SweepsInTask
from threadloom.store.base import IndexConfig, Op, Result, TTLConfig
from threadloom.store.base.batch import GathersAsyncCalls
from threadloom.store.sqlite import _embed_async
from threadloom.store.sqlite import _sql as sql
from threadloom.store.sqlite._core import (
    Attempt,
    Effect,
    EmbedQuery,
    EmbedTexts,
    ExecMany,
    Fetch,
    Pause,
    Steps,
    StoreCore,
)

__all__ = ["AsyncSqliteStore"]

T = TypeVar("T")
logger = logging.getLogger(__name__)


class AsyncSqliteStore(GathersAsyncCalls, SweepsInTask):
    """A persistent store in a SQLite file for asyncio programs, with semantic search and TTL.

    ``conn`` is an ``aiosqlite`` connection; the store runs its own transactions on it. The sync
    methods work from other threads while the event loop that owns the store runs.
    """

    supports_ttl = True

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        self.conn = conn
        self.index_config = index
        self.ttl_config = ttl
        self._core = StoreCore(index, ttl, type(self).__name__)
        self.embeddings = self._core.index.embeddings if self._core.index else None
        self._lock = asyncio.Lock()  # one transaction at a time on the connection
        self._is_setup = False
        self._loop: asyncio.AbstractEventLoop | None = None
        with suppress(RuntimeError):  # made in async code: sync calls from other
            self._loop = asyncio.get_running_loop()  # threads work at once, as in LangGraph
        self._sweeper = AsyncTTLSweeper(self.sweep_ttl, type(self).__name__)

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> AsyncIterator[AsyncSqliteStore]:
        """Open the file (or ``":memory:"``), yield a store on it, close it afterwards."""
        async with aiosqlite.connect(conn_string, isolation_level=None) as conn:
            store = cls(conn, index=index, ttl=ttl)
            try:
                yield store
            finally:
                store._stop_gathering()
                await store.stop_ttl_sweeper()

    async def setup(self) -> None:
        """Set up the connection and apply pending migrations (safe to run from many processes)."""
        async with self._lock:
            await self._setup_locked()

    async def _setup_locked(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._drive(self._core.setup())
        self._is_setup = True

    # -- batches ---------------------------------------------------------------------------

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in one transaction; reads see the store before the batch's writes."""
        prepared = await _embed_async(self._core, self._core.prepare(list(ops)))
        async with self._lock:
            if not self._is_setup:
                await self._setup_locked()
            return await self._drive(self._core.apply(prepared))

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``abatch`` on the store's event loop from another thread and wait for it."""
        return wait_on_loop(
            self._loop,
            self.abatch(list(ops)),
            "AsyncSqliteStore's sync methods (get, put, search, batch ...) only work from "
            "a thread other than the event loop's, after the store was set up. In async code "
            "use aget, aput, asearch, abatch instead.",
        )

    # -- TTL -------------------------------------------------------------------------------

    async def sweep_ttl(self) -> int:
        """Delete every expired item now; return how many were deleted."""
        async with self._lock:
            if not self._is_setup:
                await self._setup_locked()
            return await self._drive(self._core.sweep())

    # -- the driver ------------------------------------------------------------------------

    async def _drive(self, steps: Steps[T]) -> T:
        """Carry out each effect with aiosqlite; roll back on any error."""
        result: Any = None
        try:
            while True:
                effect = steps.send(result)
                result = await self._do(effect)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except BaseException:
            with suppress(ValueError):  # aiosqlite, closed: nothing to undo
                if self.conn.in_transaction:
                    await self.conn.execute(sql.ROLLBACK)
            raise

    async def _do(self, effect: Effect) -> Any:
        started = time.monotonic()
        try:
            match effect:
                case Fetch(statement, params):
                    return list(await self.conn.execute_fetchall(statement, params))
                case ExecMany(statement, rows):
                    await self.conn.executemany(statement, rows)
                    return None
                case Attempt(statement):
                    try:
                        return list(await self.conn.execute_fetchall(statement))
                    except sqlite3.Error as exc:
                        return exc
                case Pause(seconds):
                    await asyncio.sleep(seconds)
                    return None
                case EmbedTexts(texts):
                    assert self._core.index is not None
                    return await self._core.index.aembed_documents(texts)
                case EmbedQuery(text):
                    assert self._core.index is not None
                    return await self._core.index.aembed_query(text)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite says ValueError once closed
            if isinstance(effect, EmbedTexts | EmbedQuery):  # the embedder's own error
                raise
            waited = time.monotonic() - started
            raise sql.storage_error(
                exc, self._core.describe(effect), self._core.path, waited
            ) from exc
