"""``AsyncPostgresSaver``: the PostgreSQL checkpointer on psycopg's asyncio API.

Same import path, constructor and ``from_conn_string(...)`` / ``setup()`` usage as LangGraph's
``langgraph.checkpoint.postgres.aio.AsyncPostgresSaver``. The same core and statements as
``PostgresSaver``, run by ``threadloom._postgres.AsyncConnector``; the sync methods hand the call
to the saver's loop from other threads (``_loop_sync``), as LangGraph's do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from threadloom._postgres import AsyncConnector
from threadloom._postgres._settings import refuse_pipeline
from threadloom.checkpoint._loop_sync import LoopSyncSaver
from threadloom.checkpoint._sql_effects import Steps, until_found
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
from threadloom.checkpoint.postgres._core import PgCore, as_unit, once
from threadloom.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["AsyncPostgresSaver"]

T = TypeVar("T")


class AsyncPostgresSaver(LoopSyncSaver):
    """A checkpointer in PostgreSQL on ``psycopg.AsyncConnection`` / ``AsyncConnectionPool``.

    Takes a connection string, an async connection or an async pool; see ``PostgresSaver``.
    Create it inside the event loop that will use it. Call ``await saver.setup()`` once per
    database.
    """

    _sync_twin = "PostgresSaver"
    _core: PgCore

    def __init__(
        self,
        conn: str | AsyncConnection[Any] | AsyncConnectionPool[Any],
        pipe: Any = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self._connector = conn if isinstance(conn, AsyncConnector) else AsyncConnector(conn)
        self.conn = self._connector.source
        self.loop = asyncio.get_running_loop()
        self._core = PgCore(type(self).__name__)

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: Mapping[str, Any] | None = None,
        serde: SerializerProtocol | None = None,
    ) -> AsyncIterator[AsyncPostgresSaver]:
        """A saver on a new connection (a pool when ``pool_config`` is given), closed on exit."""
        refuse_pipeline("AsyncPostgresSaver.from_conn_string", pipeline)
        connector = await AsyncConnector.open(conn_string, pool_config=pool_config)
        try:
            yield cls(connector, serde=serde)  # type: ignore[arg-type]
        finally:
            await connector.close()

    async def aclose(self) -> None:
        """Close the connection or pool opened from a connection string (never the caller's)."""
        await self._connector.close()

    # -- the driver ---------------------------------------------------------------------------

    async def _run(self, what: str, make: Callable[[], Steps[T]]) -> T:
        """Run one core operation as one unit of work (checking the setup first, once)."""
        if not self._core.is_setup:
            await self._connector.run(
                self._core.check_setup, f"checking {type(self).__name__}'s tables"
            )
        return await self._connector.run(lambda: as_unit(make()), what)

    async def _next_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        what = "listing checkpoints"
        return await self._run(what, once(lambda: until_found(steps), what))

    # -- the API ------------------------------------------------------------------------------

    async def setup(self) -> None:
        """Create or upgrade the tables; idempotent, safe when several workers call it."""
        await self._connector.run(self._core.migrate, f"setting up {type(self).__name__}")

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._run(
            "reading a checkpoint", lambda: self._core.get_tuple(self.serde, config)
        )

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
        return await self._run(
            "saving a checkpoint",
            lambda: self._core.put(self.serde, config, checkpoint, metadata, new_versions),
        )

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._run(
            "saving task writes",
            lambda: self._core.put_writes(self.serde, config, writes, task_id, task_path),
        )

    async def aput_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The step's task writes and its checkpoint in one transaction (one commit)."""
        return await self._run(
            "saving a step",
            lambda: self._core.put_step(
                self.serde, config, writes, checkpoint, metadata, new_versions
            ),
        )

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run("deleting a thread", lambda: self._core.delete_thread(thread_id))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._run("deleting runs", lambda: self._core.delete_for_runs(self.serde, run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._run(
            "copying a thread",
            lambda: self._core.copy_thread(source_thread_id, target_thread_id),
        )

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        await self._run(
            "pruning threads",
            lambda: self._core.prune(self.serde, thread_ids, strategy, keep_last, before),
        )

    async def athread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        return await self._run(
            "measuring a thread", lambda: self._core.thread_size_report(thread_id)
        )

    get_next_version = staticmethod(next_string_version)
