"""``AsyncPostgresSaver``: the PostgreSQL checkpointer on psycopg's asyncio API.

Same import path, constructor and ``from_conn_string(...)`` / ``setup()`` usage as LangGraph's
``langgraph.checkpoint.postgres.aio.AsyncPostgresSaver``. The same core and statements as
``PostgresSaver``, run by ``threadloom._postgres.AsyncConnector``; the sync methods hand the call
to the saver's loop from other threads (``_loop_sync``), as LangGraph's do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from threadloom._postgres import AsyncConnector
from threadloom.checkpoint._sql_effects import Steps, until_found
from threadloom.checkpoint._sql_saver import LISTING, AsyncSqlSaver, Op
from threadloom.checkpoint.base import (
    CheckpointTuple,
)
from threadloom.checkpoint.postgres import _missing
from threadloom.checkpoint.postgres._core import PgCore, once
from threadloom.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    pass

__all__ = ["AsyncPostgresSaver"]

T = TypeVar("T")


class AsyncPostgresSaver(AsyncSqlSaver):
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
        connector = await AsyncConnector.open(
            conn_string, pool_config=pool_config, pipeline=pipeline
        )
        try:
            yield cls(connector, serde=serde)  # type: ignore[arg-type]
        finally:
            await connector.close()

    async def aclose(self) -> None:
        """Close the connection or pool opened from a connection string (never the caller's)."""
        await self._connector.close()

    # -- the driver ---------------------------------------------------------------------------

    async def _arun(self, op: Op[T]) -> T:
        """Run one core operation as one unit of work (checking the setup with it, once)."""
        return await self._connector.run(lambda: self._core.unit(op.make()), op.what)

    async def _anext_found(self, steps: Steps[None]) -> CheckpointTuple | None:
        return await self._arun(Op(LISTING, once(lambda: until_found(steps), LISTING)))

    # -- the API (the rest is AsyncSqlSaver's) ------------------------------------------------

    async def setup(self) -> None:
        """Create or upgrade the tables; idempotent, safe when several workers call it."""
        await self._connector.run(self._core.migrate, f"setting up {type(self).__name__}")


def __getattr__(name: str) -> Any:
    raise _missing(__name__, name, "AsyncPostgresSaver")
