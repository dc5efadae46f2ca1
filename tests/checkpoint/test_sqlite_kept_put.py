"""A SqliteSaver writes a step on the head it kept without reading the head or the stored
versions first (``checkpoint/sqlite/_core.py``: ``_put_on_kept``), and stores exactly the rows
the general path stores, whatever happened to the file in between: another connection's commit,
another saver on the same connection, the caller's own SQL, a version already stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from threadloom.checkpoint._sql_head import HeadCache
from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, empty_checkpoint
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import CheckpointConflictError

THREAD = {"configurable": {"thread_id": "t"}}
ENTRIES = [f"entry {i}" for i in range(10)]
"""The same objects in every list: a list extending the last one is stored as a delta."""


def _put(
    saver: SqliteSaver,
    n: int,
    parent: str | None,
    *,
    log: list[str] | None = None,
    versions: dict[str, Any] | None = None,
    expected_head: Any = None,
    writes: list[tuple[str, str, list[tuple[str, Any]]]] | None = None,
) -> None:
    """Checkpoint ``f"{n:04}"`` (child of ``parent``): a list channel ``log`` and ``last``."""
    checkpoint: Any = {**empty_checkpoint(), "id": f"{n:04}", "ts": f"2026-01-01T00:00:{n:02}"}
    checkpoint["channel_values"] = {
        "log": log if log is not None else ENTRIES[:n],
        "last": n,
    }
    new = versions if versions is not None else {"log": n, "last": n}
    checkpoint["channel_versions"] = dict(new)
    configurable: dict[str, Any] = {"thread_id": "t", "checkpoint_ns": ""}
    if parent is not None:
        configurable["checkpoint_id"] = parent
    if expected_head is not None:
        configurable[CONFIG_KEY_EXPECTED_HEAD] = expected_head
    saver.put_step({"configurable": configurable}, writes or [], checkpoint, {"step": n}, new)


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("checkpoints", "checkpoint_blobs", "writes")
        }


def _statements(saver: SqliteSaver, action: Callable[[], Any]) -> list[str]:
    statements: list[str] = []
    saver.conn.set_trace_callback(
        lambda sql: None if sql.startswith("--") else statements.append(sql)
    )
    try:
        action()
    finally:
        saver.conn.set_trace_callback(None)
    return statements


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "kept.db")) as saver:
        for n in range(1, 4):
            _put(saver, n, None if n == 1 else f"{n - 1:04}")
        yield saver


def test_a_step_on_the_kept_head_reads_nothing_before_writing(saver: SqliteSaver) -> None:
    writes = [("task-1", "", [("log", "x")])]
    statements = _statements(saver, lambda: _put(saver, 4, "0003", writes=writes))
    kinds = [s.split(" (")[0].split(" VALUES")[0] for s in statements]
    kinds = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]  # one per row
    assert kinds == [
        "BEGIN IMMEDIATE",
        "INSERT OR IGNORE INTO writes",
        "INSERT OR IGNORE INTO checkpoint_blobs",
        "INSERT OR REPLACE INTO checkpoints",
        "COMMIT",
    ]
    head = saver.get_tuple(THREAD)
    assert head is not None and head.checkpoint["id"] == "0004"
    assert head.checkpoint["channel_values"]["log"] == ENTRIES[:4]


def _other_connection(path: Path, saver: SqliteSaver) -> None:
    with SqliteSaver.from_conn_string(str(path)) as other:
        _put(other, 4, "0003", log=["another history"])


def _same_connection(path: Path, saver: SqliteSaver) -> None:
    _put(SqliteSaver(saver.conn), 4, "0003", log=["another history"])


def _base_deleted(path: Path, saver: SqliteSaver) -> None:
    raw = sqlite3.connect(path)
    with raw:  # the delta base of the next put is gone
        raw.execute("DELETE FROM checkpoint_blobs WHERE channel = 'log' AND version = '3'")
    raw.close()


def _callers_sql(path: Path, saver: SqliteSaver) -> None:
    with saver.conn:
        saver.conn.execute("DELETE FROM checkpoints WHERE checkpoint_id = '0003'")


def _nothing(path: Path, saver: SqliteSaver) -> None:
    return None


@pytest.mark.parametrize(
    "meanwhile", [_nothing, _other_connection, _same_connection, _base_deleted, _callers_sql]
)
def test_the_rows_are_those_of_the_general_path(
    tmp_path: Path, meanwhile: Callable[[Path, SqliteSaver], None]
) -> None:
    """The same calls on two files, one saver kept from its fast path: the same rows."""
    dumps = []
    for name, fast in (("fast.db", True), ("general.db", False)):
        path = tmp_path / name
        with SqliteSaver.from_conn_string(str(path)) as saver:
            if not fast:
                saver._core.heads = HeadCache(max_entries=0)  # keeps nothing: general path
            for n in range(1, 4):
                _put(saver, n, None if n == 1 else f"{n - 1:04}")
            meanwhile(path, saver)
            _put(saver, 5, "0003", writes=[("task-5", "", [("log", "w")])])
            _put(saver, 6, "0005")
            head = saver.get_tuple(THREAD)
            assert head is not None and head.checkpoint["id"] == "0006"
            assert head.checkpoint["channel_values"]["log"] == ENTRIES[:6]
        dumps.append(_rows(path))
    assert dumps[0] == dumps[1]


def test_a_version_already_stored_is_left_as_stored(tmp_path: Path) -> None:
    """Version 2 of ``last`` is stored (checkpoint 0002): a put naming it again keeps the stored
    value, as the general path does."""
    dumps = []
    for name, fast in (("fast.db", True), ("general.db", False)):
        path = tmp_path / name
        with SqliteSaver.from_conn_string(str(path)) as saver:
            if not fast:
                saver._core.heads = HeadCache(max_entries=0)
            for n in range(1, 4):
                _put(saver, n, None if n == 1 else f"{n - 1:04}")
            _put(saver, 4, "0003", versions={"log": 4, "last": 2})
            found = saver.get_tuple(
                {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "0004"}}
            )
            assert found is not None and found.checkpoint["channel_values"]["last"] == 2
            head = saver.get_tuple(THREAD)
            assert head is not None and head.checkpoint["channel_values"]["last"] == 2
        dumps.append(_rows(path))
    assert dumps[0] == dumps[1]


def test_a_head_moved_by_another_connection_is_a_conflict(
    saver: SqliteSaver, tmp_path: Path
) -> None:
    before = _rows(tmp_path / "kept.db")
    _other_connection(tmp_path / "kept.db", saver)
    moved = _rows(tmp_path / "kept.db")
    assert moved != before
    with pytest.raises(CheckpointConflictError):
        _put(saver, 5, "0003", expected_head="0003")
    assert _rows(tmp_path / "kept.db") == moved  # nothing of the refused step stored
    _put(saver, 5, "0004", expected_head="0004")
    head = saver.get_tuple(THREAD)
    assert head is not None and head.checkpoint["id"] == "0005"


def _put_emptied(saver: SqliteSaver, n: int, parent: str) -> None:
    """Checkpoint ``f"{n:04}"``: ``last`` has a new version and no value (emptied)."""
    checkpoint: Any = {**empty_checkpoint(), "id": f"{n:04}", "ts": f"2026-01-01T00:00:{n:02}"}
    checkpoint["channel_values"] = {"log": ENTRIES[:n]}
    new = {"log": n, "last": n}
    checkpoint["channel_versions"] = dict(new)
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": parent}}
    saver.put_step(config, [], checkpoint, {"step": n}, new)


def test_an_emptied_channel_stores_no_row_and_reads_back_without_a_value(tmp_path: Path) -> None:
    """A version without a value gets no row on either path (a missing row reads as one), and
    the checkpoints before it still read the value they had."""
    dumps = []
    for name, fast in (("fast.db", True), ("general.db", False)):
        path = tmp_path / name
        with SqliteSaver.from_conn_string(str(path)) as saver:
            if not fast:
                saver._core.heads = HeadCache(max_entries=0)
            for n in range(1, 4):
                _put(saver, n, None if n == 1 else f"{n - 1:04}")
            _put_emptied(saver, 4, "0003")
            _put(saver, 5, "0004")
            for config, last in ((THREAD, 5), (_at("0004"), None), (_at("0003"), 3)):
                found = saver.get_tuple(config)
                assert found is not None
                assert found.checkpoint["channel_values"].get("last") == last
            assert "last" in saver.get_tuple(_at("0004")).checkpoint["channel_versions"]  # type: ignore[union-attr]
        rows = _rows(path)
        assert [r for r in rows["checkpoint_blobs"] if r[4] == "empty"] == []
        assert ("t", "", "last", "4") not in [r[:4] for r in rows["checkpoint_blobs"]]
        dumps.append(rows)
    assert dumps[0] == dumps[1]


def _at(checkpoint_id: str) -> Any:
    return {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}


def _step(n: int, parent: str, new: dict[str, Any], values: dict[str, Any]) -> Any:
    checkpoint: Any = {**empty_checkpoint(), "id": f"{n:04}", "ts": f"2026-01-01T00:00:{n:02}"}
    checkpoint["channel_values"] = values
    checkpoint["channel_versions"] = {"log": 3, "last": 3, "other": 0, **new}
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": parent}}
    return (config, [], checkpoint, {"step": n}, new)


def test_two_steps_in_one_put_keep_the_last_as_the_head(saver: SqliteSaver, tmp_path: Path) -> None:
    """The first step changes ``last`` only, the second ``other`` only: the head kept after
    both (read back with one statement) holds the first step's row of ``last``, and reads as
    a fresh saver reads the file."""
    first = _step(4, "0003", {"last": 4}, {"log": ENTRIES[:3], "last": 40})
    second = _step(
        5, "0004", {"last": 4, "other": 5}, {"log": ENTRIES[:3], "last": 40, "other": "o"}
    )
    second[2]["channel_versions"]["last"] = 4
    saver.put_steps([first, second])
    statements = _statements(saver, lambda: saver.get_tuple(THREAD))
    assert [s.split(" FROM")[0] for s in statements] == ["SELECT data_version, total_changes()"]
    kept = saver.get_tuple(THREAD)
    with SqliteSaver.from_conn_string(str(tmp_path / "kept.db")) as fresh:
        read = fresh.get_tuple(THREAD)
    assert kept is not None and read is not None and kept.checkpoint["id"] == "0005"
    assert dict(kept.checkpoint["channel_values"]) == {"log": ENTRIES[:3], "last": 40, "other": "o"}
    assert dict(kept.checkpoint["channel_values"]) == dict(read.checkpoint["channel_values"])
    assert kept.checkpoint == read.checkpoint and kept.metadata == read.metadata


def test_two_steps_in_one_put_write_their_value_rows_in_one_statement(
    saver: SqliteSaver,
) -> None:
    """Both steps' value rows go in by one ``executemany`` (a round trip into SQLite each; the
    trace shows it a row at a time: side by side, not each step's rows before its checkpoint),
    the earlier checkpoint by one more, then the last one's upsert."""
    first = _step(4, "0003", {"last": 4}, {"log": ENTRIES[:3], "last": 40})
    second = _step(5, "0004", {"other": 5}, {"log": ENTRIES[:3], "last": 40, "other": "o"})
    second[2]["channel_versions"]["last"] = 4
    statements = _statements(saver, lambda: saver.put_steps([first, second]))
    kinds = [s.split(" (")[0].split(" VALUES")[0] for s in statements]
    assert kinds == [
        "BEGIN IMMEDIATE",
        "INSERT OR IGNORE INTO checkpoint_blobs",  # a row of each step: ``last``, ``other``
        "INSERT OR IGNORE INTO checkpoint_blobs",
        "INSERT OR REPLACE INTO checkpoints",  # the first checkpoint
        "INSERT OR REPLACE INTO checkpoints",  # the second, giving the token back
        "COMMIT",
    ]
    head = saver.get_tuple(THREAD)
    assert head is not None and head.checkpoint["id"] == "0005"
    assert dict(head.checkpoint["channel_values"]) == {"log": ENTRIES[:3], "last": 40, "other": "o"}


@pytest.mark.parametrize(
    "meanwhile", [_nothing, _other_connection, _same_connection, _base_deleted, _callers_sql]
)
def test_two_steps_in_one_put_store_the_rows_of_the_general_path(
    tmp_path: Path, meanwhile: Callable[[Path, SqliteSaver], None]
) -> None:
    """Whatever changed the file since the head was kept, a put of two steps (only the last
    checkpoint's statement gives the token back) stores what the general path stores."""
    dumps = []
    for name, fast in (("fast.db", True), ("general.db", False)):
        path = tmp_path / name
        with SqliteSaver.from_conn_string(str(path)) as saver:
            if not fast:
                saver._core.heads = HeadCache(max_entries=0)
            for n in range(1, 4):
                _put(saver, n, None if n == 1 else f"{n - 1:04}")
            meanwhile(path, saver)
            first = _step(5, "0003", {"last": 5}, {"log": ENTRIES[:3], "last": 50})
            second = _step(6, "0005", {"log": 6}, {"log": ENTRIES[:6], "last": 50})
            second[2]["channel_versions"]["last"] = 5
            saver.put_steps([first, second])
            head = saver.get_tuple(THREAD)
            assert head is not None and head.checkpoint["id"] == "0006"
            assert dict(head.checkpoint["channel_values"]) == {"log": ENTRIES[:6], "last": 50}
        dumps.append(_rows(path))
    assert dumps[0] == dumps[1]
