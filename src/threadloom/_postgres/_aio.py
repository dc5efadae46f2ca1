"""The connectors: run ``_core`` units of work on a psycopg connection, pool or DSN.

:class:`AsyncConnector` takes whatever the user has (a DSN, a ``psycopg.AsyncConnection`` or a
``psycopg_pool.AsyncConnectionPool``) and hands out connections set up as threadloom needs them:
autocommit (threadloom opens its own transactions), tuple rows (whatever ``row_factory`` the
connection has), no server-side prepared statements unless asked (PgBouncer in transaction mode).
``run`` executes one unit in one transaction and retries it once on a fresh connection when the
connection dropped before COMMIT (``_core.may_retry``).

This file is the one source of both connectors: ``_sync.Connector`` is GENERATED from it by
``scripts/unasync_postgres.py`` (no ``async``/``await``, psycopg's sync classes, a reentrant
``threading.RLock`` for the ``asyncio.Lock``). Edit here, then run the script.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any, TypeVar

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from threadloom._postgres._core import (
    Batch,
    Begin,
    CopyIn,
    Query,
    QueryMany,
    Steps,
    connect_error,
    may_retry,
    opens_transaction,
    translate,
)
from threadloom._postgres._settings import (
    CONNECT_KWARGS,
    check_usable,
    needs_autocommit,
    pool_kwargs,
    use_binary_params,
)

__all__ = ["AsyncConnector"]

T = TypeVar("T")
TUPLES_OK = ExecStatus.TUPLES_OK
ANSWERED = (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK)
IDLE = TransactionStatus.IDLE

Source = str | psycopg.AsyncConnection[Any] | AsyncConnectionPool[Any]


class AsyncConnector:
    """Connections for one store or saver; ``close`` releases what the connector opened."""

    def __init__(self, source: Source, *, prepare: bool = False, pipeline: bool = False) -> None:
        if not isinstance(source, str | psycopg.AsyncConnection | AsyncConnectionPool):
            raise TypeError(
                "Expected a connection string, a psycopg AsyncConnection or a psycopg_pool "
                f"AsyncConnectionPool, got {type(source).__name__} {source!r:.100}."
            )
        self.source = source
        self.prepare = False if not prepare else None  # None: psycopg's prepare_threshold rules
        self._own: psycopg.AsyncConnection[Any] | None = None  # opened from a DSN
        self.pipeline = pipeline  # keep ``_own`` in psycopg's pipeline mode (LangGraph's option)
        self._pipelines = AsyncExitStack()  # the pipeline mode of each ``_own`` opened
        self._lock = asyncio.Lock()  # one transaction at a time on a single connection

    @classmethod
    async def open(
        cls,
        conninfo: str,
        *,
        pool_config: Mapping[str, Any] | None = None,
        prepare: bool = False,
        pipeline: bool = False,
    ) -> AsyncConnector:
        """A connector owning a pool (``pool_config`` given) or one connection to ``conninfo``,
        kept in psycopg's pipeline mode with ``pipeline`` (as LangGraph's ``from_conn_string``
        does; ignored with a pool, as there)."""
        if pool_config is None:
            connector = cls(conninfo, prepare=prepare, pipeline=pipeline)
            await connector._connect()
            return connector
        probe = await cls(conninfo)._connect()  # a bad DSN fails now, not after a pool timeout
        await probe.close()
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            conninfo,
            **pool_kwargs(pool_config, prepare=prepare),
            open=False,
        )
        await pool.open()
        connector = cls(pool, prepare=prepare)
        connector._owned_pool = True
        return connector

    _owned_pool = False

    async def close(self) -> None:
        """Close the connection or pool this connector opened (never the caller's)."""
        if self._own is not None:
            with suppress(psycopg.Error):  # a dropped connection's pipeline
                await self._pipelines.aclose()
            await self._own.close()
            self._own = None
        if self._owned_pool and isinstance(self.source, AsyncConnectionPool):
            await self.source.close()

    # -- connections -------------------------------------------------------------------------

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        assert isinstance(self.source, str)
        kwargs = dict(CONNECT_KWARGS)
        if self.prepare is None:
            kwargs.pop("prepare_threshold")
        try:
            self._own = await psycopg.AsyncConnection.connect(self.source, **kwargs)
        except psycopg.Error as exc:
            raise connect_error(exc, self.source) from exc
        if self.pipeline:
            await self._pipelines.enter_async_context(self._own.pipeline())
        return self._own

    @property
    def reconnects(self) -> bool:
        """Whether a dropped connection can be replaced (DSN or pool, not a given connection)."""
        return not isinstance(self.source, psycopg.AsyncConnection)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection ready for a unit of work, held for the duration of the block."""
        if isinstance(self.source, AsyncConnectionPool):
            async with self.source.connection() as conn:
                yield await self._ready(conn)
            return
        async with self._lock:
            if isinstance(self.source, psycopg.AsyncConnection):
                yield await self._ready(self.source)
                return
            conn = self._own
            if conn is None or conn.closed or conn.broken:
                if conn is not None:
                    await conn.close()
                conn = await self._connect()
            yield await self._ready(conn)

    @staticmethod
    async def _ready(conn: psycopg.AsyncConnection[Any]) -> psycopg.AsyncConnection[Any]:
        check_usable(conn)
        use_binary_params(conn)
        if needs_autocommit(conn):
            await conn.set_autocommit(True)
        return conn

    # -- units of work -----------------------------------------------------------------------

    async def run(self, unit: Callable[[], Steps[T]], what: str, *, atomic: bool = True) -> T:
        """Run ``unit()`` in one transaction; once more on a fresh connection if it dropped.

        ``atomic=False`` runs each statement on its own (no BEGIN/COMMIT round trips): only for
        units whose statements are each safe to repeat, such as one read.
        """
        attempt = 0
        while True:
            committing = broken = False
            try:
                async with self.connection() as conn:
                    try:
                        async with AsyncExitStack() as stack:
                            begin = opens_transaction(conn, atomic)
                            result = await self._drive(conn, unit(), begin, stack)
                            committing = True
                        return result
                    except psycopg.Error:
                        broken = conn.broken or conn.closed
                        raise
            except psycopg.Error as exc:
                if may_retry(exc, broken, committing, attempt) and (self.reconnects or not broken):
                    attempt += 1
                    if broken and isinstance(self.source, AsyncConnectionPool):
                        # The server dropped connections (a restart, a proxy's idle timeout):
                        # replace every dead one now, so the retry does not draw another. No
                        # check on each checkout: that would cost a round trip per unit.
                        await self.source.check()
                    continue
                raise translate(exc, what, broken=broken, committing=committing) from exc

    async def _drive(
        self,
        conn: psycopg.AsyncConnection[Any],
        steps: Steps[T],
        begin: Begin,
        stack: AsyncExitStack,
    ) -> T:
        """Carry out each effect on ``conn``, opening the unit's transaction (on ``stack``, which
        commits it, or rolls it back when this raises) before its first statement but a solo one
        (``begin``)."""
        result: Any = None
        async with conn.cursor(row_factory=tuple_row) as cur:
            while True:
                try:
                    effect = steps.send(result)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if begin(_solo(effect)):
                    await stack.enter_async_context(conn.transaction())
                match effect:
                    case Query(statement, params):
                        await cur.execute(statement, params, prepare=self.prepare)
                        if cur.pgresult is None:  # the caller's pipeline holds the result
                            async with conn.pipeline():  # leaving a nested one syncs it
                                pass
                        # the status, not ``description`` (which builds a Column per column)
                        rows = cur.pgresult is not None and cur.pgresult.status == TUPLES_OK
                        result = await cur.fetchall() if rows else []
                    case QueryMany(statement, rows):
                        await cur.executemany(statement, rows)
                        result = None
                    case CopyIn(statement, data):
                        async with cur.copy(statement) as copy:
                            await copy.write(data)
                        result = None
                    case Batch(queries):
                        result = await self._batch(conn, queries)

    async def _batch(self, conn: psycopg.AsyncConnection[Any], queries: tuple[Query, ...]) -> Any:
        """A ``Batch``: in one pipeline (one round trip) when no transaction is open, else one
        statement after another; each one's rows, the first failure's error, None after it."""
        cursors = [conn.cursor(row_factory=tuple_row) for _ in queries]
        failed: psycopg.Error | None = None
        try:
            if conn.info.transaction_status == IDLE and psycopg.Pipeline.is_supported():
                async with conn.pipeline():  # leaving it sends them, then reads every result
                    for cur, query in zip(cursors, queries, strict=True):
                        await cur.execute(query.sql, query.params, prepare=self.prepare)
            else:
                for cur, query in zip(cursors, queries, strict=True):
                    await cur.execute(query.sql, query.params, prepare=self.prepare)
        except psycopg.Error as exc:
            if conn.broken or conn.closed:
                raise
            failed = exc
        results: list[Any] = [None] * len(queries)
        for at, cur in enumerate(cursors):
            if cur.pgresult is None or cur.pgresult.status not in ANSWERED:
                results[at] = failed  # the first that failed; those after it did not run
                break
            results[at] = await cur.fetchall() if cur.pgresult.status == TUPLES_OK else []
        return results


def _solo(effect: Any) -> bool:
    """Whether ``effect`` may run outside the unit's transaction (``_core.Query.solo``)."""
    if isinstance(effect, Batch):
        return all(query.solo for query in effect.queries)
    return isinstance(effect, Query) and effect.solo
