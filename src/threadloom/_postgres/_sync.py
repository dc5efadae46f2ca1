"""The sync connector. GENERATED from ``_aio.py`` by ``scripts/unasync_postgres.py``: do not
edit, edit the async file and run the script.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from typing import Any, TypeVar

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

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

__all__ = ["Connector"]

T = TypeVar("T")
TUPLES_OK = ExecStatus.TUPLES_OK
ANSWERED = (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK)
IDLE = TransactionStatus.IDLE

Source = str | psycopg.Connection[Any] | ConnectionPool[Any]


class Connector:
    """Connections for one store or saver; ``close`` releases what the connector opened."""

    def __init__(self, source: Source, *, prepare: bool = False, pipeline: bool = False) -> None:
        if not isinstance(source, str | psycopg.Connection | ConnectionPool):
            raise TypeError(
                "Expected a connection string, a psycopg Connection or a psycopg_pool "
                f"ConnectionPool, got {type(source).__name__} {source!r:.100}."
            )
        self.source = source
        self.prepare = False if not prepare else None  # None: psycopg's prepare_threshold rules
        self._own: psycopg.Connection[Any] | None = None  # opened from a DSN
        self.pipeline = pipeline  # keep ``_own`` in psycopg's pipeline mode (LangGraph's option)
        self._pipelines = ExitStack()  # the pipeline mode of each ``_own`` opened
        self._lock = threading.RLock()  # one transaction at a time on a single connection

    @classmethod
    def open(
        cls,
        conninfo: str,
        *,
        pool_config: Mapping[str, Any] | None = None,
        prepare: bool = False,
        pipeline: bool = False,
    ) -> Connector:
        """A connector owning a pool (``pool_config`` given) or one connection to ``conninfo``,
        kept in psycopg's pipeline mode with ``pipeline`` (as LangGraph's ``from_conn_string``
        does; ignored with a pool, as there)."""
        if pool_config is None:
            connector = cls(conninfo, prepare=prepare, pipeline=pipeline)
            connector._connect()
            return connector
        probe = cls(conninfo)._connect()  # a bad DSN fails now, not after a pool timeout
        probe.close()
        pool: ConnectionPool[Any] = ConnectionPool(
            conninfo,
            **pool_kwargs(pool_config, prepare=prepare),
            open=False,
        )
        pool.open()
        connector = cls(pool, prepare=prepare)
        connector._owned_pool = True
        return connector

    _owned_pool = False

    def close(self) -> None:
        """Close the connection or pool this connector opened (never the caller's)."""
        if self._own is not None:
            with suppress(psycopg.Error):  # a dropped connection's pipeline
                self._pipelines.close()
            self._own.close()
            self._own = None
        if self._owned_pool and isinstance(self.source, ConnectionPool):
            self.source.close()

    # -- connections -------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        assert isinstance(self.source, str)
        kwargs = dict(CONNECT_KWARGS)
        if self.prepare is None:
            kwargs.pop("prepare_threshold")
        try:
            self._own = psycopg.Connection.connect(self.source, **kwargs)
        except psycopg.Error as exc:
            raise connect_error(exc, self.source) from exc
        if self.pipeline:
            self._pipelines.enter_context(self._own.pipeline())
        return self._own

    @property
    def reconnects(self) -> bool:
        """Whether a dropped connection can be replaced (DSN or pool, not a given connection)."""
        return not isinstance(self.source, psycopg.Connection)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection ready for a unit of work, held for the duration of the block."""
        if isinstance(self.source, ConnectionPool):
            with self.source.connection() as conn:
                yield self._ready(conn)
            return
        with self._lock:
            if isinstance(self.source, psycopg.Connection):
                yield self._ready(self.source)
                return
            conn = self._own
            if conn is None or conn.closed or conn.broken:
                if conn is not None:
                    conn.close()
                conn = self._connect()
            yield self._ready(conn)

    @staticmethod
    def _ready(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        check_usable(conn)
        use_binary_params(conn)
        if needs_autocommit(conn):
            conn.set_autocommit(True)
        return conn

    # -- units of work -----------------------------------------------------------------------

    def run(self, unit: Callable[[], Steps[T]], what: str, *, atomic: bool = True) -> T:
        """Run ``unit()`` in one transaction; once more on a fresh connection if it dropped.

        ``atomic=False`` runs each statement on its own (no BEGIN/COMMIT round trips): only for
        units whose statements are each safe to repeat, such as one read.
        """
        attempt = 0
        while True:
            committing = broken = False
            try:
                with self.connection() as conn:
                    try:
                        with ExitStack() as stack:
                            begin = opens_transaction(conn, atomic)
                            result = self._drive(conn, unit(), begin, stack)
                            committing = True
                        return result
                    except psycopg.Error:
                        broken = conn.broken or conn.closed
                        raise
            except psycopg.Error as exc:
                if may_retry(exc, broken, committing, attempt) and (self.reconnects or not broken):
                    attempt += 1
                    if broken and isinstance(self.source, ConnectionPool):
                        # The server dropped connections (a restart, a proxy's idle timeout):
                        # replace every dead one now, so the retry does not draw another. No
                        # check on each checkout: that would cost a round trip per unit.
                        self.source.check()
                    continue
                raise translate(exc, what, broken=broken, committing=committing) from exc

    def _drive(
        self,
        conn: psycopg.Connection[Any],
        steps: Steps[T],
        begin: Begin,
        stack: ExitStack,
    ) -> T:
        """Carry out each effect on ``conn``, opening the unit's transaction (on ``stack``, which
        commits it, or rolls it back when this raises) before its first statement but a solo one
        (``begin``)."""
        result: Any = None
        with conn.cursor(row_factory=tuple_row) as cur:
            while True:
                try:
                    effect = steps.send(result)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                if begin(_solo(effect)):
                    stack.enter_context(conn.transaction())
                match effect:
                    case Query(statement, params):
                        cur.execute(statement, params, prepare=self.prepare)
                        if cur.pgresult is None:  # the caller's pipeline holds the result
                            with conn.pipeline():  # leaving a nested one syncs it
                                pass
                        # the status, not ``description`` (which builds a Column per column)
                        rows = cur.pgresult is not None and cur.pgresult.status == TUPLES_OK
                        result = cur.fetchall() if rows else []
                    case QueryMany(statement, rows):
                        cur.executemany(statement, rows)
                        result = None
                    case CopyIn(statement, data):
                        with cur.copy(statement) as copy:
                            copy.write(data)
                        result = None
                    case Batch(queries):
                        result = self._batch(conn, queries)

    def _batch(self, conn: psycopg.Connection[Any], queries: tuple[Query, ...]) -> Any:
        """A ``Batch``: in one pipeline (one round trip) when no transaction is open, else one
        statement after another; each one's rows, the first failure's error, None after it."""
        cursors = [conn.cursor(row_factory=tuple_row) for _ in queries]
        failed: psycopg.Error | None = None
        try:
            if conn.info.transaction_status == IDLE and psycopg.Pipeline.is_supported():
                with conn.pipeline():  # leaving it sends them, then reads every result
                    for cur, query in zip(cursors, queries, strict=True):
                        cur.execute(query.sql, query.params, prepare=self.prepare)
            else:
                for cur, query in zip(cursors, queries, strict=True):
                    cur.execute(query.sql, query.params, prepare=self.prepare)
        except psycopg.Error as exc:
            if conn.broken or conn.closed:
                raise
            failed = exc
        results: list[Any] = [None] * len(queries)
        for at, cur in enumerate(cursors):
            if cur.pgresult is None or cur.pgresult.status not in ANSWERED:
                results[at] = failed  # the first that failed; those after it did not run
                break
            results[at] = cur.fetchall() if cur.pgresult.status == TUPLES_OK else []
        return results


def _solo(effect: Any) -> bool:
    """Whether ``effect`` may run outside the unit's transaction (``_core.Query.solo``)."""
    if isinstance(effect, Batch):
        return all(query.solo for query in effect.queries)
    return isinstance(effect, Query) and effect.solo
