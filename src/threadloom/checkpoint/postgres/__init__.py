"""``PostgresSaver``: checkpoints in PostgreSQL, shared by many workers on many hosts.

Same import path, constructor and ``from_conn_string(...)`` / ``setup()`` usage as LangGraph's
``langgraph.checkpoint.postgres.PostgresSaver``; same storage model, filters, conflict check and
lifecycle as threadloom's SQLite saver: the operations are the shared core's
(``checkpoint/_sql_core``) on PostgreSQL's statements (``_statements``), run as units of work of
``threadloom._postgres`` (one transaction each, one retry when the connection dropped before
``COMMIT``). ``aio.AsyncPostgresSaver`` is the asyncio twin. See ``docs/postgres.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg import Connection
from psycopg_pool import ConnectionPool

from threadloom._postgres import Connector
from threadloom._postgres._settings import refuse_pipeline
from threadloom.checkpoint._inline_async import InlineAsyncSaver
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

__all__ = ["PostgresSaver"]

T = TypeVar("T")


class PostgresSaver(InlineAsyncSaver):
    """A checkpointer in PostgreSQL (psycopg 3).

    ``conn`` is a connection string, a ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``
    (use a pool when several threads share the saver). Its settings do not matter: the saver
    runs its own transactions with the settings it needs (autocommit, tuple rows, no prepared
    statements, so PgBouncer in transaction mode works). Call ``setup()`` once per database (at
    deploy time or startup; idempotent, safe from several workers at once). ``pipe`` is
    accepted for LangGraph compatibility and not needed: a step is one transaction already.
    """

    def __init__(
        self,
        conn: str | Connection[Any] | ConnectionPool[Any],
        pipe: Any = None,
        serde: SerializerProtocol | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self._connector = conn if isinstance(conn, Connector) else Connector(conn)
        self.conn = self._connector.source
        self._core = PgCore(type(self).__name__)

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pipeline: bool = False,
        pool_config: Mapping[str, Any] | None = None,
        serde: SerializerProtocol | None = None,
    ) -> Iterator[PostgresSaver]:
        """A saver on a new connection (a pool when ``pool_config`` is given), closed on exit."""
        refuse_pipeline("PostgresSaver.from_conn_string", pipeline)
        connector = Connector.open(conn_string, pool_config=pool_config)
        try:
            yield cls(connector, serde=serde)  # type: ignore[arg-type]
        finally:
            connector.close()

    def close(self) -> None:
        """Close the connection or pool opened from a connection string (never the caller's)."""
        self._connector.close()

    # -- the driver ---------------------------------------------------------------------------

    def _run(self, what: str, make: Callable[[], Steps[T]]) -> T:
        """Run one core operation as one unit of work (checking the setup first, once)."""
        if not self._core.is_setup:
            self._connector.run(self._core.check_setup, f"checking {type(self).__name__}'s tables")
        return self._connector.run(lambda: as_unit(make()), what)

    # -- the API ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Create or upgrade the tables; idempotent, safe when several workers call it."""
        self._connector.run(self._core.migrate, f"setting up {type(self).__name__}")

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._run("reading a checkpoint", lambda: self._core.get_tuple(self.serde, config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        steps = self._core.list_checkpoints(self.serde, config, filter, before, limit)
        what = "listing checkpoints"
        while (found := self._run(what, once(lambda: until_found(steps), what))) is not None:
            yield found  # each checkpoint is read when the caller asks for it

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._run(
            "saving a checkpoint",
            lambda: self._core.put(self.serde, config, checkpoint, metadata, new_versions),
        )

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._run(
            "saving task writes",
            lambda: self._core.put_writes(self.serde, config, writes, task_id, task_path),
        )

    def put_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The step's task writes and its checkpoint in one transaction (one commit)."""
        return self._run(
            "saving a step",
            lambda: self._core.put_step(
                self.serde, config, writes, checkpoint, metadata, new_versions
            ),
        )

    def delete_thread(self, thread_id: str) -> None:
        self._run("deleting a thread", lambda: self._core.delete_thread(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._run("deleting runs", lambda: self._core.delete_for_runs(self.serde, run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._run(
            "copying a thread",
            lambda: self._core.copy_thread(source_thread_id, target_thread_id),
        )

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        self._run(
            "pruning threads",
            lambda: self._core.prune(self.serde, thread_ids, strategy, keep_last, before),
        )

    def thread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        return self._run("measuring a thread", lambda: self._core.thread_size_report(thread_id))

    get_next_version = staticmethod(next_string_version)
