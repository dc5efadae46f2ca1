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
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from threadloom.checkpoint._loop_sync import LoopSyncSaver
from threadloom.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    TaskWrites,
    ThreadSizeReport,
    next_string_version,
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
    from langchain_core.runnables import RunnableConfig

__all__ = ["AsyncSqliteSaver"]

T = TypeVar("T")


class AsyncSqliteSaver(LoopSyncSaver):
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
                    await self.conn.executemany(statement, rows)
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

    async def _next_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        return await self._drive(until_found(steps))

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        if self.loop.is_closed():  # the saver outlived its asyncio.run()
            coro.close()
            raise closed_error(self._NAME)
        return super()._sync(coro)

    # -- the API ------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Create or upgrade the tables; idempotent, and run by the first call anyway."""
        await self._drive(self._core.setup())

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._drive(self._core.get_tuple(self.serde, config))

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        steps = self._core.list_checkpoints(self.serde, config, filter, before, limit)
        while (found := await self._next_found(steps)) is not None:
            yield found  # each checkpoint is read when the caller asks for it

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        steps = self._core.put(self.serde, config, checkpoint, metadata, new_versions)
        return await self._drive(steps)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._drive(self._core.put_writes(self.serde, config, writes, task_id, task_path))

    async def aput_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The step's task writes and its checkpoint in one transaction (one commit)."""
        steps = self._core.put_step(self.serde, config, writes, checkpoint, metadata, new_versions)
        return await self._drive(steps)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._drive(self._core.delete_thread(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._drive(self._core.delete_for_runs(self.serde, run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._drive(self._core.copy_thread(source_thread_id, target_thread_id))

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        await self._drive(self._core.prune(self.serde, thread_ids, strategy, keep_last, before))

    async def athread_size_report(self, thread_id: str) -> ThreadSizeReport:
        return await self._drive(self._core.thread_size_report(thread_id))

    get_next_version = staticmethod(next_string_version)
