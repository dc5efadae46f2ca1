"""The head a SqliteSaver wrote is read back without a query while nothing changed
(``checkpoint/_sql_head.py``), and read afresh as soon as anything did: another connection's
commit, another saver on the same connection, the caller's own SQL, or this saver's own writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from threadloom.checkpoint.base import empty_checkpoint
from threadloom.checkpoint.sqlite import SqliteSaver

THREAD = {"configurable": {"thread_id": "t"}}


def _put(saver: SqliteSaver, n: int, parent: str | None, value: Any = None) -> dict[str, Any]:
    checkpoint: Any = {**empty_checkpoint(), "id": f"{n:04}"}
    checkpoint["channel_values"] = {"log": [f"entry {i}" for i in range(n)], "last": value or n}
    checkpoint["channel_versions"] = {"log": n, "last": n}
    configurable: dict[str, Any] = {"thread_id": "t", "checkpoint_ns": ""}
    if parent is not None:
        configurable["checkpoint_id"] = parent
    config: Any = {"configurable": configurable}
    return saver.put(config, checkpoint, {"step": n}, {"log": n, "last": n})  # type: ignore[return-value]


@pytest.fixture
def saver(tmp_path: Path) -> Iterator[SqliteSaver]:
    with SqliteSaver.from_conn_string(str(tmp_path / "kept.db")) as saver:
        saver.setup()
        parent = None
        for n in range(1, 4):
            parent = _put(saver, n, parent)["configurable"]["checkpoint_id"]
        yield saver


def _reads(saver: SqliteSaver) -> tuple[Any, list[str]]:
    statements: list[str] = []
    saver.conn.set_trace_callback(  # statements run, without those nested in them ("-- ...")
        lambda sql: None if sql.startswith("--") else statements.append(sql)
    )
    try:
        return saver.get_tuple(THREAD), statements
    finally:
        saver.conn.set_trace_callback(None)


def test_the_head_just_written_is_read_back_with_one_statement(saver: SqliteSaver) -> None:
    head, statements = _reads(saver)
    assert len(statements) == 1 and "data_version" in statements[0]
    assert head.checkpoint["id"] == "0003"
    assert head.checkpoint["channel_values"] == {
        "log": ["entry 0", "entry 1", "entry 2"],
        "last": 3,
    }
    assert head.metadata["step"] == 3
    assert head.parent_config["configurable"]["checkpoint_id"] == "0002"
    assert head.pending_writes == []


def test_each_read_gets_its_own_objects(saver: SqliteSaver) -> None:
    first = saver.get_tuple(THREAD)
    assert first is not None
    first.checkpoint["channel_values"]["log"].append("changed by the caller")
    first.checkpoint["channel_versions"]["log"] = 99
    first.metadata["step"] = 99
    second = saver.get_tuple(THREAD)
    assert second is not None
    assert second.checkpoint["channel_values"]["log"] == ["entry 0", "entry 1", "entry 2"]
    assert second.checkpoint["channel_versions"]["log"] == 3
    assert second.metadata["step"] == 3


def test_a_commit_by_another_connection_is_seen(saver: SqliteSaver, tmp_path: Path) -> None:
    saver.get_tuple(THREAD)
    with SqliteSaver.from_conn_string(str(tmp_path / "kept.db")) as other:
        _put(other, 4, "0003", value="from elsewhere")
    head, statements = _reads(saver)
    assert len(statements) > 1  # read afresh
    assert head.checkpoint["id"] == "0004"
    assert head.checkpoint["channel_values"]["last"] == "from elsewhere"


def test_a_write_by_another_saver_on_the_same_connection_is_seen(saver: SqliteSaver) -> None:
    saver.get_tuple(THREAD)
    other = SqliteSaver(saver.conn)
    _put(other, 4, "0003", value="same connection")
    head = saver.get_tuple(THREAD)
    assert head is not None and head.checkpoint["channel_values"]["last"] == "same connection"


def test_the_callers_own_sql_on_the_connection_is_seen(saver: SqliteSaver) -> None:
    saver.get_tuple(THREAD)
    with saver.conn:
        saver.conn.execute("DELETE FROM checkpoints WHERE checkpoint_id = '0003'")
    head = saver.get_tuple(THREAD)
    assert head is not None and head.checkpoint["id"] == "0002"


def test_writes_saved_on_the_head_are_read_with_it(saver: SqliteSaver) -> None:
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "0003"}}
    saver.put_writes(config, [("last", "pending")], task_id="task-1")
    head = saver.get_tuple(THREAD)
    assert head is not None and head.pending_writes == [("task-1", "last", "pending")]
    again, statements = _reads(saver)  # kept with its writes now
    assert len(statements) == 1 and again.pending_writes == [("task-1", "last", "pending")]


@pytest.mark.parametrize("writer", ["this saver", "another saver on the connection"])
def test_writes_saved_before_their_checkpoint_are_read_with_it(
    saver: SqliteSaver, writer: str
) -> None:
    # LangGraph's engine saves a task's writes from its worker threads, and may do so before
    # the checkpoint they belong to is stored: the head kept at that put must not hide them
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "0004"}}
    other = saver if writer == "this saver" else SqliteSaver(saver.conn)
    other.put_writes(config, [("last", "early")], task_id="task-1")
    _put(saver, 4, "0003")
    for _ in range(2):  # the first read and the one after it
        head = saver.get_tuple(THREAD)
        assert head is not None and head.checkpoint["id"] == "0004"
        assert head.pending_writes == [("task-1", "last", "early")]


def test_a_deleted_thread_is_gone(saver: SqliteSaver) -> None:
    saver.get_tuple(THREAD)
    saver.delete_thread("t")
    assert saver.get_tuple(THREAD) is None


def test_a_file_changed_under_a_raw_connection_is_seen(saver: SqliteSaver, tmp_path: Path) -> None:
    saver.get_tuple(THREAD)
    raw = sqlite3.connect(tmp_path / "kept.db")
    with raw:
        raw.execute("DELETE FROM checkpoints WHERE thread_id = 't'")
    raw.close()
    assert saver.get_tuple(THREAD) is None
