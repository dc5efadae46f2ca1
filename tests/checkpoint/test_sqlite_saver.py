"""SqliteSaver and AsyncSqliteSaver on real files: conformance, reopening, processes, graphs."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import traceback
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, empty_checkpoint
from threadloom.checkpoint.conformance import checkpointer_test, validate
from threadloom.checkpoint.conformance.suites import SUITES
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite._statements import MIGRATIONS
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.errors import CheckpointConflictError, StorageError


async def test_sqlite_saver_is_full(tmp_path: Path) -> None:
    @checkpointer_test(name="SqliteSaver-test")
    async def make() -> AsyncIterator[SqliteSaver]:
        with SqliteSaver.from_conn_string(str(tmp_path / "sync.db")) as saver:
            yield saver

    report = await validate(make)
    assert [f for r in report.results.values() for f in r.failures] == []
    assert report.conformance_level() == "FULL"
    assert all(r.detected for r in report.results.values())
    assert sum(r.tests_passed for r in report.results.values()) == sum(map(len, SUITES.values()))


async def test_async_sqlite_saver_is_full(tmp_path: Path) -> None:
    @checkpointer_test(name="AsyncSqliteSaver-test")
    async def make() -> AsyncIterator[AsyncSqliteSaver]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "async.db")) as saver:
            yield saver

    report = await validate(make)
    assert [f for r in report.results.values() for f in r.failures] == []
    assert report.conformance_level() == "FULL"
    assert all(r.detected for r in report.results.values())
    assert sum(r.tests_passed for r in report.results.values()) == sum(map(len, SUITES.values()))


def _put(saver: SqliteSaver, thread_id: str, parent: str | None, checkpoint_id: str) -> dict:
    checkpoint = {**empty_checkpoint(), "id": checkpoint_id}
    checkpoint["channel_values"] = {"n": checkpoint_id}
    checkpoint["channel_versions"] = {"n": checkpoint_id}
    configurable = {"thread_id": thread_id, "checkpoint_ns": ""}
    if parent is not None:
        configurable["checkpoint_id"] = parent
    return saver.put({"configurable": configurable}, checkpoint, {"step": 1}, {"n": checkpoint_id})


def test_reopening_the_file_keeps_everything(tmp_path: Path) -> None:
    path = str(tmp_path / "c.db")
    with SqliteSaver.from_conn_string(path) as saver:
        _put(saver, "t", None, "1")
        config = _put(saver, "t", "1", "2")
        saver.put_writes(config, [("n", "pending")], "task-1")
    with SqliteSaver.from_conn_string(path) as saver:
        head = saver.get_tuple({"configurable": {"thread_id": "t"}})
        assert head is not None
        assert head.checkpoint["id"] == "2"
        assert head.checkpoint["channel_values"] == {"n": "2"}
        assert head.pending_writes == [("task-1", "n", "pending")]
        assert [c.checkpoint["id"] for c in saver.list({"configurable": {"thread_id": "t"}})] == [
            "2",
            "1",
        ]
        versions = [r[0] for r in saver.conn.execute("SELECT v FROM checkpoint_migrations")]
        assert versions == list(range(len(MIGRATIONS)))  # nothing applied twice


def test_setup_turns_on_wal_and_list_filter_runs_in_sql(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        saver.setup()
        saver.setup()
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        _put(saver, "t", None, "1")
        found = list(saver.list(None, filter={"step": 1, "source": None}, limit=1))
        assert [c.checkpoint["id"] for c in found] == ["1"]
        assert list(saver.list(None, filter={"step": 2})) == []
        with pytest.raises(ValueError, match="Invalid filter key"):  # LangGraph's words
            list(saver.list(None, filter={"a'b": 1}))


def test_a_new_file_goes_to_wal_without_a_rollback_journal(tmp_path: Path) -> None:
    """A new file's switch to WAL writes no rollback journal (two fsyncs and an unlink saved on
    a new file's first call): it works while no journal file can be made, here because a folder
    has the journal's name until the switch is done. Before, SQLite refused it ("unable to open
    database file")."""
    blocker = tmp_path / "c.db-journal"
    blocker.mkdir()
    switched = [False]

    def trace(statement: str) -> None:  # called as each statement starts
        if switched[0] and blocker.exists():
            blocker.rmdir()  # the switch is over: a journal may be made again
        switched[0] = switched[0] or statement == "PRAGMA journal_mode = WAL"

    conn = sqlite3.connect(tmp_path / "c.db", check_same_thread=False)
    conn.set_trace_callback(trace)
    with SqliteSaver(conn) as saver:
        saver.setup()
        assert switched[0] and not blocker.exists()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        _put(saver, "t", None, "1")
    conn.close()
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:  # read back
        head = saver.get_tuple({"configurable": {"thread_id": "t"}})
        assert head is not None and head.checkpoint["id"] == "1"


@pytest.mark.parametrize("path", ["", "empty.db"])
def test_a_new_file_that_cannot_go_to_wal_keeps_its_journal_mode(tmp_path: Path, path: str) -> None:
    """The journal is turned off only for the switch: a temporary database (no WAL there) stays
    in its ``delete`` mode, and so does a new file opened read-only, whose setup fails."""
    if path:
        (tmp_path / path).touch()
        conn = sqlite3.connect(f"file:{tmp_path / path}?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(path)
    saver = SqliteSaver(conn)
    try:
        if path:
            with pytest.raises(StorageError, match="read-only"):
                saver.setup()
        else:
            saver.setup()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_expected_head_conflict_stores_nothing(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        _put(saver, "t", None, "1")
        _put(saver, "t", "1", "2")  # another writer moved the head
        checkpoint = {**empty_checkpoint(), "id": "3"}
        checkpoint["channel_values"] = {"n": "x"}
        config = {"configurable": {"thread_id": "t", "checkpoint_id": "1"}}
        config["configurable"][CONFIG_KEY_EXPECTED_HEAD] = "1"
        with pytest.raises(CheckpointConflictError):
            saver.put(config, checkpoint, {}, {"n": "3"})  # type: ignore[arg-type]
        assert saver.conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 2
        assert (
            saver.conn.execute(
                "SELECT count(*) FROM checkpoint_blobs WHERE version = '\"3\"'"
            ).fetchone()[0]
            == 0
        )
        config["configurable"][CONFIG_KEY_EXPECTED_HEAD] = "2"
        saver.put(config, checkpoint, {}, {"n": "3"})  # type: ignore[arg-type]
        head = saver.get_tuple({"configurable": {"thread_id": "t"}})
        assert head is not None and head.checkpoint["id"] == "3"


def _writer(path: str, thread_id: str, count: int) -> None:
    try:
        with SqliteSaver.from_conn_string(path) as saver:
            parent = None
            for i in range(count):
                checkpoint_id = f"{i:06}"
                _put(saver, thread_id, parent, checkpoint_id)
                parent = checkpoint_id
    except BaseException:
        # The parent only sees an exit code: leave it the reason.
        Path(f"{path}.{thread_id}.err").write_text(traceback.format_exc())
        raise


def test_two_processes_write_one_file(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, f"t{i}", 60)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    errors = [p.read_text() for p in sorted(tmp_path.glob("*.err"))]
    assert errors == [] and [w.exitcode for w in workers] == [0, 0]  # no "database is locked"
    with SqliteSaver.from_conn_string(path) as saver:
        for thread_id in ("t0", "t1"):
            assert len(list(saver.list({"configurable": {"thread_id": thread_id}}))) == 60


def test_graph_conversation_survives_a_new_saver(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessage

    from threadloom.graph import START, MessagesState, StateGraph

    def reply(state: MessagesState) -> dict:
        return {"messages": [AIMessage(f"heard {len(state['messages'])}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    path = str(tmp_path / "chat.db")
    config = {"configurable": {"thread_id": "chat"}}
    with SqliteSaver.from_conn_string(path) as saver:
        graph = builder.compile(checkpointer=saver)
        graph.invoke({"messages": [("user", "hi")]}, config)
        graph.invoke({"messages": [("user", "again")]}, config)
    with SqliteSaver.from_conn_string(path) as saver:
        graph = builder.compile(checkpointer=saver)
        texts = [m.content for m in graph.get_state(config).values["messages"]]
    assert texts == ["hi", "heard 1", "again", "heard 3"]


def test_interrupt_resumes_after_reopening(tmp_path: Path) -> None:
    from typing import TypedDict

    from threadloom.graph import START, StateGraph
    from threadloom.types import Command, interrupt

    class State(TypedDict):
        answer: str

    def ask(state: State) -> dict:
        return {"answer": interrupt("name?")}

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    path = str(tmp_path / "hitl.db")
    config = {"configurable": {"thread_id": "h"}}
    with SqliteSaver.from_conn_string(path) as saver:
        paused = builder.compile(checkpointer=saver).invoke({"answer": ""}, config)
        assert paused["__interrupt__"][0].value == "name?"
    with SqliteSaver.from_conn_string(path) as saver:
        done = builder.compile(checkpointer=saver).invoke(Command(resume="Bob"), config)
    assert done == {"answer": "Bob"}


async def test_async_saver_sees_sync_saver_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "both.db")
    with SqliteSaver.from_conn_string(path) as saver:
        _put(saver, "t", None, "1")
    async with AsyncSqliteSaver.from_conn_string(path) as asaver:
        head = await asaver.aget_tuple({"configurable": {"thread_id": "t"}})
        assert head is not None and head.checkpoint["channel_values"] == {"n": "1"}
        with pytest.raises(asyncio.InvalidStateError):
            asaver.get_tuple({"configurable": {"thread_id": "t"}})  # on the loop: would hang
        other = await asyncio.to_thread(asaver.get_tuple, {"configurable": {"thread_id": "t"}})
        assert other is not None and other.checkpoint["id"] == "1"


def test_growing_list_is_stored_as_deltas_and_read_back_after_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "chat.db")
    history: list[str] = []
    with SqliteSaver.from_conn_string(path) as saver:
        parent = None
        for turn in range(20):
            history = [*history, f"message {turn}"]
            checkpoint = {**empty_checkpoint(), "id": f"{turn:04}"}
            checkpoint["channel_values"] = {"messages": history}
            checkpoint["channel_versions"] = {"messages": turn + 1}
            configurable = {"thread_id": "c", "checkpoint_ns": ""}
            if parent is not None:
                configurable["checkpoint_id"] = parent
            saver.put({"configurable": configurable}, checkpoint, {}, {"messages": turn + 1})  # type: ignore[arg-type]
            parent = checkpoint["id"]
        report = saver.thread_size_report("c")
        assert report.blobs == 20 and report.delta_blobs == 19  # only the first is whole
    with SqliteSaver.from_conn_string(path) as saver:
        head = saver.get_tuple({"configurable": {"thread_id": "c"}})
        assert head is not None and head.checkpoint["channel_values"]["messages"] == history
        middle = saver.get_tuple({"configurable": {"thread_id": "c", "checkpoint_id": "0009"}})
        assert middle is not None
        assert middle.checkpoint["channel_values"]["messages"] == history[:10]
        saver.prune(["c"], keep_last=1)
        assert saver.thread_size_report("c").checkpoints == 1
        head = saver.get_tuple({"configurable": {"thread_id": "c"}})
        assert head is not None and head.checkpoint["channel_values"]["messages"] == history


async def test_async_graph_conversation_survives_a_new_saver(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessage

    from threadloom.graph import START, MessagesState, StateGraph

    def reply(state: MessagesState) -> dict:
        return {"messages": [AIMessage(f"heard {len(state['messages'])}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    path = str(tmp_path / "achat.db")
    config = {"configurable": {"thread_id": "chat"}}
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        graph = builder.compile(checkpointer=saver)
        await graph.ainvoke({"messages": [("user", "hi")]}, config)
        await graph.ainvoke({"messages": [("user", "again")]}, config)
    async with AsyncSqliteSaver.from_conn_string(path) as saver:
        state = await builder.compile(checkpointer=saver).aget_state(config)
    assert [m.content for m in state.values["messages"]] == ["hi", "heard 1", "again", "heard 3"]


def test_threads_of_one_process_share_a_saver(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:

        def write(thread_id: str) -> None:
            parent = None
            for i in range(30):
                _put(saver, thread_id, parent, f"{i:04}")
                parent = f"{i:04}"

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(write, ["a", "b", "c", "d"]))
        for thread_id in "abcd":
            head = saver.get_tuple({"configurable": {"thread_id": thread_id}})
            assert head is not None and head.checkpoint["id"] == "0029"


def test_head_lookup_and_history_page_use_the_primary_key(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        saver.setup()
        plan = " ".join(
            str(row[-1])
            for row in saver.conn.execute(
                "EXPLAIN QUERY PLAN SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? "
                "AND checkpoint_ns = ? AND checkpoint_id < ? ORDER BY checkpoint_id DESC LIMIT 1",
                ("t", "", "9"),
            )
        )
        assert "SEARCH" in plan and "PRIMARY KEY" in plan and "TEMP B-TREE" not in plan


def test_list_reads_each_checkpoint_when_asked(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        _put(saver, "t", None, "1")
        _put(saver, "t", "1", "2")
        history = saver.list({"configurable": {"thread_id": "t"}})
        assert next(history).checkpoint["id"] == "2"
        saver.delete_thread("t")  # while the caller is still iterating
        assert list(history) == []


@pytest.mark.parametrize("isolation_level", ["", "DEFERRED", None])
def test_any_transaction_mode_of_a_given_connection(
    tmp_path: Path, isolation_level: str | None
) -> None:
    path = str(tmp_path / "c.db")
    conn = sqlite3.connect(path, isolation_level=isolation_level)
    saver = SqliteSaver(conn)
    _put(saver, "t", None, "1")
    assert not conn.in_transaction  # committed, nothing left open
    conn.close()
    with SqliteSaver.from_conn_string(path) as reopened:
        head = reopened.get_tuple({"configurable": {"thread_id": "t"}})
        assert head is not None and head.checkpoint["id"] == "1"


def _message_chain(path: str, turns: int) -> list[dict[str, str]]:
    """A thread "c" of ``turns`` checkpoints, each one message longer (a delta chain)."""
    history: list[dict[str, str]] = []
    with SqliteSaver.from_conn_string(path) as saver:
        parent = None
        for turn in range(turns):
            history = [*history, {"text": f"message {turn}"}]
            checkpoint = {**empty_checkpoint(), "id": f"{turn:04}"}
            checkpoint["channel_values"] = {"messages": history}
            checkpoint["channel_versions"] = {"messages": turn + 1}
            configurable = {"thread_id": "c", "checkpoint_ns": ""}
            if parent is not None:
                configurable["checkpoint_id"] = parent
            saver.put({"configurable": configurable}, checkpoint, {}, {"messages": turn + 1})  # type: ignore[arg-type]
            parent = checkpoint["id"]
    return history


T = TypeVar("T")


def _read_cold(path: str, read: Callable[[SqliteSaver], T]) -> tuple[T, list[str]]:
    """``read`` on a fresh saver of ``path`` (cold: nothing remembered), and the statements it
    sent to SQLite."""
    with SqliteSaver.from_conn_string(path) as saver:
        saver.setup()
        statements: list[str] = []
        saver.conn.set_trace_callback(statements.append)
        result = read(saver)
        saver.conn.set_trace_callback(None)
    return result, statements


def test_a_history_walk_reads_pages_in_a_few_queries_and_decodes_each_row_once(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "walk.db")
    history = _message_chain(path, 200)
    walked, statements = _read_cold(
        path, lambda s: list(s.list({"configurable": {"thread_id": "c"}}))
    )
    assert [len(t.checkpoint["channel_values"]["messages"]) for t in walked] == list(
        range(200, 0, -1)
    )
    assert walked[0].checkpoint["channel_values"]["messages"] == history
    assert walked[150].checkpoint["channel_values"]["messages"] == history[:50]
    # pages of 1, 2, 4 ... 64: a handful of statements each, not several per checkpoint
    assert len(statements) < 100
    # an element stored once is decoded once per walk: every snapshot shares it
    assert (
        walked[0].checkpoint["channel_values"]["messages"][0]
        is (walked[199].checkpoint["channel_values"]["messages"][0])
    )


def test_batched_reads_use_the_primary_keys(tmp_path: Path) -> None:
    from threadloom.checkpoint.sqlite import _statements as sql

    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        saver.setup()
        for statement in (sql.HEADERS_AT, sql.BLOB_ROWS, sql.WRITES_AT):
            plan = " ".join(
                str(row[-1])
                for row in saver.conn.execute(f"EXPLAIN QUERY PLAN {statement}", ["[]"])
            )
            assert "USING PRIMARY KEY" in plan, statement


def test_driver_errors_become_storage_errors(tmp_path: Path) -> None:
    from threadloom.errors import StorageError

    conn = sqlite3.connect(tmp_path / "a.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    conn.close()
    with pytest.raises(StorageError, match=r"connection is closed.*from_conn_string") as closed:
        saver.get_tuple({"configurable": {"thread_id": "t"}})
    assert isinstance(closed.value.__cause__, sqlite3.ProgrammingError)
    (tmp_path / "b.db").write_bytes(b"not a database " * 100)
    with SqliteSaver.from_conn_string(str(tmp_path / "b.db")) as garbage:
        with pytest.raises(StorageError, match="not a database") as bad:
            garbage.get_tuple({"configurable": {"thread_id": "t"}})
        assert isinstance(bad.value.__cause__, sqlite3.DatabaseError)


async def test_async_driver_errors_become_storage_errors(tmp_path: Path) -> None:
    from threadloom.errors import StorageError

    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "a.db")) as saver:
        await saver.setup()
    with pytest.raises(StorageError, match="connection is closed"):
        await saver.aget_tuple({"configurable": {"thread_id": "t"}})


def test_a_listing_with_a_limit_reads_its_checkpoints_in_one_page(tmp_path: Path) -> None:
    from threadloom.checkpoint.sqlite import _statements as sql

    path = str(tmp_path / "limit.db")
    with SqliteSaver.from_conn_string(path) as saver:
        parent = None
        for turn in range(30):
            checkpoint = {**empty_checkpoint(), "id": f"{turn:04}"}
            configurable = {"thread_id": "c", "checkpoint_ns": ""}
            if parent is not None:
                configurable["checkpoint_id"] = parent
            saver.put({"configurable": configurable}, checkpoint, {}, {})  # type: ignore[arg-type]
            parent = checkpoint["id"]
    walked, statements = _read_cold(
        path, lambda s: list(s.list({"configurable": {"thread_id": "c"}}, limit=10))
    )
    assert [t.checkpoint["id"] for t in walked] == [f"{n:04}" for n in range(29, 19, -1)]
    # one page: the headers of the ten in one query (pages of 1, 2, 4, 3 took four)
    assert sum(s.startswith(sql.HEADERS_AT.split(" WHERE")[0]) for s in statements) == 1


def test_a_cold_head_read_takes_a_lists_whole_delta_chain_in_one_query(tmp_path: Path) -> None:
    from threadloom.checkpoint.sqlite import _statements as sql

    path = str(tmp_path / "chain.db")
    history = _message_chain(path, 300)
    head, statements = _read_cold(path, lambda s: s.get_tuple({"configurable": {"thread_id": "c"}}))
    assert head is not None and head.checkpoint["channel_values"]["messages"] == history
    value_reads = [s for s in statements if "FROM checkpoint_blobs" in s]
    # the chain (a dozen levels of delta bases) in one query, not one query per level
    assert len(value_reads) == 1 and value_reads[0].startswith(sql.BLOB_CHAINS[:40])
