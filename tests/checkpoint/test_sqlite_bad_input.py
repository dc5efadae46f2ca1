"""The SQLite savers given the wrong thing: each mistake is a clear error naming the fix.

A path where a connection is expected, a closed saver (every method, sync and async), a read-only
file (reads work, writes say why not), a file that is not a database, a LangGraph checkpoint file
or another program's tables (refused before anything is written), a missing folder, and lock
errors that say how long the call really waited. Real SQLite files in tmp folders throughout.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from threadloom.checkpoint.base import Checkpoint, empty_checkpoint
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite._checks import storage_error
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.errors import InvalidConnectionError, LangGraphDatabaseError, StorageError

# The tables langgraph-checkpoint-sqlite 3.1.2 makes, as read back from a file its SqliteSaver set
# up under langgraph 1.2.22 (it records no migrations), and one row of each. Its files are in WAL
# mode; this one is not, so the tests also show that a refused file keeps its journal mode.
LANGGRAPH_CHECKPOINT_SQL = (
    "CREATE TABLE checkpoints (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',"
    " checkpoint_id TEXT NOT NULL, parent_checkpoint_id TEXT, type TEXT, checkpoint BLOB,"
    " metadata BLOB, PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id))",
    "CREATE TABLE writes (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',"
    " checkpoint_id TEXT NOT NULL, task_id TEXT NOT NULL, task_path TEXT NOT NULL DEFAULT '',"
    " idx INTEGER NOT NULL, channel TEXT NOT NULL, type TEXT, value BLOB,"
    " PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx))",
    "INSERT INTO checkpoints VALUES ('t', '', '1f0', NULL, 'msgpack', x'80', x'80')",
    "INSERT INTO writes VALUES ('t', '', '1f0', 'task', '', 0, 'n', 'msgpack', x'01')",
)


def cfg(checkpoint_id: str | None = None) -> Any:
    configurable = {"thread_id": "t", "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def checkpoint(checkpoint_id: str) -> Checkpoint:
    made = empty_checkpoint()
    made["id"] = checkpoint_id
    made["channel_values"] = {"n": checkpoint_id}
    made["channel_versions"] = {"n": checkpoint_id}
    return made


def sql_file(path: Path, statements: tuple[str, ...]) -> Path:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()
    return path


def fingerprint(path: Path) -> tuple[list[Any], str]:
    """The journal mode, the schema and a digest of every row: what "the file was not changed"
    means here."""
    conn = sqlite3.connect(path)
    schema = conn.execute("PRAGMA journal_mode").fetchall()
    schema += conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    digest = hashlib.sha256()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        rows = sorted(map(repr, conn.execute(f"SELECT * FROM {table}")))
        digest.update(repr((table, rows)).encode())
    conn.close()
    return schema, digest.hexdigest()


@pytest.fixture
def set_up_file(tmp_path: Path) -> Path:
    """A saver's file holding checkpoint "1" of thread "t"."""
    path = tmp_path / "saved.db"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        saver.put(cfg(), checkpoint("1"), {"step": 1}, {"n": "1"})
    return path


# -- a path (or anything else) where a connection is expected ------------------------------


@pytest.mark.parametrize(
    "path", ["file.db", Path("file.db"), b"file.db"], ids=["str", "Path", "bytes"]
)
def test_a_path_given_to_sqlite_saver_names_from_conn_string(path: Any) -> None:
    with pytest.raises(InvalidConnectionError) as raised:
        SqliteSaver(path)
    message = str(raised.value)
    assert "SqliteSaver(conn) needs an open sqlite3.Connection, but got " in message
    assert "with SqliteSaver.from_conn_string('file.db') as saver:" in message
    assert isinstance(raised.value, TypeError) and raised.value.value is path


async def test_a_path_given_to_async_sqlite_saver_names_async_with() -> None:
    with pytest.raises(InvalidConnectionError) as raised:
        AsyncSqliteSaver("file.db")  # type: ignore[arg-type]
    message = str(raised.value)
    assert "needs an open aiosqlite.Connection" in message
    assert "async with AsyncSqliteSaver.from_conn_string('file.db') as saver:" in message


async def test_the_wrong_kind_of_connection_names_the_other_saver(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    with pytest.raises(
        InvalidConnectionError, match=r"sqlite3 connection: use SqliteSaver\(conn\)"
    ):
        AsyncSqliteSaver(conn)  # type: ignore[arg-type]
    conn.close()
    async with aiosqlite.connect(tmp_path / "a.db") as aconn:
        with pytest.raises(InvalidConnectionError, match=r"use AsyncSqliteSaver\(conn\)"):
            SqliteSaver(aconn)  # type: ignore[arg-type]


def test_a_closed_connection_is_refused_when_given(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    conn.close()
    with pytest.raises(InvalidConnectionError, match="It is closed, or not open yet"):
        SqliteSaver(conn)


async def test_an_aiosqlite_connection_not_awaited_is_refused(tmp_path: Path) -> None:
    not_awaited = aiosqlite.connect(tmp_path / "a.db")
    with pytest.raises(InvalidConnectionError, match=r"await aiosqlite\.connect\(\.\.\.\) before"):
        AsyncSqliteSaver(not_awaited)
    async with not_awaited as conn:  # the same connection, opened, is fine
        saver = AsyncSqliteSaver(conn)
        assert await saver.aget_tuple(cfg()) is None


@pytest.mark.parametrize("bad", [3, None, object()], ids=["int", "None", "object"])
def test_any_other_object_is_named(bad: Any) -> None:
    with pytest.raises(InvalidConnectionError, match=f"but got {type(bad).__name__}: "):
        SqliteSaver(bad)


def test_from_conn_string_wants_a_path(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "a.db")
    instead = r"pass it to SqliteSaver\(conn\) instead"
    with pytest.raises(InvalidConnectionError, match=instead), SqliteSaver.from_conn_string(conn):  # type: ignore[arg-type]
        pass
    conn.close()


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    path = str(tmp_path / "no-such-folder" / "c.db")
    opening = SqliteSaver.from_conn_string(path)
    with pytest.raises(StorageError, match="its folder must exist") as raised, opening:
        pass
    assert repr(path) in str(raised.value)
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)


def test_the_with_block_still_works_with_a_path_object(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(tmp_path / "p.db") as saver:  # type: ignore[arg-type]
        saver.put(cfg(), checkpoint("1"), {}, {"n": "1"})
        assert saver.get_tuple(cfg()) is not None


# -- a closed saver: every method, sync and async ------------------------------------------

STEP = [("task", "", [("n", 1)])]
CALLS: dict[str, Callable[[Any], Any]] = {
    "setup": lambda s: s.setup(),
    "get_tuple": lambda s: s.get_tuple(cfg()),
    "list": lambda s: next(iter(s.list(cfg())), None),
    "put": lambda s: s.put(cfg(), checkpoint("2"), {}, {"n": "2"}),
    "put_writes": lambda s: s.put_writes(cfg("1"), [("n", 1)], "task"),
    "put_step": lambda s: s.put_step(cfg("1"), STEP, checkpoint("2"), {}, {"n": "2"}),
    "delete_thread": lambda s: s.delete_thread("t"),
    "copy_thread": lambda s: s.copy_thread("t", "u"),
    "prune": lambda s: s.prune(["t"]),
    "delete_for_runs": lambda s: s.delete_for_runs(["run"]),
    "thread_size_report": lambda s: s.thread_size_report("t"),
}  # fmt: skip


async def _first(items: Any) -> Any:
    async for item in items:
        return item
    return None


ASYNC_CALLS: dict[str, Callable[[Any], Any]] = {
    "setup": lambda s: s.setup(),
    "get_tuple": lambda s: s.aget_tuple(cfg()),
    "list": lambda s: _first(s.alist(cfg())),
    "put": lambda s: s.aput(cfg(), checkpoint("2"), {}, {"n": "2"}),
    "put_writes": lambda s: s.aput_writes(cfg("1"), [("n", 1)], "task"),
    "put_step": lambda s: s.aput_step(cfg("1"), STEP, checkpoint("2"), {}, {"n": "2"}),
    "delete_thread": lambda s: s.adelete_thread("t"),
    "copy_thread": lambda s: s.acopy_thread("t", "u"),
    "prune": lambda s: s.aprune(["t"]),
    "delete_for_runs": lambda s: s.adelete_for_runs(["run"]),
    "thread_size_report": lambda s: s.athread_size_report("t"),
}  # fmt: skip

SYNC_BLOCK = "`with SqliteSaver.from_conn_string(...) as saver:`"
ASYNC_BLOCK = "`async with AsyncSqliteSaver.from_conn_string(...) as saver:`"


def _says_closed(error: StorageError, block: str) -> None:
    message = str(error)
    assert "connection is closed" in message and block in message, message
    assert "used after its" in message


@pytest.mark.parametrize("set_up", [True, False], ids=["after-setup", "before-setup"])
@pytest.mark.parametrize("method", CALLS)
def test_a_closed_saver_says_so_on_every_method(
    set_up_file: Path, method: str, set_up: bool
) -> None:
    with SqliteSaver.from_conn_string(str(set_up_file)) as saver:
        if set_up:
            saver.setup()
    with pytest.raises(StorageError) as raised:
        CALLS[method](saver)
    _says_closed(raised.value, SYNC_BLOCK)
    assert isinstance(raised.value.__cause__, sqlite3.ProgrammingError)


@pytest.mark.parametrize("set_up", [True, False], ids=["after-setup", "before-setup"])
@pytest.mark.parametrize("method", ASYNC_CALLS)
async def test_a_closed_async_saver_says_so_on_every_method(
    set_up_file: Path, method: str, set_up: bool
) -> None:
    async with AsyncSqliteSaver.from_conn_string(str(set_up_file)) as saver:
        if set_up:
            await saver.setup()
    with pytest.raises(StorageError) as raised:
        await ASYNC_CALLS[method](saver)
    _says_closed(raised.value, ASYNC_BLOCK)
    assert isinstance(raised.value.__cause__, ValueError)  # aiosqlite's "no active connection"


@pytest.mark.parametrize("method", ["get_tuple", "list", "put", "put_step", "delete_thread"])
def test_an_async_saver_whose_loop_ended_says_it_is_closed(set_up_file: Path, method: str) -> None:
    async def open_and_leave() -> AsyncSqliteSaver:
        async with AsyncSqliteSaver.from_conn_string(str(set_up_file)) as saver:
            await saver.setup()
        return saver

    saver = asyncio.run(open_and_leave())  # its loop is closed now
    with pytest.raises(StorageError) as raised:
        CALLS[method](saver)
    _says_closed(raised.value, ASYNC_BLOCK)


# -- a read-only file ----------------------------------------------------------------------


def _read_only_sqlite(path: Path) -> SqliteSaver:
    return SqliteSaver(sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False))


WRITES = ["put", "put_writes", "put_step", "delete_thread", "copy_thread"]


@pytest.mark.parametrize("method", WRITES)
def test_a_read_only_file_reads_and_refuses_writes_by_name(set_up_file: Path, method: str) -> None:
    before = fingerprint(set_up_file)
    saver = _read_only_sqlite(set_up_file)
    try:
        head = saver.get_tuple(cfg())
        assert head is not None and head.checkpoint["channel_values"] == {"n": "1"}
        assert [t.checkpoint["id"] for t in saver.list(None)] == ["1"]
        assert saver.thread_size_report("t").checkpoints == 1
        with pytest.raises(StorageError) as raised:
            CALLS[method](saver)
    finally:
        saver.conn.close()
    message = str(raised.value)
    assert repr(str(set_up_file)) in message and "is read-only here" in message
    assert "make the file and its folder writable" in message
    assert fingerprint(set_up_file) == before


async def test_a_read_only_file_async(set_up_file: Path) -> None:
    conn = await aiosqlite.connect(f"file:{set_up_file}?mode=ro", uri=True)
    try:
        saver = AsyncSqliteSaver(conn)
        head = await saver.aget_tuple(cfg())
        assert head is not None and head.checkpoint["id"] == "1"
        with pytest.raises(StorageError, match="is read-only here"):
            await saver.aput(cfg("1"), checkpoint("2"), {}, {"n": "2"})
    finally:
        await conn.close()


def test_setup_of_a_set_up_file_needs_no_write_lock(set_up_file: Path) -> None:
    writer = sqlite3.connect(set_up_file, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another connection is in the middle of a write
    try:
        with SqliteSaver.from_conn_string(str(set_up_file)) as saver:
            saver.setup()
            head = saver.get_tuple(cfg())
            assert head is not None and head.checkpoint["id"] == "1"
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_set_up_read_only_file_outside_wal_mode_is_read_as_it_is(set_up_file: Path) -> None:
    conn = sqlite3.connect(set_up_file)
    conn.execute("PRAGMA journal_mode = DELETE")  # copied by a tool that dropped WAL, say
    conn.close()
    saver = _read_only_sqlite(set_up_file)
    try:
        head = saver.get_tuple(cfg())
        assert head is not None and head.checkpoint["id"] == "1"
        with pytest.raises(StorageError, match="is read-only here"):
            saver.put(cfg("1"), checkpoint("2"), {}, {"n": "2"})
    finally:
        saver.conn.close()


# -- files that are not the checkpointer's --------------------------------------------------


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("These are my notes, not a database.\n" * 200)
    opening = SqliteSaver.from_conn_string(str(path))
    with opening as saver, pytest.raises(StorageError) as raised:
        saver.get_tuple(cfg())
    message = str(raised.value)
    assert repr(str(path)) in message and "is not a SQLite database" in message
    assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
    assert path.read_text().startswith("These are my notes")


async def test_a_file_that_is_not_a_database_async(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("These are my notes, not a database.\n" * 200)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        with pytest.raises(StorageError, match=r"notes\.db' is not a SQLite database"):
            await saver.aget_tuple(cfg())


@pytest.mark.parametrize("method", ["setup", "get_tuple", "list", "put"])
def test_a_langgraph_checkpoint_file_is_refused_unchanged(tmp_path: Path, method: str) -> None:
    path = sql_file(tmp_path / "langgraph.db", LANGGRAPH_CHECKPOINT_SQL)
    before = fingerprint(path)
    opening = SqliteSaver.from_conn_string(str(path))
    with opening as saver, pytest.raises(LangGraphDatabaseError) as raised:
        CALLS[method](saver)
    error = raised.value
    assert error.path == str(path) and error.tables == ("checkpoints", "writes")
    message = str(error)
    assert "LangGraph checkpoint database" in message and "docs/checkpoints.md" in message
    assert "no such column" not in message
    assert fingerprint(path) == before  # nothing created, nothing changed


async def test_a_langgraph_checkpoint_file_async(tmp_path: Path) -> None:
    path = sql_file(tmp_path / "langgraph.db", LANGGRAPH_CHECKPOINT_SQL)
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        with pytest.raises(LangGraphDatabaseError, match=r"langgraph\.db"):
            await saver.aget_tuple(cfg())


def test_a_langgraph_file_read_only_is_still_named(tmp_path: Path) -> None:
    path = sql_file(
        tmp_path / "langgraph.db", ("PRAGMA journal_mode = WAL", *LANGGRAPH_CHECKPOINT_SQL)
    )
    saver = _read_only_sqlite(path)
    try:
        with pytest.raises(LangGraphDatabaseError):
            saver.get_tuple(cfg())
    finally:
        saver.conn.close()


def test_another_programs_tables_are_refused_by_name(tmp_path: Path) -> None:
    path = sql_file(tmp_path / "other.db", ("CREATE TABLE writes (id INTEGER, body TEXT)",))
    before = fingerprint(path)
    refused = r"table\(s\) \['writes'\] that the SQLite checkpointer did not make"
    opening = SqliteSaver.from_conn_string(str(path))
    with opening as saver, pytest.raises(StorageError, match=refused):
        saver.put(cfg(), checkpoint("1"), {}, {"n": "1"})
    assert fingerprint(path) == before


def test_a_file_with_other_tables_beside_them_is_fine(tmp_path: Path) -> None:
    path = sql_file(tmp_path / "shared.db", ("CREATE TABLE notes (id INTEGER, body TEXT)",))
    with SqliteSaver.from_conn_string(str(path)) as saver:
        saver.put(cfg(), checkpoint("1"), {}, {"n": "1"})
    with SqliteSaver.from_conn_string(str(path)) as saver:
        head = saver.get_tuple(cfg())
        assert head is not None and head.checkpoint["id"] == "1"


# -- locks ---------------------------------------------------------------------------------


def test_a_lock_error_says_how_long_it_really_waited() -> None:
    locked = sqlite3.OperationalError("database is locked")
    at_once = str(storage_error(locked, "running 'BEGIN IMMEDIATE'", "c.db", 0.004))
    assert "gave up after 0.00 s" in at_once and "waits up to 30 s" in at_once
    assert "'c.db'" in at_once and "retry" in at_once
    waited = str(storage_error(locked, "running 'BEGIN IMMEDIATE'", "c.db", 30.2))
    assert "gave up after 30.20 s" in waited


def test_a_writer_that_outlasts_the_wait_is_reported_with_the_real_wait(set_up_file: Path) -> None:
    writer = sqlite3.connect(set_up_file, isolation_level=None)
    try:
        with SqliteSaver.from_conn_string(str(set_up_file)) as saver:
            saver.setup()
            saver.conn.execute("PRAGMA busy_timeout = 200")  # not 30 s, in a test
            writer.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageError) as raised:
                saver.put(cfg("1"), checkpoint("2"), {}, {"n": "2"})
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    message = str(raised.value)
    assert "database is locked" in message and repr(str(set_up_file)) in message
    # the wait it reports is this call's own (about 0.2 s here), not the 30 s it could have been
    reported = float(re.search(r"gave up after ([0-9.]+) s", message).group(1))  # type: ignore[union-attr]
    assert 0.1 < reported < 25
