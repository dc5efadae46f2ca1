"""The PostgreSQL checkpointer core: the shared ``_sql_core.SqlCore`` on PostgreSQL statements.

Every operation is the shared generator of effects (``_sql_core``), run on PostgreSQL's
statements (``_statements``). ``as_unit`` turns one such operation into a unit of work of
``threadloom._postgres``, which both drivers (``PostgresSaver`` on psycopg, ``AsyncPostgresSaver``
on psycopg's async API) run in one transaction, retried once when the connection dropped before
``COMMIT``, with driver errors translated into ``StorageError``.

Only the setup is PostgreSQL's own: ``setup()`` applies versioned migrations under an advisory
lock (``_postgres.migrate``), and every other operation first checks, once per saver, that the
database is set up (``check_setup``): a forgotten ``setup()`` or a LangGraph database is a clear
error, never "relation does not exist".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from threadloom._postgres import Query, QueryMany, migrate, require_setup
from threadloom._postgres import Steps as UnitSteps
from threadloom.checkpoint._sql_core import SqlCore
from threadloom.checkpoint._sql_effects import Exec, Fetch, Steps
from threadloom.checkpoint.postgres import _statements as sql
from threadloom.errors import LangGraphDatabaseError, StorageError

__all__ = ["PgCore", "as_unit", "once"]

T = TypeVar("T")

_MARKERS = frozenset({sql.BEGIN_WRITE, sql.BEGIN_READ, sql.COMMIT})


class PgCore(SqlCore):
    """Every checkpoint operation of one PostgreSQL saver, as generators of effects."""

    def __init__(self, owner: str) -> None:
        super().__init__(sql)
        self.migrations = dataclasses.replace(sql.MIGRATIONS, owner=owner)

    def setup(self) -> Steps[None]:
        """Nothing inside an operation: the driver runs ``check_setup`` once before the first."""
        return
        yield  # pragma: no cover

    def migrate(self) -> UnitSteps[None]:
        """Create or upgrade the tables (idempotent, safe from several workers at once)."""
        yield from self._refuse_langgraph()
        yield from migrate(self.migrations)
        self.is_setup = True

    def check_setup(self) -> UnitSteps[None]:
        """Raise unless ``setup()`` made this database ready; creates nothing."""
        yield from self._refuse_langgraph()
        yield from require_setup(self.migrations)
        self.is_setup = True

    def _refuse_langgraph(self) -> UnitSteps[None]:
        """A database with LangGraph's checkpoint tables and not threadloom's is LangGraph's."""
        rows = yield Query(
            "SELECT current_database(), array(SELECT t FROM unnest(%s::text[]) t "
            "WHERE to_regclass(t) IS NOT NULL), to_regclass(%s) IS NOT NULL",
            (list(sql.LANGGRAPH_TABLES), self.migrations.table),
        )
        database, found, ours = rows[0]
        if ours or not {"checkpoints", "checkpoint_migrations"} <= set(found):
            return
        error = LangGraphDatabaseError(database, "checkpoint database", found, "docs/postgres.md")
        error.args = (
            f"Database {database!r} holds LangGraph's checkpoint tables ({', '.join(found)}), "
            f"not threadloom's. {self.migrations.owner} keeps its own tables and does not read "
            "or change LangGraph's, so the threads saved there would not be seen: point the saver "
            "at another database, or at another schema of this one (e.g. add "
            "'options=-csearch_path=threadloom' to the connection string after "
            "'CREATE SCHEMA threadloom'). To bring the threads along, run `threadloom migrate "
            "LANGGRAPH_DSN --dsn THREADLOOM_DSN`. See docs/postgres.md and "
            "docs/coming-from-langgraph.md.",
        )
        raise error


def as_unit(steps: Steps[T]) -> UnitSteps[T]:
    """One core operation as a ``threadloom._postgres`` unit of work.

    The unit runs in the driver's transaction, so the core's transaction markers run nothing,
    except a read that opens the transaction: it becomes a ``REPEATABLE READ, READ ONLY``
    snapshot, so a header and its values are read from one state of the database.
    """
    result: Any = None
    first = True
    while True:
        try:
            effect = steps.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        match effect:
            case Fetch(sql.BEGIN_READ, _) if first:
                result = yield Query(sql.READ_ONLY_SNAPSHOT)
            case Fetch(statement, _) if statement in _MARKERS:
                result = []
            case Fetch(statement, params):
                result = yield Query(statement, params)
            case Exec(statement, rows):
                result = (yield QueryMany(statement, rows)) if rows else None
            case _:
                raise TypeError(f"A PostgreSQL saver cannot carry out {effect!r}.")
        first = False


def once(make: Callable[[], T], what: str) -> Callable[[], T]:
    """``make`` for a unit that continues a listing, which cannot be run twice: a second call
    (the driver retrying after the connection dropped) is an error naming the fix."""
    calls = 0

    def unit() -> T:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise StorageError(
                f"The connection to PostgreSQL dropped while {what}; the listing cannot go on. "
                "Start the listing again (a connection pool replaces the dropped connection)."
            )
        return make()

    return unit
