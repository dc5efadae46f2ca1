"""SqliteStore.setup() under contention: several processes on a new file, a writer on an old one.

Regression tests for issue 7 defect 2: setup failed about 5% of the time when processes opened a
new file together (switching it to WAL is refused at once, not after the busy timeout), its
message blamed a 30 s wait that never happened, and an already set-up file could not be opened
while another connection held a write transaction.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sqlite3
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from threadloom.errors import StorageError
from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite import _sql as sql
from threadloom.store.sqlite.aio import AsyncSqliteStore

ROUNDS = 40
WORKERS = 4


def _open_new_files(folder: str, use_async: bool, barrier: Any, results: Any) -> None:
    """One worker: each round, all workers set up the same new file at once, then write to it."""

    async def open_async(path: str) -> None:
        async with AsyncSqliteStore.from_conn_string(path) as store:
            await store.setup()
            await store.aput(("w",), str(os.getpid()), {"pid": os.getpid()})

    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = os.path.join(folder, f"round{round_}.db")
        barrier.wait()
        try:
            if use_async:
                asyncio.run(open_async(path))
            else:
                with SqliteStore.from_conn_string(path) as store:
                    store.setup()
                    store.put(("w",), str(os.getpid()), {"pid": os.getpid()})
        except Exception:
            failures.append(f"round {round_}: {traceback.format_exc()}")
    results.put(failures)


def test_processes_setting_up_one_new_file_together_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WORKERS), context.Queue()
    workers = [
        context.Process(target=_open_new_files, args=(str(tmp_path), n % 2 == 1, barrier, results))
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    failures = [f for _ in workers for f in results.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
    assert failures == []
    for round_ in range(ROUNDS):  # every worker's write landed in every file
        with SqliteStore.from_conn_string(str(tmp_path / f"round{round_}.db")) as store:
            assert len(store.search(("w",), limit=10)) == WORKERS


@pytest.fixture
def new_file_being_written(tmp_path: Path) -> Iterator[str]:
    """A file not yet in WAL mode whose writer commits 0.3 s after the test starts.

    Meanwhile SQLite refuses the switch to WAL at once ("database is locked", busy timeout or
    not): the deterministic form of two processes opening a new file together.
    """
    path = str(tmp_path / "new.db")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE notes (text TEXT)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO notes VALUES ('hello')")
    timer = threading.Timer(0.3, writer.execute, ("COMMIT",))
    timer.start()
    yield path
    timer.join()
    writer.close()


def test_a_new_file_goes_to_wal_without_a_rollback_journal(tmp_path: Path) -> None:
    """As the checkpointer's (``_sqlite_wal.use_wal``): the switch of a new file works while no
    rollback journal can be made (a folder has its name until the switch is done)."""
    blocker = tmp_path / "new.db-journal"
    blocker.mkdir()
    switched = [False]

    def trace(statement: str) -> None:  # called as each statement starts
        if switched[0] and blocker.exists():
            blocker.rmdir()
        switched[0] = switched[0] or statement == "PRAGMA journal_mode = WAL"

    conn = sqlite3.connect(tmp_path / "new.db", isolation_level=None, check_same_thread=False)
    conn.set_trace_callback(trace)
    try:
        store = SqliteStore(conn)
        store.setup()
        assert switched[0] and not blocker.exists()
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        store.put(("a",), "k", {"v": 1})
        item = store.get(("a",), "k")
        assert item is not None and item.value == {"v": 1}
    finally:
        conn.close()


def test_setup_waits_out_a_writer_on_a_new_file(new_file_being_written: str) -> None:
    with SqliteStore.from_conn_string(new_file_being_written) as store:
        store.setup()  # was: StorageError "database is locked" at once
        assert store.conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        store.put(("a",), "k", {"v": 1})


async def test_async_setup_waits_out_a_writer_on_a_new_file(new_file_being_written: str) -> None:
    async with AsyncSqliteStore.from_conn_string(new_file_being_written) as store:
        await store.setup()
        await store.aput(("a",), "k", {"v": 1})
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]


@pytest.fixture
def set_up_file(tmp_path: Path) -> Iterator[str]:
    path = str(tmp_path / "store.db")
    with SqliteStore.from_conn_string(path) as store:
        store.setup()
        store.put(("a",), "k", {"v": 1})
    yield path


@pytest.fixture
def writer_holding_the_lock(set_up_file: str) -> Iterator[sqlite3.Connection]:
    other = sqlite3.connect(set_up_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO store_settings (name, value) VALUES ('other', 'uncommitted')")
    yield other
    other.execute("ROLLBACK")
    other.close()


def test_setup_of_a_set_up_file_needs_no_write_lock(
    set_up_file: str, writer_holding_the_lock: sqlite3.Connection
) -> None:
    with SqliteStore.from_conn_string(set_up_file) as store:
        store.setup()  # was: 30 s, then "database is locked"
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
        assert [i.key for i in store.search(("a",), filter={"v": 1})] == ["k"]


async def test_async_setup_of_a_set_up_file_needs_no_write_lock(
    set_up_file: str, writer_holding_the_lock: sqlite3.Connection
) -> None:
    async with AsyncSqliteStore.from_conn_string(set_up_file) as store:
        await store.setup()
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]


def test_setup_still_migrates_a_file_from_an_older_version(set_up_file: str) -> None:
    # Forget the last migration (and undo it): setup must take the write lock and redo it.
    conn = sqlite3.connect(set_up_file, isolation_level=None)
    conn.execute("DROP TABLE store_settings")
    conn.execute(f"DELETE FROM {sql.MIGRATIONS_TABLE} WHERE v = ?", (len(sql.MIGRATIONS) - 1,))
    conn.close()
    with SqliteStore.from_conn_string(set_up_file) as store:
        store.setup()
        tables = {row[0] for row in store.conn.execute(sql.SELECT_TABLES)}
        assert "store_settings" in tables
        assert store.conn.execute(sql.SELECT_MIGRATION_DONE).fetchone() == (
            len(sql.MIGRATIONS) - 1,
        )


def test_a_lock_error_says_how_long_it_really_waited() -> None:
    locked = sqlite3.OperationalError("database is locked")
    at_once = str(sql.storage_error(locked, "running 'X'", "f.db", 0.004))
    assert "gave up after 0.00 s" in at_once and "retry" in at_once
    waited = str(sql.storage_error(locked, "running 'X'", "f.db", 30.2))
    assert "gave up after 30.20 s" in waited and "keep write transactions short" in waited


def test_a_writer_that_outlasts_the_busy_timeout_is_reported_with_the_real_wait(
    set_up_file: str, writer_holding_the_lock: sqlite3.Connection
) -> None:
    with SqliteStore.from_conn_string(set_up_file) as store:
        store.setup()
        store.conn.execute("PRAGMA busy_timeout = 200")  # shorten the wait for the test
        with pytest.raises(StorageError, match="database is locked") as err:
            store.put(("a",), "k", {"v": 2})
        assert "gave up after 0.2" in str(err.value)  # the wait it really had
        assert isinstance(err.value.__cause__, sqlite3.OperationalError)


def test_a_read_only_file_that_is_set_up_opens_and_reads(set_up_file: str) -> None:
    conn = sqlite3.connect(f"file:{set_up_file}?mode=ro", uri=True, isolation_level=None)
    try:
        store = SqliteStore(conn)
        store.setup()
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
        assert [i.key for i in store.search(("a",), filter={"v": {"$in": [1, 2]}})] == ["k"]
        with pytest.raises(StorageError, match="read-only"):
            store.put(("a",), "k2", {"v": 2})
        assert store.get(("a",), "k2") is None
    finally:
        conn.close()
