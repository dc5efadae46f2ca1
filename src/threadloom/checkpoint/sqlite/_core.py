"""The SQLite checkpointer core: the shared ``_sql_core.SqlCore`` on SQLite's statements.

Only ``setup`` is SQLite's own (pragmas, WAL, migrations created on first use); every other
operation is the shared generator of effects, run by ``SqliteSaver`` (``sqlite3``) and
``AsyncSqliteSaver`` (``aiosqlite``). The drivers hold the saver's lock for a whole operation.
"""

from __future__ import annotations

from threadloom._sqlite_wal import use_wal
from threadloom.checkpoint._sql_core import SqlCore
from threadloom.checkpoint.sqlite import _statements as sql
from threadloom.checkpoint.sqlite._effects import Attempt, Fetch, Pause, Steps

__all__ = ["SqliteCore"]


class SqliteCore(SqlCore):
    """Every checkpoint operation of one SQLite connection, as generators of effects."""

    def __init__(self, synchronous: str = "NORMAL") -> None:
        super().__init__(sql)
        self.synchronous = synchronous

    def setup(self) -> Steps[None]:
        """Pragmas, WAL, then create or upgrade the tables (idempotent); each migration
        commits with its record. Every operation runs this first (a no-op once done)."""
        if self.is_setup:
            return
        yield Fetch(sql.SET_BUSY_TIMEOUT)
        yield Fetch(sql.set_synchronous(self.synchronous))
        yield from use_wal(Fetch, Attempt, Pause)  # the store's setup runs the same steps
        yield self._begin_write
        yield Fetch(sql.CREATE_MIGRATIONS)
        row = (yield Fetch(sql.LAST_MIGRATION))[0]
        done = -1 if row[0] is None else int(row[0])
        for v in range(done + 1, len(sql.MIGRATIONS)):
            for statement in sql.MIGRATIONS[v]:
                yield Fetch(statement)
            yield Fetch(sql.RECORD_MIGRATION, (v,))
        yield self._commit
        self.is_setup = True
