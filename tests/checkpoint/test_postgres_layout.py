"""What PostgresSaver stores, and the upgrade of a database stored by an earlier layout.

A value row is keyed by its version written as ``_header.version_key`` (``~`` and the
significant digits of a standard string version), and a header is stored packed
(``_header.pack_header``: each distinct version once), by the one-statement step too.
``data/pg_layout_v8.json`` holds the rows a database had in the layout of migration 8 (text
thread and checkpoint ids in every row, a row per ``empty`` version) and what that code read
from them: ``setup()`` rewrites such a database, every checkpoint reads back exactly as before,
and the threads go on.
"""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import psycopg
import pytest
from langchain_core.messages import AIMessage
from layout_helpers import DATA, load_maker, plain

from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    empty_checkpoint,
    next_string_version,
)
from threadloom.checkpoint.postgres import PostgresSaver, _migrations
from threadloom.checkpoint.postgres._migrations import MIGRATIONS
from threadloom.checkpoint.postgres._packing import pack, unpack
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import SetupRequiredError
from threadloom.graph import START, StateGraph
from threadloom.graph.message import MessagesState
from threadloom.types import Command

THREAD = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


def _chat(saver: PostgresSaver, turns: range, log: list[str], versions: dict[str, Any]) -> None:
    """Steps of a chat: ``log`` (a list channel, stored as deltas), ``turn`` (an int version),
    each step with one task write; ``versions`` carries the channel versions along."""
    for turn in turns:
        head = saver.get_tuple(THREAD)
        parent = None if head is None else head.checkpoint["id"]
        if head is not None:  # extend the list read, as a graph does (deltas go by identity)
            log[:] = head.checkpoint["channel_values"]["log"]
        log.append(f"message {turn}")
        new = {
            "log": next_string_version(versions.get("log")),
            "turn": int(versions.get("turn", 0)) + 1,
        }
        versions.update(new)
        checkpoint = {**empty_checkpoint(), "id": f"{turn:04}"}
        checkpoint["channel_values"] = {"log": list(log), "turn": turn}
        checkpoint["channel_versions"] = dict(versions)
        configurable: dict[str, Any] = {**THREAD["configurable"], "checkpoint_id": parent}
        configurable[CONFIG_KEY_EXPECTED_HEAD] = parent
        writes = [(f"task-{turn}", "", [("log", log[-1])])] if parent else []
        saver.put_step({"configurable": configurable}, writes, checkpoint, {"step": turn}, new)


def _history(saver: PostgresSaver) -> list[tuple[Any, ...]]:
    return [
        (c.config, c.checkpoint, c.metadata, c.parent_config, c.pending_writes)
        for c in saver.list(THREAD)
    ]


def _rows(dsn: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement).fetchall()  # type: ignore[arg-type]


def test_versions_are_stored_as_version_keys_and_headers_packed(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _chat(saver, range(1, 4), [], {})
        stored = _rows(pg_dsn, "SELECT type, checkpoint FROM threadloom_checkpoints")
        for tag, data in stored:
            header = saver.serde.loads_typed((tag, bytes(data)))
            assert isinstance(header, list) and header[0] == 1  # _header.HEADER_FORMAT
        written = [c.checkpoint["channel_versions"]["log"] for c in saver.list(THREAD)]
    keys = _rows(pg_dsn, "SELECT channel, version, base_version FROM threadloom_checkpoint_blobs")
    log_keys = sorted(v for ch, v, _b in keys if ch == "log")
    assert log_keys == sorted("~1" + v.lstrip("0") for v in written)
    assert sorted(v for ch, v, _b in keys if ch == "turn") == ["1", "2", "3"]
    assert sorted(b for ch, _v, b in keys if ch == "log" and b) == log_keys[:2]


MAKER = load_maker("make_pg_layout_v8")


@pytest.fixture
def v8_dsn(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database in the layout of migration 8 holding the fixture's rows."""
    with monkeypatch.context() as before:  # the schema of the previous release
        v8 = dataclasses.replace(MIGRATIONS, statements=MIGRATIONS.statements[:9])
        before.setattr(_migrations, "MIGRATIONS", v8)
        PostgresSaver(pg_dsn).setup()
    rows = json.loads((DATA / "pg_layout_v8.json").read_text())["rows"]
    with psycopg.connect(pg_dsn) as conn:
        for table, table_rows in rows.items():
            conn.execute(
                f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s)",
                (json.dumps(table_rows),),
            )
    return pg_dsn


def test_a_database_of_layout_8_is_rewritten_by_setup_and_reads_as_before(v8_dsn: str) -> None:
    expected = json.loads((DATA / "pg_layout_v8.json").read_text())["expected"]
    ((empties,),) = _rows(
        v8_dsn, "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE kind = 'empty'"
    )
    ((values,),) = _rows(v8_dsn, "SELECT count(*) FROM threadloom_checkpoint_blobs")
    assert empties > 0
    with PostgresSaver.from_conn_string(v8_dsn) as saver:
        with pytest.raises(SetupRequiredError, match="schema version 8"):
            saver.get_tuple({"configurable": {"thread_id": "chat"}})
        saver.setup()
        assert plain(MAKER.snapshot(saver)) == expected  # every checkpoint reads back exactly
    assert _rows(v8_dsn, "SELECT count(*) FROM threadloom_checkpoint_blobs") == [
        (values - empties,)
    ]  # every value row but the empty ones, which read the same missing
    threads = _rows(v8_dsn, "SELECT thread_id, checkpoint_ns FROM threadloom_threads ORDER BY 1, 2")
    assert threads == [("chat", ""), ("other", ""), ("other", "inner")]
    ids = _rows(v8_dsn, "SELECT DISTINCT octet_length(checkpoint_id) FROM threadloom_checkpoints")
    assert sorted(ids) == [(16,), (17,)]  # UUIDs as their bytes, "0001" as text
    tables = _rows(v8_dsn, "SELECT tablename FROM pg_tables WHERE tablename LIKE 'threadloom%'")
    assert sorted(t for (t,) in tables) == [
        "threadloom_checkpoint_blobs",
        "threadloom_checkpoint_migrations",
        "threadloom_checkpoint_writes",
        "threadloom_checkpoints",
        "threadloom_threads",
    ]
    with PostgresSaver.from_conn_string(v8_dsn) as saver:  # set up: nothing more to do
        saver.setup()
        assert plain(MAKER.snapshot(saver)) == expected


def test_a_database_of_layout_8_goes_on(v8_dsn: str) -> None:
    with PostgresSaver.from_conn_string(v8_dsn) as saver:
        saver.setup()
        graph = MAKER._sibling("make_layout_v0", DATA / "make_layout_v0.py").build(saver)
        chat = {"configurable": {"thread_id": "chat"}}
        # the run left waiting on an interrupt resumes from its old pending writes ...
        waiting = next(s for s in graph.get_state_history(chat) if s.interrupts)
        before = waiting.values["items"]
        resumed = graph.invoke(Command(resume="yes"), waiting.config)
        assert resumed["items"] == [*before, "asked yes"]
        deltas = saver.thread_size_report("chat").delta_blobs
        # ... and a new turn extends the list (stored as a delta on the old rows)
        graph.invoke({"items": ["again"], "count": 20}, chat)
        after = graph.get_state(chat).values["items"]
        assert after == [*before, "asked yes", "again", "answer 20"]
        assert saver.thread_size_report("chat").delta_blobs > deltas
        other = saver.get_tuple({"configurable": {"thread_id": "other", "checkpoint_ns": "inner"}})
        assert other is not None and other.metadata["note"] == "nul  inside"  # NUL stripped
        assert other.pending_writes == [("task-1", "n", 8), ("task-1", "xs", [3])]
        assert [c.config for c in saver.list(None, filter={"note": "nul  inside"})] == [
            other.config
        ]
    fresh = PostgresSaver(v8_dsn)  # a saver that never saw the rows reads the same head
    head = fresh.get_tuple(chat)
    assert head is not None and head.checkpoint["channel_values"]["items"] == after


def test_packing_gives_back_the_serializers_bytes() -> None:
    message = AIMessage(content="echo: " + "a real answer, not repeated " * 3, id="m-1")
    tag, data = JsonPlusSerializer().dumps_typed([message])
    packed = pack(tag, data)
    assert packed[0] == "zd1:" + tag and len(packed[1]) * 2 < len(data)  # the envelope is shared
    assert unpack(*packed) == (tag, data)
    noise = random.Random(0).randbytes(300)  # does not compress: stored as it is
    assert pack("msgpack", noise) == ("msgpack", noise)
    assert pack("msgpack", b"tiny") == ("msgpack", b"tiny")
    assert pack("zlib:msgpack", data) == ("zlib:msgpack", data)  # the shared core's packing
    assert unpack("zlib:msgpack", data) == ("zlib:msgpack", data)  # is left to the shared core


def test_messages_are_stored_packed_and_read_back_by_any_saver(pg_dsn: str) -> None:
    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    chat = {"configurable": {"thread_id": "chat"}}
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)
        for turn in range(3):
            out = graph.invoke({"messages": [("user", f"question {turn} " * 20)]}, chat)
    for table, column in (
        ("threadloom_checkpoint_blobs", "type"),
        ("threadloom_checkpoint_writes", "type"),
        ("threadloom_checkpoints", "type"),
    ):
        kinds = {t for (t,) in _rows(pg_dsn, f"SELECT DISTINCT {column} FROM {table}")}
        assert "zd1:msgpack" in kinds, table
    fresh = PostgresSaver(pg_dsn)  # holds no rows: reads and unpacks every one
    head = fresh.get_tuple(chat)
    assert head is not None and head.checkpoint["channel_values"]["messages"] == out["messages"]
    history = list(fresh.list(chat))
    assert [len(c.checkpoint["channel_values"].get("messages", [])) for c in history][:3] == [
        6,
        5,
        4,
    ]
    assert {w[1] for c in history for w in c.pending_writes or []} >= {"messages"}
