"""The SQLite checkpointer keeps its WAL small: it is checkpointed often and cut back after a
burst, also on a file whose WAL grew large before (as under SQLite's default settings). A file
it creates has 2 KB pages (a commit writes fewer bytes to the WAL); a file that exists keeps its
own, and the WAL is checkpointed every ~1 MB in either."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

from layout_helpers import DATA

from threadloom.checkpoint.base import empty_checkpoint
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite._statements import WAL_LIMIT_BYTES
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver

VALUE_BYTES = 20_000
"""Each checkpoint stores a new value of this size: a few WAL pages per put."""
SLACK = 256 * 1024
"""What one autocheckpoint interval plus the put in flight may add to the limit."""


def _put_many(saver: SqliteSaver, first: int, count: int) -> None:
    parent = None if first == 0 else f"{first - 1:06d}"
    for i in range(first, first + count):
        checkpoint_id = f"{i:06d}"
        checkpoint = {**empty_checkpoint(), "id": checkpoint_id}
        # random bytes: stored as they are (compressing them would not make them smaller)
        checkpoint["channel_values"] = {"n": random.Random(i).randbytes(VALUE_BYTES)}
        checkpoint["channel_versions"] = {"n": checkpoint_id}
        configurable = {"thread_id": "t", "checkpoint_ns": ""}
        if parent is not None:
            configurable["checkpoint_id"] = parent
        saver.put({"configurable": configurable}, checkpoint, {"step": i}, {"n": checkpoint_id})
        parent = checkpoint_id


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_wal_stays_bounded_while_a_thread_grows(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    largest = 0
    for round_ in range(30):  # ~12 MB of values in all, far more than the limit
        _put_many(saver, round_ * 20, 20)
        largest = max(largest, _wal_bytes(path))
    assert largest <= WAL_LIMIT_BYTES + SLACK
    assert path.stat().st_size > 5 * WAL_LIMIT_BYTES  # the rows went into the file itself
    head = saver.get_tuple({"configurable": {"thread_id": "t"}})
    assert head is not None and head.checkpoint["id"] == f"{599:06d}"
    conn.close()


def test_a_large_wal_left_by_an_older_writer_is_cut_back_and_the_thread_continues(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    old = sqlite3.connect(path, check_same_thread=False)
    old_saver = SqliteSaver(old)
    old_saver.setup()
    # As a connection with SQLite's defaults does in a long burst: the WAL is never cut back.
    old.execute("PRAGMA wal_autocheckpoint = 0")
    old.execute("PRAGMA journal_size_limit = -1")
    _put_many(old_saver, 0, 200)
    assert _wal_bytes(path) > 3 * WAL_LIMIT_BYTES
    # The old connection stays open (idle), so closing it does not clean up the WAL for us.
    new = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(new)
    first = saver.get_tuple({"configurable": {"thread_id": "t"}})
    assert first is not None and first.checkpoint["id"] == f"{199:06d}"
    _put_many(saver, 200, 100)
    assert _wal_bytes(path) <= WAL_LIMIT_BYTES + SLACK
    ids = [c.checkpoint["id"] for c in saver.list({"configurable": {"thread_id": "t"}})]
    assert ids == [f"{i:06d}" for i in reversed(range(300))]
    head = old_saver.get_tuple({"configurable": {"thread_id": "t"}})
    assert head is not None and head.checkpoint["id"] == f"{299:06d}"
    new.close()
    old.close()


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_a_new_file_has_2kb_pages_and_its_wal_is_checkpointed_every_mb(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    _put_many(saver, 0, 3)
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (480,)  # 480 x 2 KB
    assert _page_size(path) == 2048
    conn.close()


async def test_the_async_saver_creates_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    async with AsyncSqliteSaver.from_conn_string(str(path)) as saver:
        await saver.setup()
        async with saver.conn.execute("PRAGMA wal_autocheckpoint") as cursor:
            assert tuple(await cursor.fetchone()) == (480,)  # type: ignore[arg-type]
        assert _page_size(path) == 2048


def test_a_file_with_4kb_pages_keeps_them_and_is_checkpointed_every_mb(tmp_path: Path) -> None:
    path = tmp_path / "v0.sqlite"  # written by an older version, with SQLite's default pages
    shutil.copy(DATA / "layout_v0.sqlite", path)
    assert _page_size(path) == 4096
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    _put_many(saver, 0, 3)
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (240,)  # 240 x 4 KB
    head = saver.get_tuple({"configurable": {"thread_id": "t"}})
    assert head is not None and head.checkpoint["id"] == f"{2:06d}"
    conn.close()
    assert _page_size(path) == 4096
