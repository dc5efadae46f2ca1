"""``migrate_checkpoints``: LangGraph 1.2 threads (SQLite and PostgreSQL) copied into threadloom's
savers continue under threadloom's engine exactly where LangGraph left them."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langgraph.checkpoint.sqlite")

from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from migrate_sources import THREADS, build, config, make_threads, outcome, summary

from threadloom.checkpoint.base import CheckpointTuple
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import LangGraphSourceError
from threadloom.interop.migrate import MigrationStep, first_difference, migrate_checkpoints


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def langgraph_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file LangGraph's SqliteSaver wrote with ``THREADS``."""
    path = tmp_path_factory.mktemp("lg") / "langgraph.db"
    with LangGraphSqliteSaver.from_conn_string(str(path)) as saver:
        make_threads(saver)
    return path


@pytest.fixture
def source(langgraph_file: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "source.db"
    shutil.copy(langgraph_file, copy)
    return copy


@contextmanager
def threadloom_target(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    if kind == "sqlite":
        with SqliteSaver.from_conn_string(str(tmp_path / "target.db")) as saver:
            saver.setup()
            yield saver
    else:
        from threadloom.checkpoint.postgres import PostgresSaver

        dsn = request.getfixturevalue("pg_dsn")
        with PostgresSaver.from_conn_string(dsn) as saver:
            saver.setup()
            yield saver


def check_continues(source_file: Path, target: Any, tmp_path: Path) -> None:
    """Every thread reads the same under threadloom as under LangGraph, and the interrupted
    ones resume to the same results."""
    lg_builder, lg_command = build("langgraph")
    tl_builder, tl_command = build("threadloom")
    replay = tmp_path / "replay.db"
    shutil.copy(source_file, replay)  # LangGraph resumes on a copy: the source stays as it was
    with LangGraphSqliteSaver.from_conn_string(str(replay)) as lg_saver:
        check_same_threads(
            lg_builder.compile(checkpointer=lg_saver), lg_command, tl_builder, tl_command, target
        )


def check_same_threads(
    lg_graph: Any, lg_command: Any, tl_builder: Any, tl_command: Any, target: Any
) -> None:
    tl_graph = tl_builder.compile(checkpointer=target)
    for thread_id in THREADS:
        assert summary(tl_graph, thread_id) == summary(lg_graph, thread_id), thread_id
    for thread_id, answers in [
        ("waits-ask", ["yes", "ok"]),
        ("waits-sub", ["fine"]),
        ("updated", ["no", "ok"]),
    ]:
        for answer in answers:
            expected = lg_graph.invoke(lg_command(resume=answer), config(thread_id))
            got = tl_graph.invoke(tl_command(resume=answer), config(thread_id))
            assert outcome(got) == outcome(expected), (thread_id, answer)
    assert tl_graph.get_state(config("waits-sub")).values["items"][-1] == "sub-fine"


@pytest.mark.parametrize("target_kind", ["sqlite", "postgres"])
def test_sqlite_threads_continue_under_threadloom(
    source: Path, tmp_path: Path, request: pytest.FixtureRequest, target_kind: str
) -> None:
    before = digest(source)
    with threadloom_target(target_kind, tmp_path, request) as target:
        report = migrate_checkpoints(source, target)
        assert report.threads == len(THREADS)
        assert report.copied == report.checkpoints > len(THREADS) and report.skipped == 0
        assert report.writes > 0
        again = migrate_checkpoints(str(source), target)
        assert (again.copied, again.skipped, again.writes) == (0, report.checkpoints, 0)
        assert digest(source) == before
        check_continues(source, target, tmp_path)
    assert digest(source) == before


def test_postgres_threads_continue_under_threadloom(
    pg_server: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pytest.importorskip("langgraph.checkpoint.postgres")
    from langgraph.checkpoint.postgres import PostgresSaver as LangGraphPostgresSaver

    from threadloom.checkpoint.postgres import PostgresSaver

    source_dsn, drop_source = pg_server.fresh_database()
    target_dsn, drop_target = pg_server.fresh_database()
    try:
        with LangGraphPostgresSaver.from_conn_string(source_dsn) as lg_saver:
            lg_saver.setup()
            make_threads(lg_saver)
        before = dump(source_dsn)
        with PostgresSaver.from_conn_string(target_dsn) as target:
            target.setup()
            report = migrate_checkpoints(source_dsn, target)
            assert report.copied == report.checkpoints and report.writes > 0
            assert migrate_checkpoints(source_dsn, target).copied == 0
            assert dump(source_dsn) == before
            with LangGraphPostgresSaver.from_conn_string(source_dsn) as lg_saver:
                lg_builder, lg_command = build("langgraph")
                tl_builder, tl_command = build("threadloom")
                check_same_threads(
                    lg_builder.compile(checkpointer=lg_saver),
                    lg_command,
                    tl_builder,
                    tl_command,
                    target,
                )
    finally:
        drop_target()
        drop_source()


def dump(dsn: str) -> list[Any]:
    """Every row of LangGraph's checkpoint tables, in a stable order."""
    import psycopg

    with psycopg.connect(dsn) as conn:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3, 4").fetchall()
            for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        ]


def test_an_interrupted_migration_continues_where_it_stopped(source: Path, tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def stop_after_five(step: MigrationStep) -> None:
        if step.done == 5:
            raise Stop

    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as target:
        target.setup()
        with pytest.raises(Stop):
            migrate_checkpoints(source, target, progress=stop_after_five)
        steps: list[MigrationStep] = []
        report = migrate_checkpoints(source, target, progress=steps.append)
        assert report.skipped == 5 and report.copied == report.checkpoints - 5
        assert [s.done for s in steps] == list(range(1, report.checkpoints + 1))
        assert {s.total for s in steps} == {report.checkpoints}
        assert [s.copied for s in steps[:5]] == [False] * 5


def test_thread_ids_pick_threads_and_unknown_ones_copy_nothing(
    source: Path, tmp_path: Path
) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as target:
        target.setup()
        with pytest.raises(LangGraphSourceError, match="'nope'"):
            migrate_checkpoints(source, target, thread_ids=["done", "nope"])
        assert list(target.list(None)) == []
        report = migrate_checkpoints(source, target, thread_ids=["done"])
        assert report.threads == 1
        assert {t.config["configurable"]["thread_id"] for t in target.list(None)} == {"done"}


def test_a_read_only_source_file_migrates(source: Path, tmp_path: Path) -> None:
    source.chmod(0o444)
    source.parent.chmod(0o555)  # not even a journal can be made next to it
    try:
        with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as target:
            target.setup()
            assert migrate_checkpoints(source, target).copied > 0
    finally:
        source.parent.chmod(0o755)
        source.chmod(0o644)


def test_sources_that_are_not_langgraph_checkpoints_are_refused(tmp_path: Path) -> None:
    ours = tmp_path / "threadloom.db"
    with SqliteSaver.from_conn_string(str(ours)) as target:
        target.setup()
        with pytest.raises(LangGraphSourceError, match="it is a threadloom database"):
            migrate_checkpoints(ours, target)
        with pytest.raises(LangGraphSourceError, match="no such file"):
            migrate_checkpoints(tmp_path / "missing.db", target)
        (tmp_path / "notes.txt").write_text("hello, not a database at all" * 100)
        with pytest.raises(LangGraphSourceError, match="not a SQLite database"):
            migrate_checkpoints(tmp_path / "notes.txt", target)
        empty = tmp_path / "empty.db"
        sqlite3.connect(empty).execute("CREATE TABLE notes (x)").connection.close()
        with pytest.raises(LangGraphSourceError, match="not a LangGraph checkpointer database"):
            migrate_checkpoints(empty, target)
        with pytest.raises(TypeError, match="threadloom BaseCheckpointSaver"):
            migrate_checkpoints(ours, LangGraphSqliteSaver(None))  # type: ignore[arg-type]


def test_first_difference_names_what_a_copy_lost() -> None:
    checkpoint: Any = {
        "v": 4,
        "id": "1",
        "ts": "t",
        "channel_values": {"items": ["a"]},
        "channel_versions": {"items": "1"},
        "versions_seen": {},
        "updated_channels": None,
    }
    parent = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "0"}}
    saved = CheckpointTuple({}, checkpoint, {"step": 1}, parent, [("task", "items", ["b"])])
    assert first_difference(saved, saved) is None
    assert first_difference(saved, None) == "checkpoint (missing)"
    changed = {**checkpoint, "channel_values": {"items": ["a", "x"]}}
    assert first_difference(saved, saved._replace(checkpoint=changed)) == "channel_values"
    assert first_difference(saved, saved._replace(metadata={"step": 2})) == "metadata"
    assert first_difference(saved, saved._replace(parent_config=None)) == "parent"
    assert first_difference(saved, saved._replace(pending_writes=[])) == "pending writes"
    with_writes_key = saved._replace(metadata={"step": 1, "writes": {"x": 1}})
    assert first_difference(saved, with_writes_key) is None  # legacy key, never stored


def test_an_entrypoint_thread_resumes_without_running_its_finished_task_again(
    tmp_path: Path,
) -> None:
    import importlib

    calls: list[tuple[str, int]] = []

    def flow(root: str, saver: Any) -> tuple[Any, Any]:
        func = importlib.import_module(f"{root}.func")
        types = importlib.import_module(f"{root}.types")

        @func.task
        def double(x: int) -> int:
            calls.append((root, x))
            return 2 * x

        @func.entrypoint(checkpointer=saver)
        def run(x: int) -> dict[str, Any]:
            doubled = double(x).result()
            return {"doubled": doubled, "answer": types.interrupt(f"keep {doubled}?")}

        return run, types.Command

    cfg = {"configurable": {"thread_id": "f"}}
    source = tmp_path / "functional.db"
    with LangGraphSqliteSaver.from_conn_string(str(source)) as lg_saver:
        lg_flow, _ = flow("langgraph", lg_saver)
        lg_flow.invoke(3, cfg)
        lg_state = lg_flow.get_state(cfg)
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as target:
        target.setup()
        migrate_checkpoints(source, target)
        tl_flow, command = flow("threadloom", target)
        state = tl_flow.get_state(cfg)
        assert [(t.id, t.interrupts[0].id) for t in state.tasks] == [
            (t.id, t.interrupts[0].id) for t in lg_state.tasks
        ]
        assert tl_flow.invoke(command(resume="yes"), cfg) == {"doubled": 6, "answer": "yes"}
    assert calls == [("langgraph", 3)]  # the task's saved result was used, not run again


def test_the_states_own_types_are_allowed_by_name(tmp_path: Path) -> None:
    from migrate_sources import Order, make_order_thread

    from threadloom.errors import UnserializableValueError

    source = tmp_path / "orders.db"
    with LangGraphSqliteSaver.from_conn_string(str(source)) as lg_saver:
        make_order_thread(lg_saver)
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as target:
        target.setup()
        with pytest.raises(UnserializableValueError, match="with_allowlist"):
            migrate_checkpoints(source, target)
        report = migrate_checkpoints(source, target, allowed_types=[Order])
        assert report.copied == report.checkpoints
        saved = target.with_allowlist([Order]).get_tuple(config("order"))
        assert saved is not None and saved.checkpoint["channel_values"]["order"] == Order(2)


def test_a_migrated_chat_stores_each_turn_as_a_delta(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.graph import START, MessagesState, StateGraph

    builder = StateGraph(MessagesState)
    builder.add_node("bot", lambda state: {"messages": [AIMessage("a reply " * 20)]})
    builder.add_edge(START, "bot")
    source, turns = tmp_path / "chat.db", 30
    with LangGraphSqliteSaver.from_conn_string(str(source)) as lg_saver:
        graph = builder.compile(checkpointer=lg_saver)
        for turn in range(turns):
            graph.invoke({"messages": [HumanMessage(f"turn {turn}")]}, config("chat"))
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as target:
        target.setup()
        migrate_checkpoints(source, target)
        size = target.thread_size_report("chat")
        # every version of the history after the first is its new tail only
        assert size.delta_blobs >= 2 * turns - 2
        whole = len(target.get_tuple(config("chat")).checkpoint["channel_values"]["messages"])
        assert whole == 2 * turns
