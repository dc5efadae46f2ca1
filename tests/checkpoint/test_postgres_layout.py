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
import zlib
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from langchain_core.messages import AIMessage
from layout_helpers import DATA, load_maker, plain

from threadloom.checkpoint._header import version_key
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    empty_checkpoint,
    next_string_version,
)
from threadloom.checkpoint.postgres import PostgresSaver, _migrations, _packing, _statements
from threadloom.checkpoint.postgres._migrations import MIGRATIONS
from threadloom.checkpoint.postgres._packing import (
    SHORT_TAGS,
    pack,
    pack_path,
    unpack,
    unpack_path,
)
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import SetupRequiredError
from threadloom.graph import START, StateGraph
from threadloom.graph.message import MessagesState
from threadloom.types import Command

THREAD = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}


def _chat(
    saver: PostgresSaver,
    turns: range,
    log: list[str],
    versions: dict[str, Any],
    made: Iterator[str] | None = None,
) -> None:
    """Steps of a chat: ``log`` (a list channel, stored as deltas), ``turn`` (an int version),
    each step with one task write; ``versions`` carries the channel versions along; ``made``
    gives the log's versions (else ``next_string_version``'s)."""
    for turn in turns:
        head = saver.get_tuple(THREAD)
        parent = None if head is None else head.checkpoint["id"]
        if head is not None:  # extend the list read, as a graph does (deltas go by identity)
            log[:] = head.checkpoint["channel_values"]["log"]
        log.append(f"message {turn}")
        new = {
            "log": next_string_version(versions.get("log")) if made is None else next(made),
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
            header = saver.serde.loads_typed(unpack(tag, bytes(data)))
            assert isinstance(header, list) and header[0] == 1  # _header.HEADER_FORMAT
        written = [c.checkpoint["channel_versions"]["log"] for c in saver.list(THREAD)]
    keys = _rows(pg_dsn, "SELECT channel, version, base_version FROM threadloom_checkpoint_blobs")
    log_keys = sorted(v for ch, v, _b in keys if ch == "log")
    assert log_keys == sorted(_statements.version_text(v) for v in written)
    for version in written:  # ~11.0.5723763004387995 stored as }11 and its random part in base 64
        key = _statements.version_text(version)
        assert key.startswith("}1" + version[:32].lstrip("0"))
        assert len(key) <= len("~1" + version.lstrip("0")) - 7
        assert _statements.version_of(key) == version
    assert sorted(v for ch, v, _b in keys if ch == "turn") == ["1", "2", "3"]
    assert sorted(b for ch, _v, b in keys if ch == "log" and b) == log_keys[:2]


MAKER = load_maker("make_pg_layout_v8")


def _old_database(dsn: str, monkeypatch: pytest.MonkeyPatch, schema: int, dump: str) -> str:
    """``dsn`` set up at ``schema`` (the previous releases' migrations) holding ``dump``'s rows."""
    with monkeypatch.context() as before:
        old = dataclasses.replace(MIGRATIONS, statements=MIGRATIONS.statements[: schema + 1])
        before.setattr(_migrations, "MIGRATIONS", old)
        PostgresSaver(dsn).setup()
    rows = json.loads((DATA / dump).read_text())["rows"]
    with psycopg.connect(dsn) as conn:
        for table, table_rows in rows.items():
            conn.execute(
                f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s)",
                (json.dumps(table_rows),),
            )
        if "threadloom_threads" in rows:  # the rows came with their ids: new ones go after
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('threadloom_threads', 'tid'), "
                "(SELECT max(tid) FROM threadloom_threads))"
            )
    return dsn


@pytest.fixture
def v8_dsn(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database in the layout of migration 8 holding the fixture's rows."""
    return _old_database(pg_dsn, monkeypatch, 8, "pg_layout_v8.json")


@pytest.fixture
def v26_dsn(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database in the compact layout of migration 26 holding the fixture's rows."""
    return _old_database(pg_dsn, monkeypatch, 26, "pg_layout_v26.json")


@pytest.fixture
def v34_dsn(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database in the layout of migration 34 holding the fixture's rows, the engine's step
    metadata as the text that code wrote (the dump went through ``json``, which spaced it)."""
    dsn = _old_database(pg_dsn, monkeypatch, 34, "pg_layout_v34.json")
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE threadloom_checkpoints SET metadata = format("
            '\'{"source":%s,"step":%s,"parents":{}}\', metadata -> \'source\', '
            "metadata -> 'step')::json WHERE metadata::jsonb - 'source' - 'step' = "
            "'{\"parents\": {}}'::jsonb"
        )
    return dsn


@pytest.fixture(params=["v8", "v26", "v34"])
def old_dsn(request: pytest.FixtureRequest) -> str:
    """A database of each earlier layout, holding the same threads."""
    return str(request.getfixturevalue(f"{request.param}_dsn"))


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


def test_a_database_of_an_earlier_layout_goes_on(old_dsn: str) -> None:
    v8_dsn = old_dsn
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


def test_a_database_of_layout_26_is_rewritten_by_setup_and_reads_as_before(
    v26_dsn: str,
) -> None:
    expected = json.loads((DATA / "pg_layout_v26.json").read_text())["expected"]
    assert len(expected) == 42
    assert {c["config"]["thread_id"] for c in expected} == {"chat", "other"}
    with PostgresSaver.from_conn_string(v26_dsn) as saver:
        with pytest.raises(SetupRequiredError, match="schema version 26"):
            saver.get_tuple({"configurable": {"thread_id": "chat"}})
        saver.setup()
        assert plain(MAKER.snapshot(saver)) == expected  # every checkpoint reads back exactly
    columns = _rows(
        v26_dsn,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'threadloom_checkpoints'",
    )
    assert ("ts", "timestamp with time zone") in columns  # 8 bytes, not 33
    fillfactors = _rows(
        v26_dsn,
        "SELECT relname, reloptions FROM pg_class WHERE relname IN ('threadloom_checkpoints_key', "
        "'threadloom_checkpoint_blobs_key', 'threadloom_checkpoint_writes_key')",
    )
    assert [o for _name, o in fillfactors] == [["fillfactor=100"]] * 3
    with PostgresSaver.from_conn_string(v26_dsn) as saver:  # set up: nothing more to do
        saver.setup()
        assert plain(MAKER.snapshot(saver)) == expected


def test_the_migration_writes_version_keys_as_the_saver_does(pg_dsn: str) -> None:
    """Migrations 36 and 40 (SQL) and ``_statements.version_text`` (Python) make the same short
    key of every version key stored before, or a row would not be found."""
    (function,) = [s for s in MIGRATIONS.statements if "CREATE FUNCTION threadloom_short" in s]
    rng = random.Random(8)
    versions: list[Any] = [1, 1.0, 2.5, "abc", "0" * 32, "0" * 31 + "5.0.0012", "0" * 31 + "5.0.00"]
    versions += ["0" * 31 + "7.0." + "9" * n for n in (29, 30, 31)]
    versions += ["0" * 31 + "7.1e-05", "0" * 32 + ".0.5", "0" * 31 + "7.0.5x", "0" * 31 + "7.00.5"]
    versions += [next_string_version(rng.randrange(10 ** rng.randrange(1, 14))) for _ in range(300)]
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(function)
        stored = conn.execute(
            f"SELECT {_migrations._literal_key('threadloom_short_version(k)')} "
            "FROM unnest(%s::text[]) WITH ORDINALITY u(k, i) ORDER BY i",
            ([version_key(v) for v in versions],),
        ).fetchall()
    assert [k for (k,) in stored] == [_statements.version_text(v) for v in versions]
    assert [_statements.version_of(k) for (k,) in stored] == versions
    assert sum(k.startswith("}") for (k,) in stored) >= 300  # the standard ones
    # every version next_string_version makes is short, so a thread's keys grow in its order
    # (random() written "000.30772938289" when its digits are few was left long, after them)
    padded = ["0" * 31 + "7.000.307729382894", "0" * 30 + "12.0.5", "0" * 30 + "13.1e-05"]
    keys = [_statements.version_text(v) for v in padded]
    assert all(k.startswith("}") for k in keys) and keys == sorted(keys)
    assert [_statements.version_of(k) for k in keys] == padded


def test_a_database_of_layout_34_is_rewritten_by_setup_and_reads_as_before(
    v34_dsn: str,
) -> None:
    expected = json.loads((DATA / "pg_layout_v34.json").read_text())["expected"]
    assert len(expected) == 42
    step_metadata = (
        "SELECT count(*) FROM threadloom_checkpoints WHERE metadata::text ~ "
        '\'^\\{"source":"[a-z]+","step":-?[0-9]+,"parents":\\{\\}\\}$\''
    )
    ((written,),) = _rows(v34_dsn, step_metadata)
    assert written == 40  # all but the two put by hand with metadata of their own
    ((long_keys,),) = _rows(
        v34_dsn, "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE version LIKE '~%'"
    )
    assert long_keys > 30
    with PostgresSaver.from_conn_string(v34_dsn) as saver:
        with pytest.raises(SetupRequiredError, match="schema version 34"):
            saver.get_tuple({"configurable": {"thread_id": "chat"}})
        saver.setup()
        assert plain(MAKER.snapshot(saver)) == expected  # every checkpoint reads back exactly
        updates = [c.config["configurable"] for c in saver.list(None, filter={"source": "update"})]
        assert sorted(map(str, updates)) == sorted(
            str(c["config"]) for c in expected if c["metadata"]["source"] == "update"
        )
        assert len(updates) == 3  # one written by the engine, two put by hand
        steps = [c.metadata["step"] for c in saver.list(None, filter={"step": 33})]
        assert steps == [33, 33]  # the loop's step 33 and the update forked from it
    assert _rows(v34_dsn, step_metadata) == [(0,)]
    old_keys = (
        "SELECT (SELECT count(*) FROM threadloom_checkpoint_blobs WHERE left(version, 1) = '~' "
        "OR left(base_version, 1) = '~'), (SELECT count(*) FROM threadloom_checkpoint_writes "
        "WHERE left(type, 2) = '=~')"
    )
    assert _rows(v34_dsn, old_keys) == [(0, 0)]  # every version key written short
    arrays = "SELECT count(*) FROM threadloom_checkpoints WHERE json_typeof(metadata) = 'array'"
    assert _rows(v34_dsn, arrays) == [(written,)]  # stored as [step, source]
    with PostgresSaver.from_conn_string(v34_dsn) as saver:  # set up: nothing more to do
        saver.setup()
        assert plain(MAKER.snapshot(saver)) == expected


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ('{"source":"loop","step":7,"parents":{}}', '[7,"loop"]'),
        ('{"source":"input","step":-1,"parents":{}}', '[-1,"input"]'),
        ('{"source":"a\\",\\"step\\":1","step":2,"parents":{}}', '[2,"a\\",\\"step\\":1"]'),
        (
            '{"source":"\\u00e9","step":12345678901234567890,"parents":{}}',
            '[12345678901234567890,"\\u00e9"]',
        ),
        ('{"source":"loop","step":7,"parents":{"":"x"}}', None),
        ('{"source":"loop","step":7,"parents":{},"user_id":"u"}', None),
        ('{"source":1,"step":7,"parents":{}}', None),
        ('{"source":"loop","step":7.0,"parents":{}}', None),
        ('{"step":7,"source":"loop","parents":{}}', None),
        ('{"source": "loop", "step": 7, "parents": {}}', None),
        ("{}", None),
    ],
)
def test_step_metadata_is_stored_short_and_read_back_as_written(
    pg_dsn: str, text: str, short: str | None
) -> None:
    stored = _packing.pack_metadata(text)
    assert stored == (short or text)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("CREATE TABLE t (metadata json)")
        conn.execute("INSERT INTO t VALUES (%s::json)", (stored,))
        row = conn.execute(
            f"SELECT {_statements.METADATA_TEXT}, ({_statements.METADATA_TEXT})::jsonb = %s::jsonb "
            "FROM t c",
            (text,),
        ).fetchone()
    assert row == (text, True)


def _echo_chat() -> StateGraph[Any]:
    """A one-node chat whose answer echoes the last message."""

    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    return builder


def _references(dsn: str) -> int:
    ((count,),) = _rows(
        dsn, "SELECT count(*) FROM threadloom_checkpoint_writes WHERE left(type, 1) = '='"
    )
    return int(count)


def test_a_write_with_the_bytes_of_a_value_row_is_stored_as_a_reference(pg_dsn: str) -> None:
    builder = _echo_chat()
    chat = {"configurable": {"thread_id": "chat"}}
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)
        for turn in range(4):
            graph.invoke({"messages": [("user", f"question {turn} " * 20)]}, chat)
        history = [(c.checkpoint, c.pending_writes) for c in saver.list(chat)]
    assert _references(pg_dsn) == 4  # each answer: its write names the delta holding it
    answers = [w for _c, writes in history for w in writes or [] if w[0] and w[1] == "messages"]
    assert [m.content for _t, _ch, (m,) in answers if isinstance(m, AIMessage)] == [
        f"echo: {f'question {turn} ' * 20}" for turn in (3, 2, 1, 0)
    ]
    fresh = PostgresSaver(pg_dsn)  # a saver that holds nothing reads the same
    assert [(c.checkpoint, c.pending_writes) for c in fresh.list(chat)] == history
    ids = [c.config["configurable"]["checkpoint_id"] for c in fresh.list(chat)]
    # a prune drops the checkpoints whose value rows the answers name: they are stored whole
    fresh.prune(["chat"], strategy="keep_latest", keep_last=len(ids) - 2)
    assert _references(pg_dsn) == 0
    kept = {c.config["configurable"]["checkpoint_id"]: c.pending_writes for c in fresh.list(chat)}
    assert kept == {
        c.config["configurable"]["checkpoint_id"]: c.pending_writes
        for c in PostgresSaver(pg_dsn).list(chat)
    }
    assert [w for _c, writes in history[:-2] for w in writes or []] == [
        w for writes in kept.values() for w in writes or []
    ]


def test_a_thread_emptied_by_prune_or_delete_for_runs_loses_its_rows(pg_dsn: str) -> None:
    def tables() -> list[int]:
        return [
            _rows(pg_dsn, f"SELECT count(*) FROM {table}")[0][0]
            for table in (
                "threadloom_threads",
                "threadloom_checkpoints",
                "threadloom_checkpoint_blobs",
                "threadloom_checkpoint_writes",
            )
        ]

    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content="echo: " + state["messages"][-1].content * 5)]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        graph = builder.compile(checkpointer=saver)
        for thread in ("a", "b"):
            config: Any = {"configurable": {"thread_id": thread}}
            config["metadata"] = {"run_id": f"run-{thread}"}
            graph.invoke({"messages": [("user", "hello there, how are you")]}, config)
        assert tables()[0] == 2
        saver.prune(["a"], strategy="delete")
        assert tables()[0] == 1 and saver.get_tuple({"configurable": {"thread_id": "a"}}) is None
        saver.delete_for_runs(["run-b"])
        assert tables() == [0, 0, 0, 0]
        graph.invoke({"messages": [("user", "again")]}, {"configurable": {"thread_id": "a"}})
        assert tables()[0] == 1  # the thread starts anew
        state = graph.get_state({"configurable": {"thread_id": "a"}})
        assert [m.content for m in state.values["messages"]] == ["again", "echo: " + "again" * 5]


def test_packing_gives_back_the_serializers_bytes() -> None:
    message = AIMessage(content="echo: " + "a real answer, not repeated " * 3, id="m-1")
    tag, data = JsonPlusSerializer().dumps_typed([message])
    packed = pack(tag, data)
    assert packed[0] == SHORT_TAGS["zd2:" + tag] and len(packed[1]) * 2 < len(data)  # shared
    assert unpack(*packed) == (tag, data)
    before = zlib.compressobj(1, zdict=_packing.DICTIONARY)  # rows written before schema 39
    old = before.compress(data) + before.flush()
    assert len(packed[1]) == len(old) - 10  # no zlib header, dictionary id and checksum
    assert unpack(SHORT_TAGS["zd1:" + tag], old) == (tag, data)  # still read
    noise = random.Random(0).randbytes(300)  # does not compress: stored as it is
    assert pack("msgpack", noise) == ("~m", noise)
    assert pack("msgpack", b"tiny") == ("~m", b"tiny")
    assert unpack("~m", noise) == ("msgpack", noise)
    assert pack("~odd", b"tiny") == ("~~odd", b"tiny")  # a tag like a short one: escaped
    assert unpack("~~odd", b"tiny") == ("~odd", b"tiny")
    assert pack("zlib:msgpack", data) == ("zlib:msgpack", data)  # the shared core's packing
    assert unpack("zlib:msgpack", data) == ("zlib:msgpack", data)  # is left to the shared core


def test_messages_are_stored_packed_and_read_back_by_any_saver(pg_dsn: str) -> None:
    builder = _echo_chat()
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
        assert SHORT_TAGS["zd2:msgpack"] in kinds, table
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


@pytest.mark.parametrize(
    "path",
    ["", "~__pregel_pull, node", "~__pregel_push, ('a', 1)", "plain", "\x01odd", "\x1fodd", "~x"],
)
def test_task_paths_are_stored_short_and_read_back(path: str) -> None:
    stored = pack_path(path)
    assert unpack_path(stored) == path
    if path.startswith("~__pregel_"):
        assert len(stored) == len(path) - 15


def test_ts_is_stored_as_a_time_and_read_back_as_written(pg_dsn: str) -> None:
    stamps = {
        "a": "2026-01-02T03:04:05.678901+00:00",
        "b": "2026-01-02T05:04:05+02:00",
        "c": "2026-01-02T03:04:05",  # no offset: UTC, as prune reads it
        "d": "not a time",  # kept as written in the header, no time in the column
    }
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        for thread, ts in stamps.items():
            checkpoint = {**empty_checkpoint(), "id": "0001", "ts": ts}
            saver.put(
                {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}, checkpoint, {}, {}
            )
        for thread, ts in stamps.items():
            head = saver.get_tuple({"configurable": {"thread_id": thread}})
            assert head is not None and head.checkpoint["ts"] == ts
    stored = _rows(
        pg_dsn,
        "SELECT t.thread_id, to_char(c.ts AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM "
        "threadloom_checkpoints c JOIN threadloom_threads t USING (tid) ORDER BY 1",
    )
    assert stored == [("a", "03:04:05"), ("b", "03:04:05"), ("c", "03:04:05"), ("d", None)]


def test_a_tasks_writes_of_none_ride_on_its_first_write(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        config = saver.put(THREAD, {**empty_checkpoint(), "id": "0001"}, {}, {})
        writes = [("a", 1), ("branch:to:x", None), ("b", None), ("c", "text")]
        saver.put_writes(config, writes, "task-1", "~__pregel_pull, x")
        saver.put_writes(config, [("branch:to:y", None)], "task-2", "")  # alone: its own row
        expected = [  # ordered by task path, task, idx
            ("task-2", "branch:to:y", None),
            ("task-1", "a", 1),
            ("task-1", "branch:to:x", None),
            ("task-1", "b", None),
            ("task-1", "c", "text"),
        ]
        head = saver.get_tuple(THREAD)
        assert head is not None and head.pending_writes == expected
        assert _rows(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_writes") == [(3,)]
        # the same task's writes again (a retry): the first ones stay, none twice
        saver.put_writes(config, [("a", 2), ("branch:to:x", None), ("b", 3)], "task-1", "")
        again = saver.get_tuple(THREAD)
        assert again is not None and again.pending_writes == expected
        assert saver.thread_size_report("t").writes == 5
        fresh = PostgresSaver(pg_dsn)  # holds nothing: reads the same
        assert [c.pending_writes for c in fresh.list(THREAD)] == [expected]
        saver.copy_thread("t", "u")
        copied = saver.get_tuple({"configurable": {"thread_id": "u"}})
        assert copied is not None and copied.pending_writes == expected
    # the general path's statement (a step planned again under the lock) keeps the first too
    keep = _statements.KEEP_WRITES
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(keep, ("t", "", "0001", "task-1", "", 1, "b", "~n", b""))
        conn.execute(keep, ("t", "", "0001", "task-1", "", 9, "d", "~n", b""))  # path "": first
    head = PostgresSaver(pg_dsn).get_tuple(THREAD)
    assert head is not None and head.pending_writes == [("task-1", "d", None), *expected]


def test_a_value_of_none_rides_on_a_row_of_its_version_and_survives_prune(pg_dsn: str) -> None:
    def put(saver: PostgresSaver, n: int, values: dict[str, Any], new: dict[str, int]) -> None:
        versions = {"m": 1, "t": 1, **new} if n > 1 else dict(new)
        checkpoint = {**empty_checkpoint(), "id": f"000{n}", "channel_versions": versions}
        checkpoint["channel_values"] = values
        parent = {"checkpoint_id": f"000{n - 1}"} if n > 1 else {}
        saver.put({"configurable": {**THREAD["configurable"], **parent}}, checkpoint, {}, new)

    def values(saver: PostgresSaver) -> list[dict[str, Any]]:
        return [dict(c.checkpoint["channel_values"]) for c in saver.list(THREAD)]

    def value_rows() -> int:
        return int(_rows(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_blobs")[0][0])

    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        put(saver, 1, {"m": "x", "t": None}, {"m": 1, "t": 1})
        assert value_rows() == 1  # None rides on "m"'s row
        put(saver, 2, {"m": "y", "t": None}, {"m": 2})
        assert values(PostgresSaver(pg_dsn)) == [{"m": "y", "t": None}, {"m": "x", "t": None}]
        assert saver.thread_size_report("t").blobs == 3
        # "m" at 1 goes, the None of "t" at 1 that its row carried stays (checkpoint 2 needs it)
        saver.prune(["t"], strategy="keep_latest", keep_last=1)
        assert values(PostgresSaver(pg_dsn)) == [{"m": "y", "t": None}]
        assert value_rows() == 2
        put(saver, 3, {"m": "y", "t": 5}, {"m": 2, "t": 3})
        put(saver, 4, {"m": "z", "t": None}, {"m": 4, "t": 4})  # rides on "m" at 4
        put(saver, 5, {"m": "z", "t": 6}, {"m": 4, "t": 5})
        # the None at 4 is not needed any more, "m" at 4 is: only the None goes
        saver.prune(["t"], strategy="keep_latest", keep_last=1)
        assert values(PostgresSaver(pg_dsn)) == [{"m": "z", "t": 6}]
        assert _rows(
            pg_dsn, "SELECT channel, version, nulls FROM threadloom_checkpoint_blobs ORDER BY 1"
        ) == [("m", "4", ""), ("t", "5", "")]


def test_list_deltas_follow_a_base_32_counter_and_read_back_cold(pg_dsn: str) -> None:
    """A message is stored in its own delta, and again only in the delta of each multiple of
    32 (not of 8): fewer bytes, and a saver that holds nothing still reads every version."""
    chat = {"configurable": {"thread_id": "chat"}}
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        graph = _echo_chat().compile(checkpointer=saver)
        for turn in range(20):  # 40 appends to `messages`
            graph.invoke({"messages": [("user", f"question {turn}")]}, chat)
        history = [c.checkpoint for c in saver.list(chat)]
    rows = _rows(
        pg_dsn,
        "SELECT delta_index, length, b.version, base_version FROM threadloom_checkpoint_blobs b "
        "WHERE channel = 'messages' ORDER BY length",
    )
    index_of = {version: index for index, _n, version, _b in rows}
    bases = {index: index_of.get(base) for index, _n, _v, base in rows}
    assert [(index, length) for index, length, _v, _b in rows] == [
        (k, k + 1) for k in range(40)
    ]  # the first message a full value, then one delta per append
    assert bases[0] is None
    assert {k: bases[k] for k in (1, 8, 9, 31, 32, 33, 39)} == {
        1: 0,
        8: 7,
        9: 8,
        31: 30,
        32: 0,
        33: 32,
        39: 38,
    }  # delta 8 extends 7 (octal would give 0), delta 32 extends the full value
    fresh = PostgresSaver(pg_dsn)  # walks the chains from the database alone
    assert [c.checkpoint for c in fresh.list(chat)] == history
    assert len(history[0]["channel_values"]["messages"]) == 40


def test_a_long_key_of_layout_39_is_written_short_by_setup(pg_dsn: str) -> None:
    """Layout 39 kept a standard version long when its random part was not ``0.`` and digits
    (``random()`` with few digits is written ``000.30772938289``); its ``~`` key sorted after
    the thread's later short keys. Migrations 40-41 write it short, its base and its
    references too, and the thread reads back as before."""
    padded = ["0" * 31 + "1.000.307729382894", "0" * 31 + "2.00.51234567891", "0" * 31 + "3.1e-05"]
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _chat(saver, range(1, 4), [], {}, made=iter(padded))
        before = _history(saver)
    literal = "left(version, 1) = '}' AND version ~ '^}[0-9][0-9]+[.]'"
    with psycopg.connect(pg_dsn) as conn:  # back to layout 39: the keys long, as it wrote them
        rows = conn.execute(f"SELECT count(*) FROM threadloom_checkpoint_blobs WHERE {literal}")
        assert rows.fetchone() == (3,)
        conn.execute(
            "UPDATE threadloom_checkpoint_blobs SET version = overlay(version placing '~' from 1),"
            " base_version = overlay(base_version placing '~' from 1) WHERE "
            f"{literal}"
        )
        conn.execute(
            "UPDATE threadloom_checkpoint_writes SET type = overlay(type placing '~' from 2) "
            "WHERE type ~ '^.}[0-9][0-9]+[.]'"
        )
        conn.execute("DELETE FROM threadloom_checkpoint_migrations WHERE v > 39")
    assert _rows(
        pg_dsn,
        "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE version "
        "LIKE '~%' OR base_version LIKE '~%'",
    ) == [(3,)]
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        assert _history(saver) == before
    assert _rows(
        pg_dsn,
        "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE version "
        "LIKE '~%' OR base_version LIKE '~%'",
    ) == [(0,)]
    ((refs,),) = _rows(
        pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_writes WHERE type LIKE '_~%'"
    )
    assert refs == 0
