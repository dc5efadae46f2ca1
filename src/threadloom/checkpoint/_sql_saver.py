"""The public API of the SQL savers, written once for every backend and both drivers.

Each operation is written once, as a builder (``threadloom._twins``): its signature, what it
does in words (for errors) and the shared core's generator of effects (``_sql_core.SqlCore``).
``sync_op`` and ``async_op`` turn a builder into the public method pair (``put`` / ``aput``),
which hands the operation to the backend's driver. A backend class adds only its connection
and its driver:

- ``_run(op)``: run ``op.make()`` on the connection, as one transaction (a driver that retries,
  PostgreSQL's, calls ``make`` again), and ``_next_found(steps)``: run a listing up to its next
  checkpoint. ``SqliteSaver`` and ``PostgresSaver`` are ``InlineAsyncSaver``s too: their async
  methods call the sync ones (the calls are short and local).
- ``AsyncSqlSaver`` adds the async methods over ``_arun`` and ``_anext_found``. Its sync methods
  hand the async method of the same name to the saver's event loop and wait
  (``_twins.waits_for``): ``AsyncSqliteSaver`` and ``AsyncPostgresSaver`` are used from sync
  code too (a graph's ``invoke`` in another thread, LangGraph's own habit), and a subclass's
  ``aput`` override serves those calls as well. On the loop's own thread that wait would
  deadlock, so it is refused with the fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from threadloom._on_loop import wait_on_loop
from threadloom._twins import (
    Work,
    async_iter,
    async_op,
    sync_iter,
    sync_op,
    waits_for,
    waits_for_iter,
)
from threadloom.checkpoint._arguments import check_list_arguments
from threadloom.checkpoint._sql_effects import Steps
from threadloom.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    StepSave,
    TaskWrites,
    ThreadSizeReport,
    next_noted_version,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from threadloom.checkpoint._sql_core import SqlCore

__all__ = ["LISTING", "AsyncSqlSaver", "Op", "SqlSaver"]

T = TypeVar("T")
P = ParamSpec("P")

LISTING = "listing checkpoints"
"""What a listing does, in words (a listing runs one unit of work per checkpoint)."""


@dataclass(slots=True)  # not frozen (a slower __init__, and one is made per call)
class Op(Work[T]):
    """One operation of a SQL saver, ready to run (treat it as read-only)."""

    what: str
    """What it does, in words, for errors ("saving a checkpoint")."""
    make: Callable[[], Steps[T]]
    """Builds the core's generator; a driver that retries calls it again."""


@dataclass(slots=True, frozen=True)
class Listing(Work[CheckpointTuple]):
    """A listing, ready to run: the core's generator, paused at each checkpoint it finds."""

    steps: Steps[None]


class SqlSaver(BaseCheckpointSaver[str]):
    """The operations of a SQL saver, and its sync methods."""

    _core: SqlCore

    def _run(self, op: Op[T]) -> T:
        """Run ``op`` on the connection, as one transaction."""
        raise NotImplementedError

    def _next_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        """Run the listing ``steps`` up to its next checkpoint (None at its end)."""
        raise NotImplementedError

    def _iterate(self, listing: Listing) -> Iterator[CheckpointTuple]:
        while (found := self._next_found(listing.steps)) is not None:
            yield found

    # -- the operations, each written once ----------------------------------------------------

    def _get_tuple(self, /, config: RunnableConfig) -> Op[CheckpointTuple | None]:
        return Op("reading a checkpoint", lambda: self._core.get_tuple(self.serde, config))

    def _list(
        self,
        /,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Listing:
        """Checkpoints newest first; each is read when the caller asks for it."""
        check_list_arguments(config, filter, before, limit)
        return Listing(self._core.list_checkpoints(self.serde, config, filter, before, limit))

    def _put(
        self,
        /,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Op[RunnableConfig]:
        return Op(
            "saving a checkpoint",
            lambda: self._core.put(self.serde, config, checkpoint, metadata, new_versions),
        )

    def _put_writes(
        self,
        /,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> Op[None]:
        return Op(
            "saving task writes",
            lambda: self._core.put_writes(self.serde, config, writes, task_id, task_path),
        )

    def _put_writes_batch(
        self, /, config: RunnableConfig, writes: Sequence[TaskWrites]
    ) -> Op[None]:
        """Several tasks' writes in one transaction (one commit)."""
        return Op(
            "saving task writes",
            lambda: self._core.put_writes_batch(self.serde, config, writes),
        )

    def _put_step(
        self,
        /,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Op[RunnableConfig]:
        """The step's task writes and its checkpoint in one transaction (one commit)."""
        return Op(
            "saving a step",
            lambda: self._core.put_step(
                self.serde, config, writes, checkpoint, metadata, new_versions
            ),
        )

    def _put_steps(self, /, steps: Sequence[StepSave]) -> Op[RunnableConfig]:
        """Steps in order (a run's input checkpoint and the step after it), in one
        transaction (one commit)."""
        if not steps:
            raise ValueError("put_steps() needs at least one step: got none")
        return Op("saving steps", lambda: self._core.put_steps(self.serde, steps))

    def _delete_thread(self, /, thread_id: str) -> Op[None]:
        return Op("deleting a thread", lambda: self._core.delete_thread(thread_id))

    def _delete_for_runs(self, /, run_ids: Sequence[str]) -> Op[None]:
        return Op("deleting runs", lambda: self._core.delete_for_runs(self.serde, run_ids))

    def _copy_thread(self, /, source_thread_id: str, target_thread_id: str) -> Op[None]:
        return Op(
            "copying a thread", lambda: self._core.copy_thread(source_thread_id, target_thread_id)
        )

    def _prune(
        self,
        /,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> Op[None]:
        return Op(
            "pruning threads",
            lambda: self._core.prune(self.serde, thread_ids, strategy, keep_last, before),
        )

    def _thread_size_report(self, /, thread_id: str) -> Op[ThreadSizeReport]:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        return Op("measuring a thread", lambda: self._core.thread_size_report(thread_id))

    # -- the sync methods ---------------------------------------------------------------------

    get_tuple = sync_op(_get_tuple)
    list = sync_iter(_list)
    put = sync_op(_put)
    put_writes = sync_op(_put_writes)
    put_writes_batch = sync_op(_put_writes_batch)
    put_step = sync_op(_put_step)
    put_steps = sync_op(_put_steps)
    delete_thread = sync_op(_delete_thread)
    delete_for_runs = sync_op(_delete_for_runs)
    copy_thread = sync_op(_copy_thread)
    prune = sync_op(_prune)
    thread_size_report = sync_op(_thread_size_report)

    get_next_version = staticmethod(next_noted_version)


class AsyncSqlSaver(SqlSaver):
    """A SQL saver bound to ``self.loop``: async methods, and sync ones that wait on the loop."""

    loop: asyncio.AbstractEventLoop
    _sync_twin: str = "the sync saver"
    """What to use from sync code on the loop's thread (named in the error)."""

    async def _arun(self, op: Op[T]) -> T:
        """Run ``op`` on the connection, as one transaction."""
        raise NotImplementedError

    async def _anext_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        """Run the listing ``steps`` up to its next checkpoint (None at its end)."""
        raise NotImplementedError

    async def _aiterate(self, listing: Listing) -> AsyncIterator[CheckpointTuple]:
        while (found := await self._anext_found(listing.steps)) is not None:
            yield found

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the saver's loop from another thread and wait for its result."""
        return wait_on_loop(
            self.loop,
            coro,
            f"{type(self).__name__}'s sync methods cannot be called from its event loop's "
            "thread (waiting there would deadlock): use the async methods (ainvoke, "
            f"aget_tuple, ...) or a {self._sync_twin} for sync code.",
        )

    aget_tuple = async_op(SqlSaver._get_tuple)
    alist = async_iter(SqlSaver._list)
    aput = async_op(SqlSaver._put)
    aput_writes = async_op(SqlSaver._put_writes)
    aput_writes_batch = async_op(SqlSaver._put_writes_batch)
    aput_step = async_op(SqlSaver._put_step)
    aput_steps = async_op(SqlSaver._put_steps)
    adelete_thread = async_op(SqlSaver._delete_thread)
    adelete_for_runs = async_op(SqlSaver._delete_for_runs)
    acopy_thread = async_op(SqlSaver._copy_thread)
    aprune = async_op(SqlSaver._prune)
    athread_size_report = async_op(SqlSaver._thread_size_report)

    # The sync methods wait for the async ones, called by name: a subclass overriding ``aput``
    # (or ``aget_tuple``, ...) is what sync callers and the sync engine reach, as in LangGraph.
    get_tuple = waits_for(aget_tuple)
    list = waits_for_iter(alist)
    put = waits_for(aput)
    put_writes = waits_for(aput_writes)
    put_writes_batch = waits_for(aput_writes_batch)
    put_step = waits_for(aput_step)
    put_steps = waits_for(aput_steps)
    delete_thread = waits_for(adelete_thread)
    delete_for_runs = waits_for(adelete_for_runs)
    copy_thread = waits_for(acopy_thread)
    prune = waits_for(aprune)
    thread_size_report = waits_for(athread_size_report)
