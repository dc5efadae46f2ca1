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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, TypeVar

from threadloom.checkpoint._inline_async import InlineAsyncSaver
from threadloom.checkpoint._sql_saver import Op, SqlSaver
from threadloom.checkpoint.base import CheckpointTuple
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

__all__ = ["SqliteSaver"]

T = TypeVar("T")


class SqliteSaver(InlineAsyncSaver, SqlSaver):  # async twins run inline: sqlite3 is quick
    """A checkpointer backed by a ``sqlite3.Connection``.

    Tables are created on first use (or by ``setup()``). Safe to share between threads of one
    process (calls are serialized) and between processes on one file (WAL, ``BEGIN IMMEDIATE``
    writes, a busy timeout). ``synchronous`` is ``"NORMAL"`` (default) or ``"FULL"`` (see the
    module docstring).

    ``conn`` must be an open ``sqlite3.Connection`` (``InvalidConnectionError`` otherwise: for a
    path, use ``from_conn_string``). Used after its connection is closed, every method raises
    ``StorageError`` saying so.
    """

    _core: SqliteCore

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
            started = time.monotonic()  # a failed statement says how long the operation waited
            result: Any = None
            conn = self.conn
            try:
                while True:
                    effect = steps.send(result)
                    kind = type(effect)  # not ``match``, nor a call per effect: a turn runs ~15
                    try:
                        if kind is Fetch:
                            result = conn.execute(effect.sql, effect.params).fetchall()  # type: ignore[union-attr]
                        elif kind is Exec:
                            result = conn.executemany(effect.sql, effect.rows).rowcount  # type: ignore[union-attr]
                        else:
                            result = self._do(effect)
                    except (sqlite3.Error, UnicodeEncodeError) as exc:
                        waited = time.monotonic() - started
                        raise storage_error(exc, describe(effect), self._core.path, waited) from exc
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            except BaseException:
                with suppress(sqlite3.ProgrammingError):  # closed meanwhile: nothing to undo
                    if self.conn.in_transaction:
                        self.conn.execute(ROLLBACK)
                raise

    def _do(self, effect: Effect) -> Any:
        """The effects other than ``Fetch`` and ``Exec`` (``_drive`` runs those)."""
        kind = type(effect)
        if kind is Attempt:
            try:
                return self.conn.execute(effect.sql).fetchall()  # type: ignore[union-attr]
            except sqlite3.Error as exc:
                return exc
        if kind is Pause:
            time.sleep(effect.seconds)  # type: ignore[union-attr]
        return None

    def _run(self, op: Op[T]) -> T:
        return self._drive(op.make())

    def _next_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        return self._drive(until_found(steps))

    # -- the API (the rest is SqlSaver's) -----------------------------------------------------

    def setup(self) -> None:
        """Create or upgrade the tables; idempotent, and run by the first call anyway."""
        self._drive(self._core.setup())
