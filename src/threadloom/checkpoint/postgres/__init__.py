"""``PostgresSaver``: checkpoints in PostgreSQL, shared by many workers on many hosts.

Same import path, constructor and ``from_conn_string(...)`` / ``setup()`` usage as LangGraph's
``langgraph.checkpoint.postgres.PostgresSaver``; same storage model, filters, conflict check and
lifecycle as threadloom's SQLite saver: the operations are the shared core's
(``checkpoint/_sql_core``) on PostgreSQL's statements (``_statements``), run as units of work of
``threadloom._postgres`` (one transaction each, one retry when the connection dropped before
``COMMIT``). ``aio.AsyncPostgresSaver`` is the asyncio twin. See ``docs/postgres.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from psycopg import Connection
from psycopg_pool import ConnectionPool

from threadloom._postgres import Connector
from threadloom.checkpoint._inline_async import InlineAsyncSaver
from threadloom.checkpoint._sql_effects import Steps, until_found
from threadloom.checkpoint._sql_saver import LISTING, Op, SqlSaver
from threadloom.checkpoint.base import CheckpointTuple
from threadloom.checkpoint.postgres._core import PgCore, once
from threadloom.checkpoint.serde.base import SerializerProtocol

__all__ = ["PostgresSaver"]

T = TypeVar("T")


class PostgresSaver(InlineAsyncSaver, SqlSaver):
    """A checkpointer in PostgreSQL (psycopg 3).

    ``conn`` is a connection string, a ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``
    (use a pool when several threads share the saver). Its settings do not matter: the saver
    runs its own transactions with the settings it needs (autocommit, tuple rows, no prepared
    statements, so PgBouncer in transaction mode works). Call ``setup()`` once per database (at
    deploy time or startup; idempotent, safe from several workers at once). ``pipe`` is
    accepted for LangGraph compatibility and not needed: a step is one transaction already.
    """

    _core: PgCore

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
        connector = Connector.open(conn_string, pool_config=pool_config, pipeline=pipeline)
        try:
            yield cls(connector, serde=serde)  # type: ignore[arg-type]
        finally:
            connector.close()

    def close(self) -> None:
        """Close the connection or pool opened from a connection string (never the caller's)."""
        self._connector.close()

    # -- the driver ---------------------------------------------------------------------------

    def _run(self, op: Op[T]) -> T:
        """Run one core operation as one unit of work (checking the setup with it, once)."""
        return self._connector.run(lambda: self._core.unit(op.make()), op.what)

    def _next_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        return self._run(Op(LISTING, once(lambda: until_found(steps), LISTING)))

    # -- the API (the rest is SqlSaver's) -----------------------------------------------------

    def setup(self) -> None:
        """Create or upgrade the tables; idempotent, safe when several workers call it."""
        self._connector.run(self._core.migrate, f"setting up {type(self).__name__}")


def _missing(module: str, name: str, saver: str) -> Exception:
    """What looking ``name`` up in ``module`` raises: LangGraph's ``Shallow`` variant of ``saver``
    (deprecated upstream since langgraph-checkpoint-postgres 2.0.20) is not provided, said so."""
    if name == saver.replace("PostgresSaver", "ShallowPostgresSaver"):
        return ImportError(
            f"threadloom has no {name} (deprecated in LangGraph since "
            f"langgraph-checkpoint-postgres 2.0.20). Use {saver} and run the graph with "
            "durability='exit' to save only the run's last checkpoint."
        )
    return AttributeError(f"module {module!r} has no attribute {name!r}")


def __getattr__(name: str) -> Any:
    raise _missing(__name__, name, "PostgresSaver")
