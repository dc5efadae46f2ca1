"""``InMemorySaver``'s pending-write calls (``put_writes`` and its batched forms), a base class
of the saver: how the writes are kept is ``_memory_writes``'s."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from threadloom.checkpoint._memory_lifecycle import MemoryLifecycle
from threadloom.checkpoint._memory_rows import StoredThread
from threadloom.checkpoint._memory_writes import (
    WriteBatch,
    encode_batch,
    store_batches,
    writes_address,
)
from threadloom.checkpoint.base import TaskWrites
from threadloom.checkpoint.serde.base import SerializerProtocol, shared_encodings
from threadloom.constants import TASKS

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["MemoryWriteCalls"]


class MemoryWriteCalls(MemoryLifecycle):
    """The pending-write methods of ``InMemorySaver`` (its base class)."""

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._write_at(*writes_address(config), writes, task_id, task_path)

    def writer_at(
        self, config: RunnableConfig
    ) -> Callable[[Sequence[tuple[str, Any]], str, str], None]:
        """``put_writes`` at ``config``'s checkpoint, as a function of ``(writes, task_id,
        task_path)``: the address read once, for the many ``@task`` calls of one superstep
        (the engine asks only when ``put_writes`` and ``aput_writes`` are this class's own)."""
        return partial(self._write_at, *writes_address(config))

    def _write_at(
        self,
        thread_id: str,
        ns: str,
        checkpoint_id: str,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> None:
        batch = encode_batch(self.serde, writes, task_id, task_path)
        with self._lock:
            self._add_batches(thread_id, ns, checkpoint_id, (batch,))

    def put_writes_batch(self, config: RunnableConfig, writes: Sequence[TaskWrites]) -> None:
        """Several tasks' writes: each encoded first, then stored under one lock acquisition."""
        thread_id, ns, checkpoint_id = writes_address(config)
        serde = self.serde
        batches = [encode_batch(serde, w, task, path) for task, path, w in writes]
        with self._lock:
            self._add_batches(thread_id, ns, checkpoint_id, batches)

    def _encode_step_writes(
        self, writes: Sequence[TaskWrites]
    ) -> tuple[SerializerProtocol, builtins.list[WriteBatch]]:
        """The step's writes encoded, and the serializer to encode its checkpoint with."""
        serde = self.serde
        # a Send in the writes and in the checkpoint's packets is encoded once; only the
        # tasks channel holds one (a serializer clone per step cost ~10 us of chain100's ~110)
        for _, _, task_writes in writes:
            for channel, _ in task_writes:
                if channel == TASKS:
                    serde = shared_encodings(serde)
                    break
            else:
                continue
            break
        return serde, [encode_batch(serde, w, task, path) for task, path, w in writes]

    def _add_batches(
        self, thread_id: str, ns: str, checkpoint_id: str, batches: Sequence[WriteBatch]
    ) -> None:
        """Store the writes of calls made together, in order (under the lock; never fails):
        the thread and the checkpoint's writes are looked up once for all of them."""
        thread = self._threads.get(thread_id)
        if thread is None:
            thread = self._threads[thread_id] = StoredThread()
        elif thread.pending:
            thread.settle()
        store_batches(thread, (ns, checkpoint_id), batches)
