"""``SqliteSaver``: checkpoints in a SQLite file, durable across processes and restarts.

A thin shell over ``_sql.SqlCore``, which holds the schema and every operation; the async twin
(``aio.AsyncSqliteSaver``) runs the same core on aiosqlite's thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from threadloom.checkpoint._inline_async import InlineAsyncSaver
from threadloom.checkpoint.base import (
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

__all__ = ["SqliteSaver"]


class SqliteSaver(InlineAsyncSaver):  # its async twins run inline: sqlite3 calls are short
    """A checkpointer backed by a ``sqlite3.Connection``.

    Tables are created on first use (or by ``setup()``). Safe to share between threads of one
    process (calls are serialized) and between processes on one file (WAL, ``BEGIN IMMEDIATE``
    writes, a busy timeout).
    """

    def __init__(self, conn: sqlite3.Connection, *, serde: SerializerProtocol | None = None):
        super().__init__(serde=serde)
        self.conn = conn
        self._core = SqlCore()

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str) -> Iterator[SqliteSaver]:
        """A saver on a new connection to ``conn_string`` (a path or ``":memory:"``), closed
        on exit."""
        conn = sqlite3.connect(conn_string, check_same_thread=False)
        try:
            yield cls(conn)
        finally:
            conn.close()

    def __enter__(self) -> SqliteSaver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def setup(self) -> None:
        """Create or upgrade the tables; idempotent, and run by the first call anyway."""
        self._core.setup(self.conn)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._core.get_tuple(self.serde, self.conn, config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        yield from self._core.list(self.serde, self.conn, config, filter, before, limit)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._core.put(self.serde, self.conn, config, checkpoint, metadata, new_versions)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._core.put_writes(self.serde, self.conn, config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        self._core.delete_thread(self.conn, thread_id)

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._core.delete_for_runs(self.serde, self.conn, run_ids)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._core.copy_thread(self.conn, source_thread_id, target_thread_id)

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        self._core.prune(self.serde, self.conn, thread_ids, strategy, keep_last, before)

    def thread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        return self._core.thread_size_report(self.conn, thread_id)

    get_next_version = staticmethod(next_string_version)
