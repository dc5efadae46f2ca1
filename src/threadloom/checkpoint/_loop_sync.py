"""The sync methods of an async saver: each hands its async twin to the saver's event loop.

``AsyncSqliteSaver`` and ``AsyncPostgresSaver`` are used from sync code too (a graph's
``invoke`` in another thread, LangGraph's own habit): the call is submitted to the loop the
saver was created on and waited for. On the loop's own thread that wait would deadlock, so it
is refused with the fix. A saver using this mixin has ``loop``, ``_core`` (a ``SqlCore``) and
``_next_found`` (run a listing up to its next checkpoint).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from threadloom.checkpoint._sql_effects import Steps
from threadloom.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    TaskWrites,
    ThreadSizeReport,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from threadloom.checkpoint._sql_core import SqlCore

__all__ = ["LoopSyncSaver"]

T = TypeVar("T")


class LoopSyncSaver(BaseCheckpointSaver[str]):
    """Sync methods over the async ones of a saver bound to ``self.loop``."""

    loop: asyncio.AbstractEventLoop
    _core: SqlCore
    _sync_twin: str = "the sync saver"
    """What to use from sync code on the loop's thread (named in the error)."""

    async def _next_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        raise NotImplementedError

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            coro.close()
            raise asyncio.InvalidStateError(
                f"{type(self).__name__}'s sync methods cannot be called from its event loop's "
                "thread (waiting there would deadlock): use the async methods (ainvoke, "
                f"aget_tuple, ...) or a {self._sync_twin} for sync code."
            )
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

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
        steps = self._core.list_checkpoints(self.serde, config, filter, before, limit)
        while (found := self._sync(self._next_found(steps))) is not None:
            yield found

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

    def put_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._sync(self.aput_step(config, writes, checkpoint, metadata, new_versions))

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
