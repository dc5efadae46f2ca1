"""The shared PostgreSQL plumbing (``threadloom._postgres``) on a real server.

Connections users cannot get wrong (DSN, connection or pool, whatever their settings), versioned
migrations that several workers may apply at once, one retry when a connection drops, and clear
errors for a bad DSN, a failed transaction and a database that was never set up.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from threadloom._postgres import (
    AsyncConnector,
    Batch,
    Connector,
    Migrations,
    Query,
    Steps,
    migrate,
    require_setup,
)
from threadloom.errors import (
    ConnectionStateError,
    DatabaseConnectionError,
    SetupRequiredError,
    StorageError,
)

# Plain CREATE TABLE (no IF NOT EXISTS): applying a migration twice would fail.
SCHEMA = Migrations(
    "demo_migrations",
    (
        "CREATE TABLE demo (id integer PRIMARY KEY, note text NOT NULL)",
        "ALTER TABLE demo ADD COLUMN extra integer",
    ),
    owner="Demo",
)


def insert(note_id: int) -> Steps[list[tuple[Any, ...]]]:
    yield from require_setup(SCHEMA)
    yield Query("INSERT INTO demo (id, note) VALUES (%s, 'x')", (note_id,))
    rows: list[tuple[Any, ...]] = yield Query("SELECT id FROM demo ORDER BY id")
    return rows


def count(connector: Connector) -> int:
    def steps() -> Steps[int]:
        ((n,),) = yield Query("SELECT count(*) FROM demo")
        return int(n)

    return connector.run(steps, "counting")


def test_migrations_apply_once_and_record_versions(pg_dsn: str) -> None:
    connector = Connector(pg_dsn)
    with pytest.raises(SetupRequiredError, match=r"never been set up for Demo.*Demo\.setup\(\)"):
        connector.run(lambda: insert(1), "inserting")
    assert connector.run(lambda: migrate(SCHEMA), "setting up") == 2
    assert connector.run(lambda: migrate(SCHEMA), "setting up") == 0  # idempotent
    assert connector.run(lambda: insert(1), "inserting") == [(1,)]
    connector.close()


def test_schema_behind_or_ahead_is_named(pg_dsn: str) -> None:
    connector = Connector(pg_dsn)
    older = Migrations(SCHEMA.table, SCHEMA.statements[:1], owner="Demo")
    connector.run(lambda: migrate(older), "setting up")
    with pytest.raises(SetupRequiredError, match="schema version 0 for Demo"):
        connector.run(lambda: insert(1), "inserting")
    connector.run(lambda: migrate(SCHEMA), "setting up")
    with pytest.raises(SetupRequiredError, match="newer than this threadloom"):
        connector.run(lambda: require_setup(older), "checking")
    connector.close()


def test_setup_from_many_workers_at_once(pg_dsn: str) -> None:
    applied: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        connector = Connector(pg_dsn)
        try:
            start.wait()
            applied.append(connector.run(lambda: migrate(SCHEMA), "setting up"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connector.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(applied) == [0, 0, 0, 2]


def test_callers_connection_settings_do_not_matter(pg_dsn: str) -> None:
    # no autocommit, dict rows, psycopg's default prepare threshold: still works
    with psycopg.connect(pg_dsn, row_factory=dict_row) as conn:
        connector = Connector(conn)
        connector.run(lambda: migrate(SCHEMA), "setting up")
        assert connector.run(lambda: insert(7), "inserting") == [(7,)]
        assert conn.autocommit  # switched on instead of failing
        assert conn.execute("SELECT count(*) AS n FROM demo").fetchone() == {"n": 1}
        for i in range(10):  # no server-side prepared statements, however often a query runs
            connector.run(lambda i=i: insert(100 + i), "inserting")  # type: ignore[misc]
        prepared = conn.execute("SELECT count(*) AS n FROM pg_prepared_statements").fetchone()
        assert prepared == {"n": 0}


def test_units_join_an_open_transaction_of_the_caller(pg_dsn: str) -> None:
    Connector(pg_dsn).run(lambda: migrate(SCHEMA), "setting up")
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("SELECT 1")  # the caller's own transaction is open
        Connector(conn).run(lambda: insert(1), "inserting")
        conn.rollback()  # the caller decides: the unit was a savepoint of their transaction
    assert count(Connector(pg_dsn)) == 0


def test_failed_transaction_is_a_clear_error_and_runs_nothing(pg_dsn: str) -> None:
    Connector(pg_dsn).run(lambda: migrate(SCHEMA), "setting up")
    with psycopg.connect(pg_dsn) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
        with pytest.raises(ConnectionStateError, match=r"failed transaction.*conn\.rollback\(\)"):
            Connector(conn).run(lambda: insert(1), "inserting")
        conn.rollback()
        Connector(conn).run(lambda: insert(2), "inserting")
    assert count(Connector(pg_dsn)) == 1


def _batch_then_count() -> Steps[list[Any]]:
    """A ``Batch`` whose second statement fails; then, as its unit must, raises."""
    results: list[Any] = yield Batch(
        (
            Query("SELECT 41 + 1", solo=True),
            Query("SELECT * FROM no_such_table", solo=True),
            Query("SELECT 3", solo=True),
        )
    )
    return results


def test_batch_is_one_pipeline_giving_rows_then_the_error_then_nothing(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        results = Connector(conn).run(_batch_then_count, "batching")
        assert results[0] == [(42,)]
        assert isinstance(results[1], psycopg.errors.UndefinedTable)
        assert results[2] is None  # not run: the pipeline stopped at the error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the connection is usable


def test_batch_inside_the_callers_transaction_runs_one_by_one_in_a_savepoint(
    pg_dsn: str,
) -> None:
    Connector(pg_dsn).run(lambda: migrate(SCHEMA), "setting up")
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("INSERT INTO demo (id, note) VALUES (1, 'kept')")  # the caller's transaction

        def failing() -> Steps[None]:
            results = yield from _batch_then_count()
            assert results[0] == [(42,)] and results[2] is None
            raise results[1]

        with pytest.raises(SetupRequiredError, match="no_such_table"):
            Connector(conn).run(failing, "batching")
        conn.commit()  # the unit's savepoint was rolled back; the caller's insert stands
    assert count(Connector(pg_dsn)) == 1


def test_closed_connection_is_a_clear_error(pg_dsn: str) -> None:
    conn = psycopg.connect(pg_dsn)
    conn.close()
    with pytest.raises(ConnectionStateError, match="closed"):
        Connector(conn).run(lambda: insert(1), "inserting")


def test_bad_dsn_names_host_and_database_never_the_password(pg_server: Any) -> None:
    dsn = "postgresql://alice:s3cret-pw@127.0.0.1:1/shop?connect_timeout=2"
    with pytest.raises(DatabaseConnectionError) as err:
        Connector.open(dsn)
    message = str(err.value)
    assert "127.0.0.1" in message and "'shop'" in message and "s3cret-pw" not in message
    assert isinstance(err.value.__cause__, psycopg.OperationalError)
    with pytest.raises(DatabaseConnectionError, match="nosuchdb"):
        Connector.open(pg_server.uri("nosuchdb"), pool_config={"max_size": 2})
    with pytest.raises(TypeError, match="connection string, a psycopg Connection"):
        Connector(42)  # type: ignore[arg-type]


def terminate_other_backends(pg_server: Any, dsn: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    pg_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{dbname}' AND pid <> pg_backend_pid()"
    )


@pytest.mark.parametrize("kind", ["dsn", "pool", "owned pool of 3"])
def test_dropped_connection_is_retried_once_and_applied_once(
    pg_server: Any, pg_dsn: str, kind: str
) -> None:
    if kind == "dsn":
        connector = Connector.open(pg_dsn)
    elif kind == "pool":
        connector = Connector(ConnectionPool(pg_dsn, min_size=1, max_size=1, open=True))
    else:  # every pooled connection dropped: the retry must not draw a second dead one
        connector = Connector.open(pg_dsn, pool_config={"min_size": 3, "max_size": 3})
        assert isinstance(connector.source, ConnectionPool)
        connector.source.wait()
    connector.run(lambda: migrate(SCHEMA), "setting up")
    terminate_other_backends(pg_server, pg_dsn)  # the server restarts, a proxy drops us...
    assert connector.run(lambda: insert(1), "inserting") == [(1,)]
    assert count(connector) == 1
    connector.close()
    if isinstance(connector.source, ConnectionPool):
        connector.source.close()


def test_dropped_callers_connection_is_reported(pg_server: Any, pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        connector = Connector(conn)
        connector.run(lambda: migrate(SCHEMA), "setting up")
        terminate_other_backends(pg_server, pg_dsn)
        with pytest.raises(StorageError, match=r"(?s)dropped while inserting.*nothing was applied"):
            connector.run(lambda: insert(1), "inserting")
    assert count(Connector(pg_dsn)) == 0


def test_pool_config_builds_an_owned_pool(pg_dsn: str) -> None:
    connector = Connector.open(pg_dsn, pool_config={"min_size": 1, "max_size": 3})
    assert isinstance(connector.source, ConnectionPool)
    connector.run(lambda: migrate(SCHEMA), "setting up")
    threads = [
        threading.Thread(target=connector.run, args=(lambda i=i: insert(i), "inserting"))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(connector) == 6
    connector.close()
    assert connector.source.closed
    with pytest.raises(ValueError, match="Unknown pool_config key"):
        Connector.open(pg_dsn, pool_config={"size": 3})


async def test_async_connector_sources_and_errors(pg_server: Any, pg_dsn: str) -> None:
    connector = await AsyncConnector.open(pg_dsn)
    with pytest.raises(SetupRequiredError, match=r"Demo\.setup"):
        await connector.run(lambda: insert(1), "inserting")
    assert await connector.run(lambda: migrate(SCHEMA), "setting up") == 2
    terminate_other_backends(pg_server, pg_dsn)
    assert await connector.run(lambda: insert(1), "inserting") == [(1,)]
    await connector.close()

    async with await psycopg.AsyncConnection.connect(pg_dsn, row_factory=dict_row) as conn:
        given = AsyncConnector(conn)
        assert await given.run(lambda: insert(2), "inserting") == [(1,), (2,)]
        with pytest.raises(psycopg.errors.DivisionByZero):
            await conn.set_autocommit(False)
            await conn.execute("SELECT 1 / 0")
        with pytest.raises(ConnectionStateError, match="failed transaction"):
            await given.run(lambda: insert(3), "inserting")
        await conn.rollback()

    async with AsyncConnectionPool(pg_dsn, min_size=1, max_size=2) as pool:
        pooled = AsyncConnector(pool)
        await asyncio.gather(
            *(pooled.run(lambda i=i: insert(i), "inserting") for i in range(10, 14))  # type: ignore[misc]
        )
        assert len(await pooled.run(lambda: insert(20), "inserting")) == 7

    with pytest.raises(DatabaseConnectionError, match="nosuchdb"):
        await AsyncConnector.open(pg_server.uri("nosuchdb"), pool_config={"max_size": 1})


def test_deadlock_victim_is_run_again(pg_dsn: str) -> None:
    setup = Connector(pg_dsn)
    setup.run(lambda: migrate(SCHEMA), "setting up")
    setup.run(lambda: insert(1), "inserting")
    setup.run(lambda: insert(2), "inserting")
    # a safety against a hang, not a timing assertion: under load a worker can take many seconds
    # to connect and take its first lock before the other one gives up waiting
    both_locked_one = threading.Barrier(2, timeout=300)
    runs: list[int] = []

    def lock_both(first: int, second: int) -> Steps[None]:
        runs.append(first)
        yield Query("UPDATE demo SET extra = coalesce(extra, 0) + 1 WHERE id = %s", (first,))
        if len(runs) <= 2:  # the first attempts meet here; a retry goes straight on
            both_locked_one.wait()
        yield Query("UPDATE demo SET extra = coalesce(extra, 0) + 1 WHERE id = %s", (second,))

    errors: list[BaseException] = []

    def worker(first: int, second: int) -> None:
        try:
            Connector(pg_dsn).run(lambda: lock_both(first, second), "updating")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=pair) for pair in [(1, 2), (2, 1)]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # At least one of the two was chosen as the victim and ran again. Under load a retry can
    # take row 2 before the winner does and deadlock once more, so more runs are fine; the
    # rows below show every transaction applied exactly once.
    assert len(runs) >= 3

    def extras() -> Steps[list[tuple[Any, ...]]]:
        rows: list[tuple[Any, ...]] = yield Query("SELECT id, extra FROM demo ORDER BY id")
        return rows

    assert setup.run(extras, "reading") == [(1, 2), (2, 2)]  # each update applied exactly once


def test_the_sync_connector_is_generated_from_the_async_one() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "unasync_postgres.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
