"""What only the SQLite store has to prove: files, processes, migrations and its vector mirror.

The behaviour every store shares is in the conformance suite (conftest runs it on SqliteStore
and AsyncSqliteStore); here are persistence across reopen, several processes writing one file,
the recorded vector dimensions, the in-process vector mirror following other connections'
writes, all-or-nothing batches and the async store's own entry points.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_embed import FakeEmbeddings, embed_texts

from threadloom.errors import IndexDimensionsError, StorageError
from threadloom.store._filters import parse_filter
from threadloom.store.base import GetOp, PutOp, SearchOp
from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite._filter_sql import compile_filter
from threadloom.store.sqlite.aio import AsyncSqliteStore

DIMS = 64


def _index(fields: list[str] | None = None) -> dict[str, Any]:
    return {"dims": DIMS, "embed": FakeEmbeddings(DIMS), "fields": fields or ["text"]}


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "store.db")


@pytest.fixture
def store(db: str) -> Iterator[SqliteStore]:
    with SqliteStore.from_conn_string(db, index=_index()) as s:
        s.setup()
        yield s


MEMORIES = {
    "name": "User name is Bob",
    "food": "Bob likes pizza with olives",
    "job": "Works as a nurse at night",
    "pet": "Has a cat called Miso",
}


# ---------------------------------------------------------------------------------------------
# Files and migrations


def test_items_and_vectors_survive_reopen(db: str) -> None:
    with SqliteStore.from_conn_string(db, index=_index()) as store:
        store.setup()
        for key, text in MEMORIES.items():
            store.put(("memories", "u1"), key, {"text": text})
        store.put(("memories", "u1"), "name", {"text": "User name is Bob Smith"})
        before = store.get(("memories", "u1"), "name")
    with SqliteStore.from_conn_string(db, index=_index()) as store:
        store.setup()
        after = store.get(("memories", "u1"), "name")
        assert after == before
        assert after is not None and after.created_at < after.updated_at
        found = store.search(("memories", "u1"), query="what is my name?", limit=2)
        assert found[0].key == "name"
        assert found[0].score is not None


def test_setup_is_idempotent_and_records_migrations(db: str) -> None:
    with SqliteStore.from_conn_string(db) as store:
        store.setup()
        store.setup()
    conn = sqlite3.connect(db)
    versions = [v for (v,) in conn.execute("SELECT v FROM threadloom_store_migrations ORDER BY v")]
    assert versions == list(range(len(versions))) and versions
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_dims_mismatch_is_a_clear_error_at_setup(db: str) -> None:
    with SqliteStore.from_conn_string(db, index=_index()) as store:
        store.setup()
        store.put(("a",), "k", {"text": "hello"})
    other = {"dims": 32, "embed": FakeEmbeddings(32), "fields": ["text"]}
    with SqliteStore.from_conn_string(db, index=other) as store:
        with pytest.raises(IndexDimensionsError, match=r"dims=64 \(1 vector\(s\) stored\)") as err:
            store.setup()
        assert (err.value.stored_dims, err.value.configured_dims) == (64, 32)
    with SqliteStore.from_conn_string(db, index=_index()) as store:  # the right dims still work
        store.setup()
        assert store.search(("a",), query="hello")[0].key == "k"


def test_value_that_is_not_json_changes_nothing(store: SqliteStore) -> None:
    store.put(("a",), "keep", {"text": "x"})
    with pytest.raises(TypeError, match="cannot be written as JSON"):
        store.batch([PutOp(("a",), "new", {"text": "y"}), PutOp(("a",), "bad", {"v": {1, 2}})])
    with pytest.raises(TypeError, match="cannot be written as JSON"):
        store.put(("a",), "nan", {"v": float("nan")})
    assert [i.key for i in store.search(("a",))] == ["keep"]


def test_failure_inside_the_transaction_rolls_back_everything(store: SqliteStore) -> None:
    store.put(("a",), "keep", {"text": "x"})
    original = store._core._write

    def write_then_fail(*args: Any) -> Any:
        yield from original(*args)  # every statement of the batch ran ...
        raise RuntimeError("disk on fire")  # ... and then the batch fails before COMMIT

    store._core._write = write_then_fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.batch([PutOp(("a",), "keep", None), PutOp(("a",), "new", {"text": "y"})])
    store._core._write = original  # type: ignore[method-assign]
    assert [i.key for i in store.search(("a",))] == ["keep"]
    assert store.search(("a",), query="y")[0].key == "keep"  # the mirror did not see "new"
    assert not store.conn.in_transaction


def test_driver_errors_become_storage_errors(db: str) -> None:
    with SqliteStore.from_conn_string(db) as store:
        store.setup()
        store.put(("a",), "k", {"v": 1})
        store.conn.execute("DROP TABLE store_vectors")  # a broken file
        with pytest.raises(StorageError, match="SQLite failed while") as err:
            store.put(("a",), "k", {"v": 2})  # replacing vectors needs the dropped table
        assert isinstance(err.value.__cause__, sqlite3.OperationalError)
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]


def test_timestamps_keep_microseconds_and_order(store: SqliteStore) -> None:
    store.batch([PutOp(("ns",), k, {"k": k}) for k in "abcdef"])
    items = store.search(("ns",))
    assert [i.key for i in items] == list("fedcba")  # one batch: the last write is newest
    stamps = [i.updated_at for i in items]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    assert all(s.tzinfo is not None for s in stamps)


# ---------------------------------------------------------------------------------------------
# Several processes on one file


def _writer(db: str, worker: int, count: int) -> None:
    index = {"dims": DIMS, "embed": embed_texts_64, "fields": ["text"]}
    with SqliteStore.from_conn_string(db, index=index) as store:
        store.setup()
        for i in range(count):
            ns = ("memories", f"w{worker}")
            if i % 3 == 2:  # some batches, some single puts, reads in between
                store.batch(
                    [
                        PutOp(ns, f"{i}", {"text": f"worker {worker} note n{i}zz", "i": i}),
                        PutOp(ns, f"{i}b", {"text": f"worker {worker} extra {i}", "i": i}),
                        GetOp(ns, f"{i - 1}"),
                    ]
                )
            else:
                store.put(ns, f"{i}", {"text": f"worker {worker} note n{i}zz", "i": i})
            if i % 10 == 0:
                store.search(("memories",), query=f"note {i}", limit=3)


def embed_texts_64(texts: list[str]) -> list[list[float]]:
    return embed_texts(texts, DIMS)


def test_several_processes_write_one_file(db: str) -> None:
    workers, count = 4, 60
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(db, w, count)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * workers  # no "database is locked", no crash
    with SqliteStore.from_conn_string(db, index=_index()) as store:
        store.setup()
        per_worker = count + count // 3  # every third step wrote two items
        for w in range(workers):
            found = store.search(("memories", f"w{w}"), limit=1000)
            assert len(found) == per_worker
        hits = store.search(("memories", "w2"), query="note n7zz", limit=1)
        assert hits[0].key == "7"


def test_mirror_follows_another_connections_writes(db: str) -> None:
    with (
        SqliteStore.from_conn_string(db, index=_index()) as reader,
        SqliteStore.from_conn_string(db, index=_index()) as writer,
    ):
        reader.setup()
        writer.setup()
        writer.put(("m",), "pizza", {"text": "Bob likes pizza"})
        writer.put(("m",), "cat", {"text": "Has a cat called Miso"})
        assert reader.search(("m",), query="pizza", limit=1)[0].key == "pizza"  # loads mirror
        writer.put(("m",), "pizza", {"text": "Bob went hiking"})  # re-embedded elsewhere
        writer.put(("m",), "name", {"text": "User name is Bob"})
        writer.delete(("m",), "cat")
        found = reader.search(("m",), query="hiking", limit=5)
        assert found[0].key == "pizza"
        assert {i.key for i in found} == {"pizza", "name"}
        assert reader.search(("m",), query="what is my name?", limit=1)[0].key == "name"
        writer.put(("m",), "name", {"text": "no vectors now"}, index=False)
        assert [i.key for i in reader.search(("m",), query="name", limit=1)] == ["pizza"]


# ---------------------------------------------------------------------------------------------
# Vector search specifics


def test_prefix_never_matches_a_longer_label_in_vector_search(store: SqliteStore) -> None:
    store.put(("memories", "1"), "a", {"text": "User name is Bob"})
    store.put(("memories", "10"), "b", {"text": "User name is Bob"})
    store.put(("memories", "1", "deep"), "c", {"text": "User name is Bob"})
    found = store.search(("memories", "1"), query="name", limit=10)
    assert sorted(i.namespace for i in found) == [("memories", "1"), ("memories", "1", "deep")]
    assert len(store.search(("memories",), query="name", limit=10)) == 3


def test_filter_narrows_candidates_before_top_k(store: SqliteStore) -> None:
    # 50 items closer to the query than the one the filter keeps: post-filtering a top-k
    # would return nothing.
    store.batch(
        [PutOp(("u",), f"near{i}", {"text": f"pizza pizza {i}", "kind": "food"}) for i in range(50)]
    )
    store.put(("u",), "far", {"text": "the weather is sunny", "kind": "weather"})
    found = store.search(("u",), query="pizza", filter={"kind": "weather"}, limit=1)
    assert [i.key for i in found] == ["far"]


def test_sweep_removes_expired_vectors_from_search(db: str) -> None:
    with SqliteStore.from_conn_string(db, index=_index(), ttl={"refresh_on_read": False}) as store:
        store.setup()
        now = [1000.0]
        store._core.time = lambda: now[0]
        store.put(("a",), "old", {"text": "pizza night"}, ttl=1)
        store.put(("a",), "new", {"text": "pizza lunch"})
        assert len(store.search(("a",), query="pizza")) == 2
        now[0] += 61
        assert store.sweep_ttl() == 1
        assert [i.key for i in store.search(("a",), query="pizza")] == ["new"]


# ---------------------------------------------------------------------------------------------
# The async store


async def test_async_store_context_manager_and_sync_methods_from_a_thread(db: str) -> None:
    async with AsyncSqliteStore.from_conn_string(db, index=_index()) as store:
        await store.setup()
        await store.aput(("m",), "name", {"text": "User name is Bob"})
        await store.aput(("m",), "food", {"text": "Bob likes pizza"})
        found = await store.asearch(("m",), query="what is my name?", limit=1)
        assert found[0].key == "name"
        with pytest.raises(asyncio.InvalidStateError, match="aget, aput"):
            store.get(("m",), "name")  # a sync call on the loop's own thread would deadlock
        result: list[Any] = []
        thread = threading.Thread(target=lambda: result.append(store.get(("m",), "food")))
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        assert result[0].value == {"text": "Bob likes pizza"}
        assert await store.sweep_ttl() == 0
    with SqliteStore.from_conn_string(db, index=_index()) as sync_store:  # same file, same data
        assert sync_store.search(("m",), query="pizza", limit=1)[0].key == "food"


async def test_async_batch_reads_before_writes(db: str) -> None:
    async with AsyncSqliteStore.from_conn_string(db) as store:
        await store.setup()
        results = await store.abatch(
            [PutOp(("a",), "k", {"v": 1}), GetOp(("a",), "k"), SearchOp(("a",))]
        )
        assert results == [None, None, []]
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]


def test_a_plain_sqlite3_connection_works(db: str) -> None:
    conn = sqlite3.connect(db, check_same_thread=False)  # default (implicit) transaction mode
    try:
        store = SqliteStore(conn, index=_index())
        store.setup()
        store.batch([PutOp(("m",), k, {"text": t}) for k, t in MEMORIES.items()])
        assert store.search(("m",), query="what is my name?", limit=1)[0].key == "name"
        assert not conn.in_transaction  # the store commits what it writes
    finally:
        conn.close()
    with SqliteStore.from_conn_string(db) as reopened:
        assert len(reopened.search(("m",))) == len(MEMORIES)


def test_wide_filters_compile_to_few_parameters() -> None:
    """A long $in, and a $or of equalities on one path, bind one JSON array per kind."""
    ids = [*range(5000), *(f"id{i}" for i in range(5000))]
    _, params = compile_filter(parse_filter({"id": {"$in": ids}}))
    assert len(params) == 2
    _, params = compile_filter(parse_filter({"$or": [{"id": i} for i in ids]}))
    assert len(params) == 2
    _, params = compile_filter(parse_filter({"$and": [{"id": {"$ne": i}} for i in ids]}))
    assert len(params) == 2
    sql, _ = compile_filter(parse_filter({"$not": {"$not": {"$not": {"a": 1}}}}))
    assert sql.count("NOT") == 1  # negations cancel in pairs before SQL is written


async def test_async_store_is_importable_beside_the_sync_one() -> None:
    # LangGraph's tests and users write `from langgraph.store.sqlite import AsyncSqliteStore`.
    import threadloom.store.sqlite as package

    assert package.AsyncSqliteStore is AsyncSqliteStore
    assert "AsyncSqliteStore" in package.__all__
    async with package.AsyncSqliteStore.from_conn_string(":memory:") as store:
        await store.setup()
        await store.aput(("a",), "k", {"v": 1})
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]
