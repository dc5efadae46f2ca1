"""What the SQLite checkpointers check before and while they use a connection and its file.

- ``check_connection``: the saver got an open connection of the right kind, not a path (the
  usual slip: ``SqliteSaver("file.db")``) or anything else; ``check_conn_string`` the same for
  ``from_conn_string``.
- ``open_file``: the setup every operation runs first, as effects for both drivers. It reads
  before it writes: a file that is already set up needs no write lock (so opening it works
  while another connection writes, and on a read-only file), and a file whose tables are not
  threadloom's (LangGraph's checkpointer, another program's) is refused by name before
  anything is created in it.
- ``storage_error``: a driver's failure as our ``StorageError``, naming the file and the fix
  (a closed saver, a read-only file, a file that is not a database, a lock with the time this
  call really waited).
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any, Final

from threadloom._sqlite_wal import lock_hint, use_wal
from threadloom.checkpoint.sqlite import _statements as sql
from threadloom.checkpoint.sqlite._effects import Attempt, Fetch, Pause, Steps
from threadloom.errors import (
    InvalidConnectionError,
    LangGraphDatabaseError,
    StorageError,
    UnstorableTextError,
)

__all__ = [
    "check_conn_string",
    "check_connection",
    "check_tables",
    "closed_error",
    "database_path",
    "describe",
    "open_file",
    "storage_error",
]

DOCS: Final = "docs/checkpoints.md"
MIGRATIONS_TABLE: Final = "checkpoint_migrations"
OWN_TABLES: Final = frozenset(sql.TABLES)
LANGGRAPH_CHECKPOINT_COLUMNS: Final = frozenset(
    {
        "thread_id",
        "checkpoint_ns",
        "checkpoint_id",
        "parent_checkpoint_id",
        "type",
        "checkpoint",
        "metadata",
    }
)
"""The columns of ``checkpoints`` in a file made by langgraph-checkpoint-sqlite (3.1.2, seen
in a file its ``SqliteSaver`` set up); it also makes ``writes`` and no migrations table."""

DATABASE_LIST: Final = "PRAGMA database_list"  # answers even on a file that is not a database
TABLE_COLUMNS: Final = (
    "SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p "
    "WHERE m.type = 'table' AND m.name IN "
    f"({', '.join(repr(t) for t in sorted(OWN_TABLES | {MIGRATIONS_TABLE}))})"
)
"""The columns of the tables the checkpointer would use, if the file has any of them."""

_BUSY_TIMEOUT_S: Final = sql.BUSY_TIMEOUT_MS / 1000


# -- the connection -----------------------------------------------------------------------


def _opening_fix(saver: str, path: str) -> str:
    if saver == "AsyncSqliteSaver":
        return (
            f"To open a file, use `async with AsyncSqliteSaver.from_conn_string({path!r}) as "
            "saver:` (the connection is closed when the block ends), or pass "
            f"`await aiosqlite.connect({path!r})`."
        )
    return (
        f"To open a file, use `with SqliteSaver.from_conn_string({path!r}) as saver:` (the "
        "connection is closed when the block ends), or pass "
        f"sqlite3.connect({path!r}, check_same_thread=False)."
    )


def check_connection(conn: Any, saver: str, expected: type[Any]) -> None:
    """Refuse anything but an open ``expected`` connection, saying what to pass instead."""
    wanted = f"an open {expected.__module__.split('.')[0]}.{expected.__name__}"
    if isinstance(conn, expected):
        try:
            conn.in_transaction  # noqa: B018 - raises once closed (aiosqlite: or not yet open)
        except (sqlite3.Error, ValueError):
            awaited = " (await aiosqlite.connect(...) before passing it)" * (saver != "SqliteSaver")
            fix = f"It is closed, or not open yet{awaited}. {_opening_fix(saver, 'checkpoints.db')}"
            raise InvalidConnectionError(saver, conn, wanted, fix) from None
        return
    if isinstance(conn, str | bytes | os.PathLike):
        path = os.fsdecode(conn)
        raise InvalidConnectionError(saver, conn, wanted, _opening_fix(saver, path))
    module = type(conn).__module__
    if saver == "SqliteSaver" and module.startswith("aiosqlite"):
        fix = "It is an aiosqlite connection: use AsyncSqliteSaver(conn) in async code."
    elif saver == "AsyncSqliteSaver" and isinstance(conn, sqlite3.Connection):
        fix = "It is a sqlite3 connection: use SqliteSaver(conn), or connect with aiosqlite."
    else:
        fix = _opening_fix(saver, "checkpoints.db")
    raise InvalidConnectionError(saver, conn, wanted, fix)


def check_conn_string(conn_string: object, saver: str) -> None:
    """``from_conn_string`` takes a path (or ``":memory:"``, or a ``file:`` URI)."""
    if not isinstance(conn_string, str | os.PathLike):
        raise InvalidConnectionError(
            f"{saver}.from_conn_string",
            conn_string,
            'a path such as "checkpoints.db" (or ":memory:")',
            f"To use a connection you opened yourself, pass it to {saver}(conn) instead.",
        )


# -- setup --------------------------------------------------------------------------------


def database_path() -> Steps[str]:
    """The connection's main database file (``":memory:"`` for none), for messages."""
    rows = yield Fetch(DATABASE_LIST)
    return next((str(row[2]) for row in rows if row[1] == "main" and row[2]), ":memory:")


def check_tables(columns: dict[str, set[str]], path: str) -> bool:
    """Whether the file has the checkpointer's tables (True) or none of them (False); a file
    whose ``checkpoints`` or ``writes`` someone else made is refused."""
    if MIGRATIONS_TABLE in columns:
        return True
    if columns.get("checkpoints", set()) >= LANGGRAPH_CHECKPOINT_COLUMNS:
        tables = sorted(set(columns) & {"checkpoints", "writes"})
        raise LangGraphDatabaseError(path, "checkpoint database", tables, DOCS)
    if columns:
        raise StorageError(
            f"{path!r} has table(s) {sorted(columns)!r} that the SQLite checkpointer did not "
            f"make (there is no {MIGRATIONS_TABLE!r} table), so it will not write to them. Open "
            "a new file for the checkpointer, or rename those tables."
        )
    return False


def _is_set_up(path: str) -> Steps[bool]:
    """Read-only: whether every migration is recorded; refuses someone else's tables."""
    columns: dict[str, set[str]] = {}
    for table, column in (yield Fetch(TABLE_COLUMNS)):
        columns.setdefault(table, set()).add(column)
    if not check_tables(columns, path):
        return False
    ((done,),) = yield Fetch(sql.LAST_MIGRATION)
    return done is not None and int(done) >= len(sql.MIGRATIONS) - 1


def open_file(synchronous: str, path: str) -> Steps[None]:
    """Connection settings, checks, WAL, then the migrations not yet applied, each committed
    with its record (idempotent); ``path`` is the file, from ``database_path``.

    The tables are checked first, in a read transaction: a file that is someone else's is
    refused before anything in it changes (its journal mode included), and a set-up file is
    only read, so a read-only one opens as it is.
    """
    yield Fetch(sql.SET_BUSY_TIMEOUT)
    yield Fetch(sql.set_synchronous(synchronous))
    for pragma in sql.WAL_PRAGMAS:
        yield Fetch(pragma)
    yield Fetch(sql.BEGIN_READ)
    ready = yield from _is_set_up(path)
    yield Fetch(sql.COMMIT)
    if not ready:  # a new file's pages (a no-op on one written before): ``sql.PAGE_SIZE``
        yield Fetch(sql.SET_PAGE_SIZE)
    started = time.monotonic()
    try:
        yield from use_wal(Fetch, Attempt, Pause)  # the store's setup runs the same steps
    except sqlite3.Error as exc:  # refused for 10 s, or not "locked"
        if not (ready and "readonly" in str(exc)):  # a set-up read-only file: read it as it is
            raise storage_error(exc, "switching to WAL", path, time.monotonic() - started) from exc
    ((page_size,),) = yield Fetch(sql.PAGE_SIZE_OF_FILE)  # the file's own, once it has pages
    yield Fetch(sql.wal_autocheckpoint(page_size))
    if ready:
        return
    yield Fetch(sql.BEGIN_WRITE)  # a second process waits here, then finds the work done
    yield from _is_set_up(path)  # the same checks, under the write lock
    yield Fetch(sql.CREATE_MIGRATIONS)
    row = (yield Fetch(sql.LAST_MIGRATION))[0]
    done = -1 if row[0] is None else int(row[0])
    for v in range(done + 1, len(sql.MIGRATIONS)):
        for statement in sql.MIGRATIONS[v]:
            yield Fetch(statement)
        yield Fetch(sql.RECORD_MIGRATION, (v,))
    yield Fetch(sql.COMMIT)


# -- errors -------------------------------------------------------------------------------


def closed_error(saver: str, exc: BaseException | None = None) -> StorageError:
    """The error of every call on a saver whose connection (or event loop) is closed."""
    block = (
        "`async with AsyncSqliteSaver.from_conn_string(...) as saver:`"
        if saver == "AsyncSqliteSaver"
        else "`with SqliteSaver.from_conn_string(...) as saver:`"
    )
    cause = f" ({str(exc).rstrip('.')})" if exc is not None else ""
    return StorageError(
        f"The SQLite checkpointer's connection is closed{cause}: this {saver} was used after "
        f"its {block} block ended. Use the saver inside that block, or give it an open "
        "connection."
    )


def describe(effect: object) -> str:
    """What a failed effect was doing, for its error message."""
    return f"running {getattr(effect, 'sql', '')[:60]!r}"


def _is_closed(text: str) -> bool:
    return "closed" in text or "no active connection" in text


def storage_error(
    exc: BaseException, what: str, path: str | None, waited: float, saver: str = "SqliteSaver"
) -> StorageError:
    """Our error for a driver failure after ``waited`` seconds; raise it ``from exc``.

    ``path`` is None before setup has read it; ``saver`` names the saver for a closed one.
    """
    if isinstance(exc, UnicodeEncodeError):  # sqlite3 binds str parameters as UTF-8
        return UnstorableTextError(what, exc.object if isinstance(exc.object, str) else "")
    text = str(exc).rstrip(".")
    lowered = text.lower()
    if _is_closed(lowered):
        return closed_error(saver, exc)
    shown = repr(path) if path else "the database file"
    hint = ""
    if "not a database" in lowered:
        hint = (
            f"{shown} is not a SQLite database (or it is encrypted or damaged): give the "
            "checkpointer the path of a SQLite file, or a new path to create one."
        )
    elif "readonly" in lowered:
        hint = (
            f"{shown} is read-only here (file or folder permissions, a read-only mount, or "
            "mode=ro): reading checkpoints from a file that is set up works; to save them, "
            "make the file and its folder writable, or copy the file somewhere writable."
        )
    elif "unable to open" in lowered:
        hint = (
            f"{shown} cannot be opened: its folder must exist, and the file must be readable "
            "(and writable, to save checkpoints)."
        )
    elif "locked" in lowered or "busy" in lowered:
        hint = lock_hint(waited, "the checkpointer", _BUSY_TIMEOUT_S)
    where = f" on {path!r}" if path else ""
    return StorageError(f"SQLite checkpointer failed {what}{where}: {text}. {hint}".rstrip())
