"""``SqliteSaver``: checkpoints in a SQLite file, durable across processes and restarts.

A thin driver over ``_core.SqliteCore``, which decides every operation as a generator of effects
(statements in ``_statements``); the async saver (``aio.AsyncSqliteSaver``) drives the same core
on aiosqlite.

Durability: the file is in WAL mode with ``synchronous=NORMAL`` by default: a committed step
survives a crash of the process, and a power loss or OS crash can lose the last commits (never
corrupt the file). ``synchronous="FULL"`` syncs every commit to disk.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from threadloom.checkpoint._inline_async import InlineAsyncSaver
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

__all__ = ["SqliteSaver"]

T = TypeVar("T")


class SqliteSaver(InlineAsyncSaver):  # its async twins run inline: sqlite3 calls are short
    """A checkpointer backed by a ``sqlite3.Connection``.

    Tables are created on first use (or by ``setup()``). Safe to share between threads of one
    process (calls are serialized) and between processes on one file (WAL, ``BEGIN IMMEDIATE``
    writes, a busy timeout). ``synchronous`` is ``"NORMAL"`` (default) or ``"FULL"`` (see the
    module docstring).

    ``conn`` must be an open ``sqlite3.Connection`` (``InvalidConnectionError`` otherwise: for a
    path, use ``from_conn_string``). Used after its connection is closed, every method raises
    ``StorageError`` saying so.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        serde: SerializerProtocol | None = None,
        synchronous: str = "NORMAL",
    ):
        check_connection(conn, "SqliteSaver", sqlite3.Connection)
        super().__init__(serde=serde)
        self.conn = conn
        self._lock = threading.RLock()
        self._core = SqliteCore(check_synchronous(synchronous))

    @classmethod
    @contextmanager
    def from_conn_string(
        cls, conn_string: str, *, synchronous: str = "NORMAL"
    ) -> Iterator[SqliteSaver]:
        """A saver on a new connection to ``conn_string`` (a path or ``":memory:"``), closed
        on exit."""
        check_conn_string(conn_string, "SqliteSaver")
        level = check_synchronous(synchronous)  # before opening anything
        try:
            conn = sqlite3.connect(conn_string, check_same_thread=False)
        except sqlite3.Error as exc:  # a missing folder, say
            raise storage_error(exc, "opening the file", os.fsdecode(conn_string), 0.0) from exc
        try:
            yield cls(conn, synchronous=level)
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

    # -- the driver ---------------------------------------------------------------------------

    def _drive(self, steps: Steps[T]) -> T:
        """Carry out each effect on the connection, under the lock; roll back on any error."""
        with self._lock:
            try:
                if self.conn.in_transaction:
                    self.conn.commit()  # a transaction the caller left open on its connection
            except sqlite3.Error as exc:  # closed, say
                raise storage_error(exc, "starting", self._core.path, 0.0) from exc
            result: Any = None
            try:
                while True:
                    result = self._do(steps.send(result))
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            except BaseException:
                with suppress(sqlite3.ProgrammingError):  # closed meanwhile: nothing to undo
                    if self.conn.in_transaction:
                        self.conn.execute(ROLLBACK)
                raise

    def _do(self, effect: Effect) -> Any:
        started = time.monotonic()
        try:
            match effect:
                case Fetch(statement, params):
                    return self.conn.execute(statement, params).fetchall()
                case Exec(statement, rows):
                    self.conn.executemany(statement, rows)
                case Attempt(statement):
                    try:
                        return self.conn.execute(statement).fetchall()
                    except sqlite3.Error as exc:
                        return exc
                case Pause(seconds):
                    time.sleep(seconds)
        except (sqlite3.Error, UnicodeEncodeError) as exc:
            waited = time.monotonic() - started
            raise storage_error(exc, describe(effect), self._core.path, waited) from exc
        return None

    # -- the API ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Create or upgrade the tables; idempotent, and run by the first call anyway."""
        self._drive(self._core.setup())

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._drive(self._core.get_tuple(self.serde, config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        steps = self._core.list_checkpoints(self.serde, config, filter, before, limit)
        while True:  # each checkpoint is read when the caller asks for it
            found = self._drive(until_found(steps))
            if found is None:
                return
            yield found

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._drive(self._core.put(self.serde, config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._drive(self._core.put_writes(self.serde, config, writes, task_id, task_path))

    def put_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The step's task writes and its checkpoint in one transaction (one commit)."""
        steps = self._core.put_step(self.serde, config, writes, checkpoint, metadata, new_versions)
        return self._drive(steps)

    def delete_thread(self, thread_id: str) -> None:
        self._drive(self._core.delete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._drive(self._core.delete_for_runs(self.serde, run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._drive(self._core.copy_thread(source_thread_id, target_thread_id))

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        self._drive(self._core.prune(self.serde, thread_ids, strategy, keep_last, before))

    def thread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        return self._drive(self._core.thread_size_report(thread_id))

    get_next_version = staticmethod(next_string_version)
