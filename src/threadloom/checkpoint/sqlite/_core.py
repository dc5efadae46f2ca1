"""The SQLite checkpointer core: the shared ``_sql_core.SqlCore`` on SQLite's statements.

Only ``setup`` is SQLite's own (pragmas, WAL, checks of the file, migrations created on first
use: ``_checks.open_file``) and the token that says nothing changed (``_sql_head``); every
other operation is the shared generator of effects, run by
``SqliteSaver`` (``sqlite3``) and ``AsyncSqliteSaver`` (``aiosqlite``). The drivers hold the
saver's lock for a whole operation.
"""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint._sql_core import SqlCore
from threadloom.checkpoint.sqlite import _statements as sql
from threadloom.checkpoint.sqlite._checks import database_path, open_file
from threadloom.checkpoint.sqlite._effects import Fetch, Steps

__all__ = ["SqliteCore"]


class SqliteCore(SqlCore):
    """Every checkpoint operation of one SQLite connection, as generators of effects."""

    metadata_json_only = True  # a TEXT column gives back its text; ``HEADERS_AT`` reads it

    def __init__(self, synchronous: str = "NORMAL") -> None:
        super().__init__(sql)
        self.synchronous = synchronous
        self.path: str | None = None
        """The database file, learnt by ``setup`` (for messages)."""

    def setup(self) -> Steps[None]:
        """Pragmas, WAL, checks, then create or upgrade the tables (``_checks.open_file``).
        Every operation runs this first (a no-op once done)."""
        if self.is_setup:
            return
        self.path = yield from database_path()  # first: every later error names the file
        yield from open_file(self.synchronous, self.path)
        self.is_setup = True

    def head_token(self) -> Steps[Any]:
        rows = yield Fetch(sql.HEAD_TOKEN)
        return tuple(rows[0])

    def token_after_put(self, upserted: Any) -> Any:
        if not upserted:  # SQLite before 3.35: no RETURNING, no kept heads
            return None
        data_version, changes = upserted[0]
        return (data_version, changes + 1)
