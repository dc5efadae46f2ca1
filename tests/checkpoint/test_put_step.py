"""``put_step``: a superstep's task writes and its checkpoint stored together or not at all
(DECISIONS 3), on every backend; and the SQLite durability setting."""

from __future__ import annotations

import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from saver_helpers import MakeSaver, config, make_checkpoint

from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import CheckpointConflictError, SerializationError
from threadloom.types import Send

META: Any = {"source": "loop", "step": 1}


class _Items(TypedDict):
    items: Annotated[list[int], operator.add]


def _first(saver: Any) -> str:
    checkpoint = make_checkpoint({"a": 1})
    saver.put(config("t"), checkpoint, {"source": "input", "step": -1}, {"a": 1})
    return checkpoint["id"]


def _state(saver: Any, make_saver: MakeSaver, parent: str) -> tuple[list[str], list[Any]]:
    """(checkpoint ids newest first, writes of ``parent``), read through a reopened saver."""
    reopened = make_saver()
    ids = [t.checkpoint["id"] for t in reopened.list(config("t"))]
    parent_tuple = reopened.get_tuple(config("t", checkpoint_id=parent))
    return ids, parent_tuple.pending_writes


def test_put_step_stores_writes_and_checkpoint(saver: Any, make_saver: MakeSaver) -> None:
    parent = _first(saver)
    child = make_checkpoint({"a": 2, "log": ["x", "y"]}, {"a": 2, "log": 2})
    writes = [("task-1", "~1", [("a", 2)]), ("task-2", "~2", [("log", ["x", "y"])])]
    saved = saver.put_step(config("t", checkpoint_id=parent), writes, child, META, {"a": 2})
    assert saved["configurable"]["checkpoint_id"] == child["id"]
    ids, pending = _state(saver, make_saver, parent)
    assert ids == [child["id"], parent]
    assert pending == [("task-1", "a", 2), ("task-2", "log", ["x", "y"])]


def test_a_send_in_the_writes_and_the_checkpoint_reads_back_from_both(
    saver: Any, make_saver: MakeSaver
) -> None:
    # Encoded once for both places (the save shares its encodings); each reads back whole.
    parent = _first(saver)
    sends = [Send("worker", {"item": n}) for n in range(3)]
    child = make_checkpoint({"__pregel_tasks": sends}, {"__pregel_tasks": 2})
    writes = [("task-1", "~1", [("__pregel_tasks", s) for s in sends])]
    saver.put_step(config("t", checkpoint_id=parent), writes, child, META, {"__pregel_tasks": 2})
    _, pending = _state(saver, make_saver, parent)
    assert pending == [("task-1", "__pregel_tasks", s) for s in sends]
    stored = make_saver().get_tuple(config("t", checkpoint_id=child["id"]))
    assert stored.checkpoint["channel_values"]["__pregel_tasks"] == sends


@pytest.mark.parametrize("failure", ["conflict", "unencodable value"])
def test_a_failing_put_step_stores_nothing(saver: Any, make_saver: MakeSaver, failure: str) -> None:
    parent = _first(saver)
    extra: dict[str, Any] = {}
    values: dict[str, Any] = {"a": 2}
    if failure == "conflict":
        extra[CONFIG_KEY_EXPECTED_HEAD] = "not-the-head"
        expected: type[Exception] = CheckpointConflictError
    else:
        values["b"] = object()  # fails inside the transaction, after the writes were inserted
        expected = SerializationError
    child = make_checkpoint(values, {"a": 2, "b": 2})
    writes = [("task-1", "", [("a", 2)])]
    with pytest.raises(expected):
        saver.put_step(
            config("t", checkpoint_id=parent, **extra), writes, child, META, {"a": 2, "b": 2}
        )
    assert _state(saver, make_saver, parent) == ([parent], [])
    # and the saver still works: the same step without the fault goes through whole
    child = make_checkpoint({"a": 2}, {"a": 2})
    saver.put_step(config("t", checkpoint_id=parent), writes, child, META, {"a": 2})
    assert _state(saver, make_saver, parent) == ([child["id"], parent], [("task-1", "a", 2)])


def test_put_step_on_sqlite_is_one_write_transaction(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "c.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    parent = _first(saver)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    child = make_checkpoint({"a": 2}, {"a": 2})
    writes = [("task-1", "", [("a", 2)]), ("task-2", "", [("a", 3)])]
    saver.put_step(config("t", checkpoint_id=parent), writes, child, META, {"a": 2})
    conn.set_trace_callback(None)
    assert sum(s.startswith("BEGIN IMMEDIATE") for s in statements) == 1
    assert sum(s.startswith("COMMIT") for s in statements) == 1
    conn.close()


def test_put_writes_batch_stores_every_task_or_none(saver: Any, make_saver: MakeSaver) -> None:
    parent = _first(saver)
    at_parent = config("t", checkpoint_id=parent)
    bad = [
        ("task-1", "~1", [("a", 2), ("__resume__", ["yes"])]),
        ("task-2", "~2", [("a", object())]),  # the last task's value does not encode
    ]
    with pytest.raises(SerializationError):
        saver.put_writes_batch(at_parent, bad)
    assert _state(saver, make_saver, parent) == ([parent], [])
    good = [
        ("task-1", "~1", [("a", 2), ("__resume__", ["yes"])]),  # a special channel: replaces
        ("task-2", "~2", [("a", 3)]),
        ("task-3", "~3", [("a", 4), ("b", 5)]),
    ]
    saver.put_writes_batch(at_parent, good)
    expected = [("task-1", "a", 2), ("task-1", "__resume__", ["yes"]), ("task-2", "a", 3)]
    expected += [("task-3", "a", 4), ("task-3", "b", 5)]
    assert sorted(_state(saver, make_saver, parent)[1]) == sorted(expected)


def test_put_writes_batch_on_sqlite_is_one_write_transaction(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "c.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    parent = _first(saver)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    writes = [(f"task-{n}", f"~{n}", [("a", n)]) for n in range(5)]
    saver.put_writes_batch(config("t", checkpoint_id=parent), writes)
    conn.set_trace_callback(None)
    assert sum(s.startswith("BEGIN IMMEDIATE") for s in statements) == 1
    assert sum(s.startswith("COMMIT") for s in statements) == 1
    assert len(saver.get_tuple(config("t", checkpoint_id=parent)).pending_writes) == 5
    conn.close()


@pytest.mark.parametrize(("level", "pragma"), [("NORMAL", 1), ("full", 2), ("EXTRA", 3)])
def test_synchronous_level(tmp_path: Path, level: str, pragma: int) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db"), synchronous=level) as saver:
        saver.setup()
        assert saver.conn.execute("PRAGMA synchronous").fetchone()[0] == pragma
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_synchronous_defaults_to_normal(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        _first(saver)
        assert saver.conn.execute("PRAGMA synchronous").fetchone()[0] == 1


@pytest.mark.parametrize("level", ["OFF", "fast", 2, None])
def test_bad_synchronous_level_is_a_clear_error(tmp_path: Path, level: Any) -> None:
    opening = SqliteSaver.from_conn_string(str(tmp_path / "c.db"), synchronous=level)
    with pytest.raises(ValueError, match=r"synchronous=.*'NORMAL'.*'FULL'"), opening:
        pass
    assert not (tmp_path / "c.db").exists()  # refused before opening anything


def test_a_graph_step_saving_sends_encodes_each_send_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The engine's save (put_step_diff) of a step whose task wrote Sends: each Send is in the
    # task's writes and in the checkpoint's tasks channel, and its state is encoded once. (A
    # step without a Send makes no sharing serializer at all; the result is the same either way.)
    import ormsgpack

    from threadloom.checkpoint.memory import InMemorySaver
    from threadloom.checkpoint.serde._codec import _SEND_HEAD
    from threadloom.graph import END, START, StateGraph

    saver = InMemorySaver()
    reads: list[Any] = []  # the state of each Send record encoded (not taken from the memo)
    ext = ormsgpack.Ext

    def counted(code: int, data: bytes) -> Any:
        if data.startswith(_SEND_HEAD):  # a Send's record: [module, qualname, state]
            reads.append(ormsgpack.unpackb(data)[2])
        return ext(code, data)

    monkeypatch.setattr(ormsgpack, "Ext", counted)
    builder: Any = StateGraph(_Items)
    builder.add_node("fan", lambda s: {"items": []})
    builder.add_node("worker", lambda s: {"items": [s["items"][0]]})
    builder.add_edge(START, "fan")
    builder.add_conditional_edges("fan", lambda s: [Send("worker", {"items": [n]}) for n in (1, 2)])
    builder.add_edge("worker", END)
    graph = builder.compile(checkpointer=saver)
    out = graph.invoke({"items": []}, {"configurable": {"thread_id": "t"}})
    assert sorted(out["items"]) == [1, 2]
    sends = [r for r in reads if r["node"] == "worker"]
    assert sorted(s["arg"]["items"][0] for s in sends) == [1, 2]  # one read per Send
