"""The effects the SQLite checkpointer drivers carry out (``_sql_effects``), and their errors.

``_core.SqliteCore`` decides; a driver (``SqliteSaver`` on ``sqlite3``, ``AsyncSqliteSaver`` on
``aiosqlite``) carries out each effect on its connection and sends back the result:

- ``Fetch(sql, params)``: run one statement, result: all its rows;
- ``Exec(sql, rows)``: run one statement per parameter row, result: None;
- ``Attempt(sql)``: run one statement that may fail, result: its rows or the ``sqlite3.Error``;
- ``Found(item)``: a listing hands one checkpoint to the caller, result: None;
- ``Pause(seconds)``: wait (retrying what another process holds up), result: None.

A driver translates a failed statement with ``storage_error`` and raises it ``from`` the
driver's error.
"""

from __future__ import annotations

from threadloom.checkpoint._sql_effects import (
    Attempt,
    Effect,
    Exec,
    Fetch,
    Found,
    Pause,
    Steps,
    until_found,
)
from threadloom.checkpoint.sqlite import _statements as sql
from threadloom.errors import StorageError

__all__ = [
    "Attempt",
    "Effect",
    "Exec",
    "Fetch",
    "Found",
    "Pause",
    "Steps",
    "storage_error",
    "until_found",
]


def storage_error(exc: Exception, effect: Effect | None) -> StorageError:
    """Our error for a driver failure (``effect`` None: the connection itself failed); the
    driver raises it ``from exc``."""
    text = str(exc)
    if "closed" in text.lower() or "no active connection" in text.lower():
        return StorageError(
            f"The SQLite checkpointer's connection is closed ({exc}): use the saver inside "
            "its `with SqliteSaver.from_conn_string(...)` (or `async with` for "
            "AsyncSqliteSaver) block, or give it an open connection."
        )
    hint = ""
    if "locked" in text or "busy" in text:
        hint = (
            " Another connection held the write lock for longer than the busy timeout "
            f"({sql.BUSY_TIMEOUT_MS // 1000} s): keep write transactions short, or retry."
        )
    statement = getattr(effect, "sql", "")
    return StorageError(f"SQLite checkpointer failed running {statement[:60]!r}: {exc}.{hint}")
