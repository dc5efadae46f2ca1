"""The effects the SQLite checkpointer drivers carry out: those of ``_sql_effects``.

``_core.SqliteCore`` decides; a driver (``SqliteSaver`` on ``sqlite3``, ``AsyncSqliteSaver`` on
``aiosqlite``) carries out each effect on its connection and sends back the result:

- ``Fetch(sql, params)``: run one statement, result: all its rows;
- ``Exec(sql, rows)``: run one statement per parameter row, result: the number of rows it
  changed (SQLite's drivers; a driver may give None);
- ``Attempt(sql)``: run one statement that may fail, result: its rows or the ``sqlite3.Error``;
- ``Found(item)``: a listing hands one checkpoint to the caller, result: None;
- ``Pause(seconds)``: wait (retrying what another process holds up), result: None.

A driver translates a failed statement with ``_checks.storage_error`` and raises it ``from``
the driver's error.
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

__all__ = [
    "Attempt",
    "Effect",
    "Exec",
    "Fetch",
    "Found",
    "Pause",
    "Steps",
    "until_found",
]
