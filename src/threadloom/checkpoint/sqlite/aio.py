"""``AsyncSqliteSaver``: the SQLite checkpointer on an ``aiosqlite.Connection``.

A thin async driver over ``_core.SqliteCore`` (the same core as ``SqliteSaver``), on aiosqlite's
public API: each statement runs on aiosqlite's connection thread, so the event loop never blocks
on disk. The sync methods hand the call to the saver's loop when called from another thread, and
refuse on the loop's own thread (waiting there would deadlock), as LangGraph's do.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from threadloom.checkpoint._sql_saver import AsyncSqlSaver, Op
from threadloom.checkpoint.base import (
    CheckpointTuple,
)
from threadloom.checkpoint.serde.base import SerializerProtocol
from threadloom.checkpoint.sqlite._checks import (
    check_conn_string,
    check_connection,
    closed_error,
    describe,
    storage_error,
)
from threadloom.checkpoint.sqlite._core import SqliteCore
from threadloom.checkpoint.sqlite._effects import (
    Attempt,
    Effect,
    Exec,
    Fetch,
    Pause,
    Steps,
    until_found,
)
from threadloom.checkpoint.sqlite._statements import ROLLBACK, check_synchronous

if TYPE_CHECKING:
    pass

__all__ = ["AsyncSqliteSaver"]

T = TypeVar("T")


class AsyncSqliteSaver(AsyncSqlSaver):
    """A checkpointer backed by an ``aiosqlite.Connection``; same tables as ``SqliteSaver``.

    Made inside a running event loop, on an open ``aiosqlite.Connection``
    (``InvalidConnectionError`` otherwise: for a path, use ``from_conn_string``). Used after its
    connection or its loop is closed, every method raises ``StorageError`` saying so.
    """

    _NAME = "AsyncSqliteSaver"
    _core: SqliteCore

    _sync_twin = "SqliteSaver"

    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        serde: SerializerProtocol | None = None,
        synchronous: str = "NORMAL",
    ):
        check_connection(conn, self._NAME, aiosqlite.Connection)
        super().__init__(serde=serde)
        self.conn = conn
        self.loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()
        self._core = SqliteCore(check_synchronous(synchronous))

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, *, synchronous: str = "NORMAL"
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on a new aiosqlite connection to ``conn_string``, closed on exit."""
        check_conn_string(conn_string, cls._NAME)
        level = check_synchronous(synchronous)
        try:
            conn = await aiosqlite.connect(conn_string)
        except sqlite3.Error as exc:  # a missing folder, say
            raise storage_error(exc, "opening the file", os.fsdecode(conn_string), 0.0) from exc
        try:
            yield cls(conn, synchronous=level)
        finally:
            await conn.close()

    # -- the driver ---------------------------------------------------------------------------

    async def _drive(self, steps: Steps[T]) -> T:
        """Carry out each effect on the connection, under the lock; roll back on any error."""
        async with self._lock:
            try:
                if self.conn.in_transaction:
                    await self.conn.commit()  # a transaction the caller left open
            except (sqlite3.Error, ValueError) as exc:  # aiosqlite: ValueError once closed
                raise storage_error(exc, "starting", self._core.path, 0.0, self._NAME) from exc
            result: Any = None
            try:
                while True:
                    result = await self._do(steps.send(result))
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            except BaseException:
                with suppress(sqlite3.ProgrammingError, ValueError):  # closed: nothing to undo
                    if self.conn.in_transaction:
                        await self.conn.execute(ROLLBACK)
                raise

    async def _do(self, effect: Effect) -> Any:
        started = time.monotonic()
        try:
            match effect:
                case Fetch(statement, params):
                    return await self.conn.execute_fetchall(statement, params)
                case Exec(statement, rows):
                    return (await self.conn.executemany(statement, rows)).rowcount
                case Attempt(statement):
                    try:
                        return await self.conn.execute_fetchall(statement)
                    except sqlite3.Error as exc:
                        return exc
                case Pause(seconds):
                    await asyncio.sleep(seconds)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite: ValueError once closed
            waited = time.monotonic() - started
            path = self._core.path
            raise storage_error(exc, describe(effect), path, waited, self._NAME) from exc
        return None

    async def _arun(self, op: Op[T]) -> T:
        return await self._drive(op.make())

    async def _anext_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        return await self._drive(until_found(steps))

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.loop.is_closed():  # the saver outlived its asyncio.run()
            coro.close()
            raise closed_error(self._NAME)
        return super()._sync(coro)

    # -- the API (the rest is AsyncSqlSaver's) ------------------------------------------------

    async def setup(self) -> None:
        """Create or upgrade the tables; idempotent, and run by the first call anyway."""
        await self._drive(self._core.setup())
