"""A PostgresSaver step is one statement; when the saver's knowledge is stale, the general path.

``PostgresSaver.put_step`` plans the step on what the saver knows is stored (the head the run
expects, the delta bases it last wrote or read) and sends it as one statement outside any
transaction (one round trip). The database checks that knowledge under the thread's lock; when
another worker changed the thread, nothing is written and the saver reads what is stored and
writes in one transaction, as before. These tests check both paths and the upgrade of a
database set up before the one-statement step existed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import psycopg
import pytest
from psycopg.pq import PipelineStatus, TransactionStatus

from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, empty_checkpoint
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.errors import CheckpointConflictError, SetupRequiredError

THREAD = {"configurable": {"thread_id": "t"}}


class RecordingCursor(psycopg.Cursor[Any]):
    """A cursor noting each statement it sends and whether a transaction was open then."""

    sent: ClassVar[list[tuple[str, TransactionStatus]]] = []
    pipelined: ClassVar[list[bool]] = []
    """Whether each statement of ``sent`` went in a pipeline (psycopg's pipeline mode)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self.sent.append((str(query), self.connection.info.transaction_status))
        self.pipelined.append(self.connection.pgconn.pipeline_status != PipelineStatus.OFF)
        return super().execute(query, params, **kwargs)


def _step(saver: PostgresSaver, parent: str | None, new: str, log: list[int]) -> Any:
    """A checkpoint ``new`` after ``parent`` whose list channel ``log`` is ``log``."""
    checkpoint = {**empty_checkpoint(), "id": new}
    checkpoint["channel_values"] = {"log": log}
    checkpoint["channel_versions"] = {"log": new}
    configurable: dict[str, Any] = {"thread_id": "t", "checkpoint_ns": ""}
    configurable[CONFIG_KEY_EXPECTED_HEAD] = parent
    writes: list[Any] = []
    if parent is not None:
        configurable["checkpoint_id"] = parent
        writes = [(f"task-{new}", "", [("log", log[-1])])]
    return saver.put_step(
        {"configurable": configurable}, writes, checkpoint, {"step": len(log)}, {"log": new}
    )


def _count(dsn: str, sql: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[call-overload]
        assert row is not None
        return int(row[0])


def test_a_step_is_one_statement_outside_a_transaction(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=RecordingCursor) as conn:
        saver = PostgresSaver(conn)
        _step(saver, None, "01", [1])
        RecordingCursor.sent.clear()
        _step(saver, "01", "02", [1, 2])
        assert [status for _sql, status in RecordingCursor.sent] == [TransactionStatus.IDLE]
        assert "threadloom_put_step" in RecordingCursor.sent[0][0]
        RecordingCursor.sent.clear()
        saver.put_writes(
            {"configurable": {**THREAD["configurable"], "checkpoint_id": "02"}},
            [("log", 3)],
            "task-x",
        )
        assert len(RecordingCursor.sent) == 1
    fresh = PostgresSaver(pg_dsn)
    head = fresh.get_tuple(THREAD)
    assert head is not None and head.checkpoint["channel_values"]["log"] == [1, 2]
    assert head.pending_writes == [("task-x", "log", 3)]
    assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE kind = 'delta'")


def test_a_head_moved_by_another_worker_is_a_conflict_and_stores_nothing(pg_dsn: str) -> None:
    with (
        PostgresSaver.from_conn_string(pg_dsn) as saver,
        PostgresSaver.from_conn_string(pg_dsn) as other,
    ):
        saver.setup()
        _step(saver, None, "01", [1])
        _step(other, "01", "02", [1, 2])
        with pytest.raises(CheckpointConflictError) as info:
            _step(saver, "01", "03", [1, 3])
        assert (info.value.seen_head, info.value.head) == ("01", "02")
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoints") == 2
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_writes") == 1


def test_a_base_deleted_by_another_worker_is_not_extended(pg_dsn: str) -> None:
    """The saver would store a delta on the version it wrote last; another worker deleted it:
    the step is stored whole, and reads back whole from a fresh saver."""
    with (
        PostgresSaver.from_conn_string(pg_dsn) as saver,
        PostgresSaver.from_conn_string(pg_dsn) as other,
    ):
        saver.setup()
        _step(saver, None, "01", [1])
        _step(saver, "01", "02", [1, 2])
        other.delete_thread("t")
        log = [1, 2, 3]
        checkpoint = {**empty_checkpoint(), "id": "03", "channel_values": {"log": log}}
        checkpoint["channel_versions"] = {"log": "03"}
        config = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "02"}}
        saver.put(config, checkpoint, {"step": 3}, {"log": "03"})
    fresh = PostgresSaver(pg_dsn)
    head = fresh.get_tuple(THREAD)
    assert head is not None and head.checkpoint["channel_values"]["log"] == [1, 2, 3]
    kinds = "SELECT count(*) FROM threadloom_checkpoint_blobs WHERE kind = 'value'"
    assert _count(pg_dsn, kinds) == 1


def test_a_step_repeated_after_it_committed_is_applied_once(pg_dsn: str) -> None:
    """A retry after the connection dropped while the step committed finds it is the head (the
    saver did not learn that it committed: a second saver plays the retry)."""
    with (
        PostgresSaver.from_conn_string(pg_dsn) as saver,
        PostgresSaver.from_conn_string(pg_dsn) as retry,
    ):
        saver.setup()
        _step(saver, None, "01", [1])
        first = _step(saver, "01", "02", [1, 2])
        assert _step(retry, "01", "02", [1, 2]) == first
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoints") == 2
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_writes") == 1


def test_a_head_read_runs_outside_a_transaction_and_once_held_is_one_statement(
    pg_dsn: str,
) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _step(saver, None, "01", [1])
        _step(saver, "01", "02", [1, 2])
        at_head = {"configurable": {**THREAD["configurable"], "checkpoint_id": "02"}}
        saver.put_writes(at_head, [("log", 3), ("log", 4)], "task-b")
        saver.put_writes(at_head, [("log", 5)], "task-a")
    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=RecordingCursor) as conn:
        saver = PostgresSaver(conn)
        saver.get_tuple({"configurable": {**THREAD["configurable"], "checkpoint_id": "01"}})
        RecordingCursor.sent.clear()
        head = saver.get_tuple(THREAD)  # the header, then its values with their delta chain
        assert [status for _sql, status in RecordingCursor.sent] == [TransactionStatus.IDLE] * 2
        assert "WITH RECURSIVE chain" in RecordingCursor.sent[1][0]  # one query, not a level each
        RecordingCursor.sent.clear()
        again = saver.get_tuple(THREAD)  # the values read first are held: the header only
        assert [status for _sql, status in RecordingCursor.sent] == [TransactionStatus.IDLE]
    for found in (head, again):
        assert found is not None and found.checkpoint["channel_values"]["log"] == [1, 2]
        assert found.pending_writes == [
            ("task-a", "log", 5),
            ("task-b", "log", 3),
            ("task-b", "log", 4),
        ]
        assert found.parent_config is not None
        assert found.config["configurable"]["checkpoint_id"] == "02"


def test_the_head_a_saver_wrote_is_read_in_one_statement_as_stored(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=RecordingCursor) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        _step(saver, None, "01", [1])
        checkpoint = {**empty_checkpoint(), "id": "02"}
        checkpoint["channel_values"] = {"log": [1, 2], "note": {"text": "kept"}}
        checkpoint["channel_versions"] = {"log": "02", "note": "02"}
        configurable = {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "01"}
        saver.put({"configurable": configurable}, checkpoint, {}, {"log": "02", "note": "02"})
        RecordingCursor.sent.clear()
        head = saver.get_tuple(THREAD)
        assert len(RecordingCursor.sent) == 1
        assert head is not None
        values = head.checkpoint["channel_values"]
        assert values == {"log": [1, 2], "note": {"text": "kept"}}
        values["log"].append(99)  # the caller's own copies: the next read is as stored
        values["note"]["text"] = "changed"
        again = saver.get_tuple(THREAD)
        assert again is not None
        assert again.checkpoint["channel_values"] == {"log": [1, 2], "note": {"text": "kept"}}


def test_a_head_another_worker_moved_is_read_from_the_database(pg_dsn: str) -> None:
    with (
        PostgresSaver.from_conn_string(pg_dsn) as ours,
        PostgresSaver.from_conn_string(pg_dsn) as theirs,
    ):
        ours.setup()
        _step(ours, None, "01", [1])
        _step(ours, "01", "02", [1, 2])
        assert theirs.get_tuple(THREAD) is not None
        _step(theirs, "02", "03", [1, 2, 3])  # moved: versions ours never held
        head = ours.get_tuple(THREAD)
        assert head is not None and head.checkpoint["channel_values"]["log"] == [1, 2, 3]


def _drive(conn: psycopg.Connection[Any], unit: Any, after_first: Any) -> Any:
    """Run a unit of work by hand on ``conn`` (autocommit), calling ``after_first`` once the
    first statement ran: another worker acting between two statements of the unit."""
    from threadloom._postgres import Query

    result: Any = None
    first = True
    while True:
        try:
            effect = unit.send(result)
        except StopIteration as done:
            return done.value
        assert isinstance(effect, Query)
        if not effect.solo and conn.info.transaction_status == TransactionStatus.IDLE:
            conn.execute("BEGIN")  # as the driver opens the unit's transaction
        cur = conn.execute(effect.sql, effect.params)
        result = cur.fetchall() if cur.description is not None else []
        if first:
            first = False
            after_first()


def test_a_head_deleted_between_the_two_statements_is_read_again_in_a_snapshot(
    pg_dsn: str,
) -> None:
    from threadloom.checkpoint.postgres._core import PgCore, as_unit

    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _step(saver, None, "01", [1])
        _step(saver, "01", "02", [1, 2])
        core = PgCore("PostgresSaver")
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            unit = as_unit(core.get_tuple(saver.serde, THREAD))
            gone = _drive(conn, unit, lambda: saver.delete_thread("t"))
            assert gone is None  # never a header without its values
            conn.execute("COMMIT")
            _step(saver, None, "03", [3])
            unit = as_unit(core.get_tuple(saver.serde, THREAD))
            found = _drive(conn, unit, lambda: None)
            assert found is not None and found.checkpoint["channel_values"]["log"] == [3]


def test_the_rows_a_saver_holds_are_the_latest_per_channel_bounded_and_forgotten() -> None:
    from threadloom.checkpoint.postgres._known_rows import KnownRows

    known = KnownRows(max_entries=2)

    def row(thread: str, channel: str, version: str) -> tuple[Any, ...]:
        return (thread, "", channel, version, "value", "msgpack", b"x", None, 0, -1)

    known.remember_row(row("a", "log", "1"))
    known.remember_row(row("a", "log", "2"))  # the latest version replaces the one before
    assert known.row("a", "", "log", "1") is None
    assert known.row("a", "", "log", "2") == row("a", "log", "2")
    known.remember_row(row("b", "log", "1"))
    known.remember_row(row("c", "log", "1"))  # over the bound: the least recently used goes
    assert known.row("a", "", "log", "2") is None
    assert known.row("b", "", "log", "1") is not None
    known.forget_thread("b")
    assert known.row("b", "", "log", "1") is None
    assert known.row("c", "", "log", "1") is not None


def test_a_connection_binding_parameters_as_text_still_saves_and_reads(pg_dsn: str) -> None:
    """A caller's connection with psycopg's ``ClientCursor`` binds every parameter as text:
    the step's typed arrays go as text arrays there."""
    with psycopg.connect(pg_dsn, cursor_factory=psycopg.ClientCursor) as conn:
        saver = PostgresSaver(conn)
        saver.setup()
        _step(saver, None, "01", [1])
        _step(saver, "01", "02", [1, 2])
        at_head = {"configurable": {**THREAD["configurable"], "checkpoint_id": "02"}}
        saver.put_writes(at_head, [("log", b"\x00\xff"), ("log", None)], "task-a")
    head = PostgresSaver(pg_dsn).get_tuple(THREAD)
    assert head is not None and head.checkpoint["channel_values"]["log"] == [1, 2]
    assert head.pending_writes == [("task-a", "log", b"\x00\xff"), ("task-a", "log", None)]


def _step_args(parent: str | None, new: str, log: list[int]) -> Any:
    """``put_step``'s arguments for ``_step``'s checkpoint (an item of ``put_steps``)."""
    checkpoint = {**empty_checkpoint(), "id": new, "channel_values": {"log": log}}
    checkpoint["channel_versions"] = {"log": new}
    configurable: dict[str, Any] = {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": parent}
    configurable[CONFIG_KEY_EXPECTED_HEAD] = parent
    writes = [] if parent is None else [(f"task-{new}", "", [("log", log[-1])])]
    return ({"configurable": configurable}, writes, checkpoint, {"step": len(log)}, {"log": new})


def test_two_steps_are_one_statement_and_a_retry_stores_nothing_twice(pg_dsn: str) -> None:
    """A run's input checkpoint and step 0 (``put_steps``) go in one statement outside a
    transaction; sent again (a retry after the connection dropped as it committed), the
    statement finds the second stored and writes nothing."""
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=RecordingCursor) as conn:
        saver = PostgresSaver(conn)
        _step(saver, None, "01", [1])
        steps = [_step_args("01", "02", [1, 2]), _step_args("02", "03", [1, 2, 3])]
        RecordingCursor.sent.clear()
        assert saver.put_steps(steps)["configurable"]["checkpoint_id"] == "03"
        assert [status for _sql, status in RecordingCursor.sent] == [TransactionStatus.IDLE]
        assert RecordingCursor.sent[0][0].count("threadloom_put_step") == 2
        counts = [
            _count(pg_dsn, f"SELECT count(*) FROM threadloom_checkpoint{table}")
            for table in ("s", "_writes", "_blobs")
        ]
        assert counts[:2] == [3, 2]
        # the retry: made as the first attempt was, by a saver that never saw it commit
        assert PostgresSaver(conn).put_steps(steps)["configurable"]["checkpoint_id"] == "03"
        assert [
            _count(pg_dsn, f"SELECT count(*) FROM threadloom_checkpoint{table}")
            for table in ("s", "_writes", "_blobs")
        ] == counts
    fresh = PostgresSaver(pg_dsn)
    listed = list(fresh.list(THREAD))
    assert [t.checkpoint["id"] for t in listed] == ["03", "02", "01"]
    assert listed[0].checkpoint["channel_values"]["log"] == [1, 2, 3]
    assert listed[1].pending_writes == [("task-03", "log", 3)]


def test_two_steps_on_a_moved_head_are_a_conflict_and_store_nothing(pg_dsn: str) -> None:
    with (
        PostgresSaver.from_conn_string(pg_dsn) as saver,
        PostgresSaver.from_conn_string(pg_dsn) as other,
    ):
        saver.setup()
        _step(saver, None, "01", [1])
        _step(other, "01", "02", [1, 2])
        with pytest.raises(CheckpointConflictError):
            saver.put_steps([_step_args("01", "03", [1, 3]), _step_args("03", "04", [1, 3, 4])])
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoints") == 2
        assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoint_writes") == 1


def test_a_fresh_savers_setup_check_and_first_read_are_one_round_trip_without_begin(
    pg_dsn: str,
) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _step(saver, None, "01", [1])
    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=RecordingCursor) as conn:
        RecordingCursor.sent.clear()
        RecordingCursor.pipelined.clear()
        head = PostgresSaver(conn).get_tuple(THREAD)  # checks the schema with the head read
        sent = RecordingCursor.sent
        assert head is not None and head.checkpoint["channel_values"]["log"] == [1]
        assert not any(sql.strip().upper().startswith("BEGIN") for sql, _status in sent)
        # the check's two reads and the head read in one pipeline, then the head's values
        assert RecordingCursor.pipelined == [True, True, True, False]
        assert "to_regclass" in sent[0][0] and "threadloom_checkpoint_writes" in sent[2][0]
        assert sent[0][1] == sent[3][1] == TransactionStatus.IDLE
        assert conn.info.transaction_status == TransactionStatus.IDLE


def test_a_fresh_savers_first_step_on_a_newer_schema_writes_nothing(pg_dsn: str) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        _step(saver, None, "01", [1])
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO threadloom_checkpoint_migrations (v) SELECT max(v) + 1 FROM "
            "threadloom_checkpoint_migrations"
        )
    with (
        PostgresSaver.from_conn_string(pg_dsn) as saver,  # checks before its first write
        pytest.raises(SetupRequiredError, match="newer than this threadloom"),
    ):
        _step(saver, "01", "02", [1, 2])
    assert _count(pg_dsn, "SELECT count(*) FROM threadloom_checkpoints") == 1
