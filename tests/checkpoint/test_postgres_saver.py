"""PostgresSaver and AsyncPostgresSaver on a real server: conformance, setup, bad input.

Everything savers share runs on Postgres through ``conftest.BACKENDS``; this file holds what
is Postgres's own: the conformance report, setup rules, the connections it accepts and the
errors it gives for bad input (each leaving the database unchanged).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from postgres_server import pipelined_connection
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, empty_checkpoint
from threadloom.checkpoint.conformance import checkpointer_test, validate
from threadloom.checkpoint.conformance.suites import SUITES
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver
from threadloom.errors import (
    CheckpointConflictError,
    ConnectionStateError,
    DatabaseConnectionError,
    LangGraphDatabaseError,
    SetupRequiredError,
)
from threadloom.store.postgres.aio import AsyncPostgresStore

THREAD = {"configurable": {"thread_id": "t"}}


def _count(dsn: str, sql: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[call-overload]
        assert row is not None
        return row[0]


def _put(saver: Any, parent: str | None, checkpoint_id: str, **configurable: Any) -> Any:
    checkpoint = {**empty_checkpoint(), "id": checkpoint_id}
    checkpoint["channel_values"] = {"n": checkpoint_id}
    checkpoint["channel_versions"] = {"n": checkpoint_id}
    configurable = {"thread_id": "t", "checkpoint_ns": "", **configurable}
    if parent is not None:
        configurable["checkpoint_id"] = parent
    return saver.put({"configurable": configurable}, checkpoint, {"step": 1}, {"n": checkpoint_id})


def _assert_full(report: Any) -> None:
    assert [f for r in report.results.values() for f in r.failures] == []
    assert report.conformance_level() == "FULL"
    assert all(r.detected for r in report.results.values())
    assert sum(r.tests_passed for r in report.results.values()) == sum(map(len, SUITES.values()))


async def test_postgres_saver_is_full(pg_dsn: str) -> None:
    @checkpointer_test(name="PostgresSaver-test")
    async def make() -> AsyncIterator[PostgresSaver]:
        with PostgresSaver.from_conn_string(pg_dsn) as saver:
            saver.setup()
            yield saver

    _assert_full(await validate(make))


async def test_async_postgres_saver_is_full(pg_dsn: str) -> None:
    @checkpointer_test(name="AsyncPostgresSaver-test")
    async def make() -> AsyncIterator[AsyncPostgresSaver]:
        async with AsyncPostgresSaver.from_conn_string(pg_dsn, pool_config={"max_size": 4}) as s:
            await s.setup()
            yield s

    _assert_full(await validate(make))


def test_setup_never_called_is_a_clear_error_that_creates_nothing(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        with pytest.raises(
            SetupRequiredError, match=r"never been set up.*PostgresSaver\.setup\(\)"
        ):
            saver.get_tuple(THREAD)
        with pytest.raises(SetupRequiredError):
            _put(saver, None, "1")
    assert _count(pg_dsn, "SELECT to_regclass('threadloom_checkpoints') IS NULL")


def test_setup_is_idempotent_and_safe_from_many_workers_at_once(pg_dsn: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def set_up() -> None:
        try:
            with PostgresSaver.from_conn_string(pg_dsn) as saver:
                start.wait()
                saver.setup()
                saver.setup()
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=set_up) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_migrations") == _count(
        pg_dsn, "SELECT count(DISTINCT v) FROM threadloom_checkpoint_migrations"
    )
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        _put(saver, None, "1")
        assert saver.get_tuple(THREAD) is not None


def test_a_langgraph_database_is_refused_and_left_alone(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
            conn.execute(f"CREATE TABLE {table} (thread_id text)")  # type: ignore[call-overload]
        conn.execute("CREATE TABLE checkpoint_migrations (v integer PRIMARY KEY)")
        conn.execute("INSERT INTO checkpoints VALUES ('langgraph-thread')")
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        with pytest.raises(LangGraphDatabaseError, match="LangGraph's checkpoint tables") as info:
            saver.setup()
        assert "search_path" in str(info.value)
        with pytest.raises(LangGraphDatabaseError):
            saver.list(THREAD).__next__()
    assert _count(pg_dsn, "SELECT to_regclass('threadloom_checkpoints') IS NULL")
    assert _count(pg_dsn, "SELECT thread_id FROM checkpoints") == "langgraph-thread"


def test_a_dsn_that_does_not_connect_names_host_and_database_never_the_password(
    pg_dsn: str,
) -> None:
    params = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    params.update(password="s3cret-pw", dbname="no_such_db")
    bad = psycopg.conninfo.make_conninfo(**params)
    with pytest.raises(DatabaseConnectionError) as info, PostgresSaver.from_conn_string(bad):
        pass
    message = str(info.value)
    assert "no_such_db" in message and "s3cret-pw" not in message
    assert info.value.__cause__ is not None


def test_a_connection_in_a_failed_transaction_is_refused_and_nothing_is_stored(
    pg_dsn: str,
) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    with psycopg.connect(pg_dsn) as conn:  # not autocommit: the caller's own transaction
        saver = PostgresSaver(conn)
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM no_such_table")
        with pytest.raises(ConnectionStateError, match=r"failed transaction.*rollback"):
            _put(saver, None, "1")
        conn.rollback()
        _put(saver, None, "1")
        assert saver.get_tuple(THREAD) is not None
    assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoints") == 1


def test_any_connection_settings_and_a_pool_work(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    with psycopg.connect(pg_dsn, row_factory=dict_row, prepare_threshold=0) as conn:
        saver = PostgresSaver(conn)
        _put(saver, None, "1")
    with ConnectionPool(pg_dsn, min_size=1, max_size=2) as pool:
        saver = PostgresSaver(pool)
        _put(saver, "1", "2")
        assert [c.checkpoint["id"] for c in saver.list(THREAD)] == ["2", "1"]


def test_expected_head_conflict_stores_nothing(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _put(saver, None, "1")
        _put(saver, "1", "2")  # another writer moved the head
        with pytest.raises(CheckpointConflictError) as info:
            _put(saver, "1", "3", **{CONFIG_KEY_EXPECTED_HEAD: "1"})
        assert (info.value.seen_head, info.value.head) == ("1", "2")
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoints") == 2
        blobs = "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE version = '\"3\"'"
        assert _count(pg_dsn, blobs) == 0
        _put(saver, "2", "3", **{CONFIG_KEY_EXPECTED_HEAD: "2"})
        head = saver.get_tuple(THREAD)
        assert head is not None and head.checkpoint["id"] == "3"


def test_lookups_probe_the_primary_keys(pg_dsn: str) -> None:
    """The batched reads join on the whole primary key: a thread's history does not slow a put."""
    from threadloom.checkpoint.postgres import _statements as sql

    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        # A table large enough that scanning it would look cheap to a join on unknown keys.
        conn.execute(
            "INSERT INTO threadloom_threads (thread_id, checkpoint_ns) "
            "SELECT 't' || i, '' FROM generate_series(1, 5000) i"
        )
        conn.execute(
            "INSERT INTO threadloom_checkpoint_blobs SELECT tid, 'c' || i, '1', 'value', "
            "'msgpack', '\\x00', NULL, 0, -1 FROM threadloom_threads, generate_series(1, 2) i"
        )
        conn.execute("ANALYZE threadloom_threads")
        conn.execute("ANALYZE threadloom_checkpoint_blobs")
        keys = '[["t1", "", "n", "\\"1\\""]]'
        plan = conn.execute("EXPLAIN " + sql.BLOB_ROWS, (keys,)).fetchall()  # type: ignore[operator]
        text = "\n".join(r[0] for r in plan)
        # (thread, version) probed: its few rows (a value of None rides on one of them)
        assert "Index Cond: ((tid = t.tid) AND (version = (e.value ->> 3)))" in text
        assert "Seq Scan" not in text
        plan = conn.execute(
            "EXPLAIN " + sql.STORED_VERSIONS,  # type: ignore[operator]
            ("t1", "", '[["n", "\\"1\\""]]'),
        ).fetchall()
        text = "\n".join(r[0] for r in plan)
        assert "threadloom_checkpoint_blobs_key" in text and "Seq Scan" not in text


def _put_args() -> list[Any]:
    """A checkpoint, its metadata and new versions, for ``saver.put(config, *...)``."""
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"a": 1}
    checkpoint["channel_versions"] = {"a": 1}
    return [checkpoint, {"source": "input", "step": -1}, {"a": 1}]


def _stores_and_reads(saver: PostgresSaver) -> None:
    """A put, its writes, then the tuple and the list read back."""
    cfg: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    stored = saver.put(cfg, *_put_args())
    saver.put_writes(stored, [("a", 2)], "task-1")
    found = saver.get_tuple(cfg)
    assert found is not None and found.checkpoint["channel_values"] == {"a": 1}
    assert [w[1:] for w in found.pending_writes or []] == [("a", 2)]
    assert [t.config for t in saver.list(cfg)] == [found.config]


def test_a_saver_on_a_connection_in_pipeline_mode_reads_what_it_stores(pg_dsn: str) -> None:
    # LangGraph's PostgresSaver(conn, pipe=pipe): the caller keeps the connection in pipeline
    # mode, where a statement's rows arrive on the next sync; reads found nothing (IndexError).
    with psycopg.connect(pg_dsn, autocommit=True, row_factory=dict_row) as conn:
        PostgresSaver(conn).setup()
        with conn.pipeline() as pipe:
            _stores_and_reads(PostgresSaver(conn, pipe=pipe))


async def test_an_async_saver_on_a_connection_in_pipeline_mode(pg_dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(
        pg_dsn, autocommit=True, row_factory=dict_row
    ) as conn:
        await AsyncPostgresSaver(conn).setup()
        async with conn.pipeline() as pipe:
            saver = AsyncPostgresSaver(conn, pipe=pipe)
            cfg = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
            stored = await saver.aput(cfg, *_put_args())
            await saver.aput_writes(stored, [("a", 2)], "task-1")
            found = await saver.aget_tuple(cfg)
            assert found is not None and found.checkpoint["channel_values"] == {"a": 1}
            assert [w[1:] for w in found.pending_writes or []] == [("a", 2)]
            assert [t.config async for t in saver.alist(cfg)] == [found.config]


def test_from_conn_string_with_pipeline_keeps_its_connection_in_pipeline_mode(
    pg_dsn: str,
) -> None:
    # LangGraph's from_conn_string(pipeline=True); it raised UnsupportedParameterError
    with PostgresSaver.from_conn_string(pg_dsn) as plain:
        plain.setup()
    with PostgresSaver.from_conn_string(pg_dsn, pipeline=True) as saver:
        connection = pipelined_connection(saver)
        _stores_and_reads(saver)
    assert connection.closed


async def _saver_round_trip(saver: Any) -> None:
    cfg = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    stored = await saver.aput(cfg, *_put_args())
    found = await saver.aget_tuple(cfg)
    assert found is not None and found.config == stored


async def _store_round_trip(store: Any) -> None:
    await store.aput(("a",), "k", {"v": 1})
    item = await store.aget(("a",), "k")
    assert item is not None and item.value == {"v": 1}


@pytest.mark.parametrize(
    ("backend", "round_trip"),
    [(AsyncPostgresSaver, _saver_round_trip), (AsyncPostgresStore, _store_round_trip)],
)
async def test_async_from_conn_string_with_pipeline(
    pg_dsn: str, backend: Any, round_trip: Any
) -> None:
    # the async saver's and store's; the sync store's is in tests/store/
    async with backend.from_conn_string(pg_dsn) as plain:
        await plain.setup()
    async with backend.from_conn_string(pg_dsn, pipeline=True) as opened:
        connection = pipelined_connection(opened)
        await round_trip(opened)
    assert connection.closed


def test_shallow_savers_are_not_provided_and_say_what_to_use() -> None:
    # deprecated in LangGraph (langgraph-checkpoint-postgres 2.0.20): durability="exit" instead
    with pytest.raises(ImportError, match="Use PostgresSaver and run the graph with durability"):
        from threadloom.checkpoint.postgres import ShallowPostgresSaver  # noqa: F401
    with pytest.raises(ImportError, match="Use AsyncPostgresSaver"):
        from threadloom.checkpoint.postgres.aio import AsyncShallowPostgresSaver  # noqa: F401
