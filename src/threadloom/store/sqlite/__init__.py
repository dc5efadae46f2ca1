"""SqliteStore: the store in one SQLite file, shared safely by several processes.

This module is the sync driver: it carries out the effects that ``_core`` yields with the
``sqlite3`` module, and nothing else. ``aio.AsyncSqliteStore`` is its asyncio twin, importable
from here too, as from LangGraph's ``langgraph.store.sqlite`` (loaded on first use).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

from threadloom.store._ttl import SweepsInThread, TTLSweeper
from threadloom.store.base import IndexConfig, Op, Result, TTLConfig
from threadloom.store.sqlite import _sql as sql
from threadloom.store.sqlite._core import (
    Attempt,
    Effect,
    EmbedQuery,
    EmbedTexts,
    ExecMany,
    Fetch,
    Pause,
    Prepared,
    Steps,
    StoreCore,
)

if TYPE_CHECKING:
    from threadloom.store.sqlite.aio import AsyncSqliteStore

__all__ = ["AsyncSqliteStore", "SqliteStore"]

T = TypeVar("T")


class SqliteStore(SweepsInThread):
    """A persistent store in a SQLite file, with semantic search and TTL.

    ``conn`` is a ``sqlite3`` connection (``check_same_thread=False`` to share the store across
    threads); the store runs its own transactions on it. ``index`` turns on semantic search
    (``{"dims": 384, "embed": ..., "fields": ["text"]}``), ``ttl`` sets expiry defaults.
    Call ``setup()`` once per connection (``batch`` does it on first use otherwise).
    """

    supports_ttl = True

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        self.conn = conn
        self.index_config = index
        self.ttl_config = ttl
        self._core = StoreCore(index, ttl, type(self).__name__)
        self.embeddings = self._core.index.embeddings if self._core.index else None
        self._lock = threading.RLock()  # one transaction at a time on the connection
        self._is_setup = False
        self._sweeper = TTLSweeper(self.sweep_ttl, type(self).__name__)

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> Iterator[SqliteStore]:
        """Open the file (or ``":memory:"``), yield a store on it, close it afterwards."""
        conn = sqlite3.connect(conn_string, check_same_thread=False, isolation_level=None)
        try:
            store = cls(conn, index=index, ttl=ttl)
            try:
                yield store
            finally:
                store.stop_ttl_sweeper()
        finally:
            conn.close()

    def setup(self) -> None:
        """Set up the connection and apply pending migrations (safe to run from many processes)."""
        with self._lock:
            self._drive(self._core.setup())
            self._is_setup = True

    # -- batches ---------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in one transaction; reads see the store before the batch's writes."""
        prepared = self._drive(self._core.prepare(list(ops)))  # embeds without holding the lock
        return self._apply(prepared)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of ``batch``: embeds with the async embedder, runs SQL in a thread."""
        prepared = await _embed_async(self._core, self._core.prepare(list(ops)))
        return await asyncio.to_thread(self._apply, prepared)

    def _apply(self, prepared: Prepared) -> list[Result]:
        with self._lock:
            if not self._is_setup:
                self.setup()
            return self._drive(self._core.apply(prepared))

    # -- TTL -------------------------------------------------------------------------------

    def sweep_ttl(self) -> int:
        """Delete every expired item now; return how many were deleted."""
        with self._lock:
            if not self._is_setup:
                self.setup()
            return self._drive(self._core.sweep())

    async def asweep_ttl(self) -> int:
        """Async twin of ``sweep_ttl``."""
        return await asyncio.to_thread(self.sweep_ttl)

    # -- the driver ------------------------------------------------------------------------

    def _drive(self, steps: Steps[T]) -> T:
        """Carry out each effect with sqlite3; roll back on any error."""
        result: Any = None
        try:
            while True:
                effect = steps.send(result)
                result = self._do(effect)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except BaseException:
            with suppress(sqlite3.ProgrammingError):  # a closed connection has nothing to undo
                if self.conn.in_transaction:
                    self.conn.execute(sql.ROLLBACK)
            raise

    def _do(self, effect: Effect) -> Any:
        started = time.monotonic()
        try:
            match effect:
                case Fetch(statement, params):
                    return self.conn.execute(statement, params).fetchall()
                case ExecMany(statement, rows):
                    self.conn.executemany(statement, rows)
                    return None
                case Attempt(statement):
                    try:
                        return self.conn.execute(statement).fetchall()
                    except sqlite3.Error as exc:
                        return exc
                case Pause(seconds):
                    time.sleep(seconds)
                    return None
                case EmbedTexts(texts):
                    assert self._core.index is not None
                    return self._core.index.embed_documents(texts)
                case EmbedQuery(text):
                    assert self._core.index is not None
                    return self._core.index.embed_query(text)
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            if isinstance(effect, EmbedTexts | EmbedQuery):  # the embedder's own error
                raise
            waited = time.monotonic() - started
            raise sql.storage_error(
                exc, self._core.describe(effect), self._core.path, waited
            ) from exc


async def _embed_async(core: StoreCore, steps: Steps[Prepared]) -> Prepared:
    """Run ``prepare`` with the embedder's async methods (it yields no SQL)."""
    result: Any = None
    try:
        while True:
            effect = steps.send(result)
            assert core.index is not None and isinstance(effect, EmbedTexts | EmbedQuery)
            if isinstance(effect, EmbedTexts):
                result = await core.index.aembed_documents(effect.texts)
            else:
                result = await core.index.aembed_query(effect.text)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "AsyncSqliteStore":  # aio imports this module: bound on first use
        from threadloom.store.sqlite.aio import AsyncSqliteStore

        return AsyncSqliteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
