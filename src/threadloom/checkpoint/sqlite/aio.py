"""``AsyncSqliteSaver``: the SQLite checkpointer on an ``aiosqlite.Connection``.

Every call runs ``_sql.SqlCore`` (the same code as ``SqliteSaver``) on aiosqlite's own
connection thread, where its ``sqlite3.Connection`` lives, so the event loop never blocks on
disk. The sync methods hand the call to the saver's loop when called from another thread, and
refuse on the loop's own thread (waiting there would deadlock), as LangGraph's do.
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from threadloom.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    ThreadSizeReport,
    next_string_version,
)
from threadloom.checkpoint.serde.base import SerializerProtocol
from threadloom.checkpoint.sqlite._sql import SqlCore

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["AsyncSqliteSaver"]

T = TypeVar("T")


class AsyncSqliteSaver(BaseCheckpointSaver[str]):
    """A checkpointer backed by an ``aiosqlite.Connection``; same tables as ``SqliteSaver``."""

    def __init__(self, conn: aiosqlite.Connection, *, serde: SerializerProtocol | None = None):
        super().__init__(serde=serde)
        self.conn = conn
        self.loop = asyncio.get_running_loop()
        self._core = SqlCore()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(cls, conn_string: str) -> AsyncIterator[AsyncSqliteSaver]:
        """A saver on a new aiosqlite connection to ``conn_string``, closed on exit."""
        async with aiosqlite.connect(conn_string) as conn:
            yield cls(conn)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(serde, sqlite3_connection, *args)`` on the connection's thread."""

        def call() -> T:
            raw: sqlite3.Connection = self.conn._conn  # aiosqlite's connection, on its thread
            return fn(self.serde, raw, *args)

        result: T = await self.conn._execute(call)  # type: ignore[no-untyped-call]
        return result

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coro.close()
            raise asyncio.InvalidStateError(
                "AsyncSqliteSaver's sync methods cannot be called from its event loop's thread "
                "(waiting there would deadlock): use the async methods (ainvoke, aget_tuple, "
                "...) or a SqliteSaver for sync code."
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def setup(self) -> None:
        """Create or upgrade the tables; idempotent, and run by the first call anyway."""
        await self._run(lambda _serde, conn: self._core.setup(conn))

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._run(self._core.get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in await self._run(self._list, config, filter, before, limit):
            yield item

    @staticmethod
    def _serdeless(fn: Callable[..., T]) -> Callable[..., T]:
        return lambda _serde, conn, *args: fn(conn, *args)

    def _list(
        self, serde: SerializerProtocol, conn: sqlite3.Connection, *args: Any
    ) -> list[CheckpointTuple]:
        return builtins.list(
            self._core.list(serde, conn, *args)
        )  # read whole on the connection thread

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self._run(self._core.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._run(self._core.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(self._serdeless(self._core.delete_thread), thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._run(self._core.delete_for_runs, run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._run(self._serdeless(self._core.copy_thread), source_thread_id, target_thread_id)

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        await self._run(self._core.prune, thread_ids, strategy, keep_last, before)

    async def athread_size_report(self, thread_id: str) -> ThreadSizeReport:
        return await self._run(self._serdeless(self._core.thread_size_report), thread_id)

    get_next_version = staticmethod(next_string_version)

    # -- sync: handed to the saver's loop from other threads -----------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._sync(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        yield from self._sync(self._run(self._list, config, filter, before, limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._sync(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._sync(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._sync(self.adelete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._sync(self.adelete_for_runs(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._sync(self.acopy_thread(source_thread_id, target_thread_id))

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        self._sync(self.aprune(thread_ids, strategy=strategy, keep_last=keep_last, before=before))

    def thread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        return self._sync(self.athread_size_report(thread_id))
