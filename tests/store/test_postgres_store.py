"""PostgresStore beyond the shared store suite: what only a real PostgreSQL server can show.

Search inside one namespace is right (recall against exact search, on the exact path and on the
HNSW iterative-scan path), prefixes are whole labels however the labels look, filters are typed
in SQL, bad input is a clear error that changes nothing, several processes share one database,
and the cross-thread memory guide runs on PostgresStore.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from typing import Any, ClassVar

import numpy as np
import psycopg
import pytest
from fake_embed import FakeEmbeddings, embed_texts
from langchain_core.runnables import RunnableConfig
from postgres_server import pipelined_connection
from psycopg.conninfo import make_conninfo
from psycopg.pq import PipelineStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from threadloom.checkpoint.memory import MemorySaver
from threadloom.errors import (
    IndexDimensionsError,
    MissingExtensionError,
    SetupRequiredError,
    StorageError,
)
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.store.base import BaseStore, PutOp
from threadloom.store.postgres import PostgresStore
from threadloom.store.postgres import _sql as pg_sql
from threadloom.store.postgres.aio import AsyncPostgresStore
from threadloom.testing import FakeMemoryChatModel

DIMS = 32


def fixed_vectors(count: int, dims: int, seed: int = 7) -> np.ndarray[Any, Any]:
    """Clustered unit vectors (topics plus noise), like real embeddings of memories."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(16, dims))
    vectors = topics[rng.integers(0, 16, count)] + 0.6 * rng.normal(size=(count, dims))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


class LookupEmbeddings:
    """``index["embed"]`` returning a known vector per text ``"v<i>"``; queries too."""

    def __init__(self, vectors: np.ndarray[Any, Any]) -> None:
        self.vectors = vectors

    def __call__(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[int(t[1:])].tolist() for t in texts]


def recall_at_10(found: list[Any], expected: list[str]) -> float:
    return len({i.key for i in found} & set(expected)) / len(expected)


def exact_top10(vectors: np.ndarray[Any, Any], rows: np.ndarray[Any, Any], q: int) -> list[str]:
    scores = vectors[rows] @ vectors[q]
    return [f"k{rows[i]}" for i in np.argsort(-scores)[:10]]


@pytest.mark.parametrize("exact_limit", [pg_sql.EXACT_CANDIDATES, 50])
def test_search_inside_one_namespace_finds_the_true_top_10(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, exact_limit: int
) -> None:
    # 3,000 items over 20 users; with exact_limit=50 every search takes the HNSW path once
    # setup() has built the index.
    monkeypatch.setattr(pg_sql, "EXACT_CANDIDATES", exact_limit)
    count, users = 3000, 20
    vectors = fixed_vectors(count + 50, DIMS)
    embed = LookupEmbeddings(vectors)
    with PostgresStore.from_conn_string(
        pg_dsn, index={"dims": DIMS, "embed": embed, "fields": ["text"]}
    ) as store:
        store.setup()
        store.batch(
            [
                PutOp(("memories", str(i % users)), f"k{i}", {"text": f"v{i}", "n": i})
                for i in range(count)
            ]
        )
        if exact_limit < count:  # no HNSW index yet: exact, with a warning; setup() builds it
            with caplog.at_level("WARNING", logger="threadloom.store.postgres"):
                found = store.search(("memories",), query=f"v{count}", limit=10)
            assert "no HNSW index yet" in caplog.text
            assert recall_at_10(found, exact_top10(vectors, np.arange(count), count)) == 1.0
            store.setup()
        with psycopg.connect(pg_dsn) as conn:
            indexes = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%hnsw%'"
            ).fetchone()
        assert indexes == ((1,) if exact_limit < count else (0,))
        owner = np.arange(count) % users
        user_recall, all_recall = [], []
        for q in range(count, count + 25):
            user = q % users
            found = store.search(("memories", str(user)), query=f"v{q}", limit=10)
            assert all(i.namespace == ("memories", str(user)) for i in found)
            user_recall.append(
                recall_at_10(found, exact_top10(vectors, np.flatnonzero(owner == user), q))
            )
            found = store.search(("memories",), query=f"v{q}", limit=10)
            all_recall.append(recall_at_10(found, exact_top10(vectors, np.arange(count), q)))
            # a value filter over a large candidate set still fills the page
            evens = store.search(("memories",), query=f"v{q}", filter={"n": {"$lt": 100}}, limit=10)
            assert len(evens) == 10 and all(i.value["n"] < 100 for i in evens)
        assert np.mean(user_recall) >= 0.99
        assert np.mean(all_recall) >= (1.0 if exact_limit > count else 0.9)


class StatementLog(psycopg.Cursor[Any]):
    """A cursor that records each statement it sends (one round trip each)."""

    sent: ClassVar[list[str]] = []

    def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(str(query))
        return super().execute(query, *args, **kwargs)


def test_index_search_is_two_round_trips_and_leaves_the_settings_alone(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An all-users search on the HNSW path: the count, then the search that sets its own HNSW
    # settings for itself only. The caller's session settings are the same afterwards, also when
    # the search statement fails after the settings were made.
    monkeypatch.setattr(pg_sql, "EXACT_CANDIDATES", 50)
    vectors = fixed_vectors(301, DIMS)
    index = {"dims": DIMS, "embed": LookupEmbeddings(vectors), "fields": ["text"]}
    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=StatementLog) as conn:
        store = PostgresStore(conn, index=index)  # type: ignore[arg-type]
        store.setup()
        store.batch([PutOp(("u", str(i % 6)), f"k{i}", {"text": f"v{i}"}) for i in range(300)])
        store.setup()  # builds the HNSW index
        conn.execute("SET hnsw.ef_search = 77")
        store.search(("u",), query="v300", limit=5)  # learns that the index exists
        StatementLog.sent.clear()
        found = store.search(("u",), query="v300", limit=5)
        assert len(found) == 5  # (which five: the recall test above; HNSW builds are random)
        assert len(StatementLog.sent) == 2
        settings = (
            "SELECT current_setting('hnsw.ef_search'), current_setting('hnsw.iterative_scan')"
        )
        assert conn.execute(settings).fetchone() == ("77", "off")

        def failing(self: pg_sql.VectorSpec, where: str, join: bool, **kw: Any) -> str:
            # a search statement that fails at its first row, after its settings were made
            return top_items(self, f"{where} AND 1 / (v.item_id - v.item_id) = 1", join, **kw)

        top_items = pg_sql.VectorSpec.top_items
        monkeypatch.setattr(pg_sql.VectorSpec, "top_items", failing)
        with pytest.raises(StorageError, match="division by zero"):
            store.search(("u",), query="v300", limit=5)
        assert conn.execute(settings).fetchone() == ("77", "off")


def test_a_bad_config_in_from_conn_string_closes_what_it_opened(pg_dsn: str) -> None:
    # The store refuses the config when it is made, after from_conn_string connected: that
    # connection must not be left open (the server would keep a backend for it).
    dsn = make_conninfo(pg_dsn, application_name="badconfig")
    bad: Any = {"default_ttl": -1}
    for pool_config in (None, {"min_size": 2}):
        with pytest.raises(ValueError, match="default_ttl must be"):
            PostgresStore.from_conn_string(dsn, ttl=bad, pool_config=pool_config).__enter__()

    async def bad_async() -> None:
        async with AsyncPostgresStore.from_conn_string(dsn, ttl=bad):
            pass

    with pytest.raises(ValueError, match="default_ttl must be"):
        asyncio.run(bad_async())
    # a closed connection's backend exits soon after: wait for that, not for a fixed time
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while True:
            (left,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'badconfig'"
            ).fetchone() or (0,)
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert left == 0


def assert_counts_match(conn: psycopg.Connection[Any]) -> None:
    """The per-namespace vector counts the triggers keep equal a fresh count."""
    kept = conn.execute("SELECT prefix, n FROM threadloom_store_vector_counts ORDER BY 1")
    actual = conn.execute(
        "SELECT prefix, count(*) FROM threadloom_store_vectors GROUP BY 1 ORDER BY 1"
    )
    assert kept.fetchall() == actual.fetchall()


def test_vector_counts_follow_every_kind_of_write(pg_dsn: str) -> None:
    index = {"dims": 16, "embed": FakeEmbeddings(16), "fields": ["a", "b"]}
    with PostgresStore.from_conn_string(
        pg_dsn,
        index=index,
        ttl={"default_ttl": None},  # type: ignore[arg-type]
    ) as store:
        store.setup()
        store.batch([PutOp(("u", str(i % 3)), f"k{i}", {"a": "x", "b": "y"}) for i in range(30)])
        store.put(("u", "0"), "k0", {"a": "only one field"})  # fewer vectors
        store.put(("u", "1"), "k1", {"a": "x"}, index=False)  # none
        store.delete(("u", "2"), "k2")
        store.put(("u", "3"), "short", {"a": "x"}, ttl=0.0001)
        with psycopg.connect(pg_dsn) as conn:
            assert_counts_match(conn)
        time.sleep(0.05)
        assert store.sweep_ttl() == 1
        for i in range(0, 30, 3):
            store.delete(("u", "0"), f"k{i}")
        with psycopg.connect(pg_dsn) as conn:
            assert_counts_match(conn)
            prefixes = conn.execute("SELECT prefix FROM threadloom_store_vector_counts ORDER BY 1")
            assert [p for (p,) in prefixes] == ["u.1.", "u.2."]


def test_prefixes_are_whole_labels_whatever_the_labels(pg_dsn: str) -> None:
    with PostgresStore.from_conn_string(
        pg_dsn, index={"dims": 64, "embed": FakeEmbeddings(64)}
    ) as store:
        store.setup()
        for label in ["1", "10", "1%", "1_", "1/", "1 ", "%", "_"]:
            store.put(("memories", label), "m", {"text": f"memory of {label}"})
        assert [i.namespace for i in store.search(("memories", "1"))] == [("memories", "1")]
        assert [i.namespace for i in store.search(("memories", "1"), query="memory")] == [
            ("memories", "1")
        ]
        assert [i.namespace for i in store.search(("memories", "%"))] == [("memories", "%")]
        assert store.list_namespaces(prefix=("memories", "1")) == [("memories", "1")]
        assert len(store.list_namespaces(prefix=("memories",))) == 8


def test_filters_are_typed_and_large_in_lists_bind_as_one_array(pg_dsn: str) -> None:
    with PostgresStore.from_conn_string(pg_dsn) as store:
        store.setup()
        store.put(("a",), "bool", {"v": True})
        store.put(("a",), "one", {"v": 1})
        store.put(("a",), "float", {"v": 1.0})
        store.put(("a",), "text", {"v": "1"})
        store.put(("a",), "list", {"v": [1, 2]})
        store.put(("a",), "nested", {"v": {"0": 5}, "w": [5]})
        keys = lambda f: sorted(i.key for i in store.search(("a",), filter=f))  # noqa: E731
        assert keys({"v": True}) == ["bool"]
        assert keys({"v": 1}) == ["float", "one"]
        assert keys({"v": {"$gte": 1}}) == ["float", "one"]
        assert keys({"v": {"$gt": "0"}}) == ["text"]
        assert keys({"v": [1, 2]}) == ["list"]
        assert keys({"v.0": 5}) == ["nested"]  # an object key, never a list index
        assert keys({"w.0": 5}) == []
        many = [*range(2, 20_000), True]
        assert keys({"v": {"$in": many}}) == ["bool"]
        assert keys({"v": {"$nin": many}}) == ["float", "list", "nested", "one", "text"]


def test_setup_never_called_is_a_clear_error_and_creates_nothing(pg_dsn: str) -> None:
    with PostgresStore.from_conn_string(pg_dsn) as store:
        with pytest.raises(SetupRequiredError, match=r"never been set up.*PostgresStore\.setup"):
            store.put(("a",), "k", {"v": 1})
        with pytest.raises(SetupRequiredError, match="never been set up"):
            store.get(("a",), "k")
    with psycopg.connect(pg_dsn) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_a_fresh_stores_setup_check_is_one_round_trip(pg_dsn: str) -> None:
    with PostgresStore.from_conn_string(pg_dsn) as store:
        store.setup()
        store.put(("a",), "k", {"v": 1})
    pipelined: list[bool] = []

    class Log(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            pipelined.append(self.connection.pgconn.pipeline_status != PipelineStatus.OFF)
            return super().execute(query, *args, **kwargs)

    with psycopg.connect(pg_dsn, autocommit=True, cursor_factory=Log) as conn:
        item = PostgresStore(conn).get(("a",), "k")
        assert item is not None and item.value == {"v": 1}
        # schema table, schema version and vector column in one pipeline, then the read
        assert pipelined == [True, True, True, False]


def test_from_conn_string_with_pipeline_runs_in_pipeline_mode(pg_dsn: str) -> None:
    # LangGraph's from_conn_string(pipeline=True); it raised UnsupportedParameterError
    with PostgresStore.from_conn_string(pg_dsn) as plain:
        plain.setup()
    with PostgresStore.from_conn_string(pg_dsn, pipeline=True) as store:
        connection = pipelined_connection(store)
        store.put(("a", "b"), "k", {"v": 1})
        store.put(("a", "c"), "k", {"v": 2})
        assert [i.value for i in store.search(("a",), filter={"v": 2})] == [{"v": 2}]
        assert store.list_namespaces(prefix=("a",)) == [("a", "b"), ("a", "c")]
        store.delete(("a", "b"), "k")
        assert store.get(("a", "b"), "k") is None
    assert connection.closed


def test_index_added_later_needs_setup(pg_dsn: str) -> None:
    with PostgresStore.from_conn_string(pg_dsn) as plain:
        plain.setup()
        plain.put(("a",), "k", {"text": "kept"})
    index = {"dims": 16, "embed": FakeEmbeddings(16)}
    with PostgresStore.from_conn_string(pg_dsn, index=index) as store:  # type: ignore[arg-type]
        with pytest.raises(SetupRequiredError, match=r"index configured.*setup"):
            store.search(("a",), query="kept")
        store.setup()
        store.put(("a",), "j", {"text": "new"})
        assert {i.key for i in store.search(("a",), query="kept")} == {"k", "j"}


def test_dims_differing_from_the_index_is_a_clear_error(pg_dsn: str) -> None:
    with PostgresStore.from_conn_string(
        pg_dsn, index={"dims": 64, "embed": FakeEmbeddings(64)}
    ) as store:
        store.setup()
        store.put(("a",), "k", {"text": "hello"})
    other = {"dims": 32, "embed": FakeEmbeddings(32)}
    with PostgresStore.from_conn_string(pg_dsn, index=other) as store:  # type: ignore[arg-type]
        with pytest.raises(IndexDimensionsError, match=r"dims=64 \(1 vector\(s\).*is 32"):
            store.setup()
        with pytest.raises(IndexDimensionsError, match="dims=64"):
            store.put(("a",), "k", {"text": "changed"})
    with PostgresStore.from_conn_string(pg_dsn) as store:
        item = store.get(("a",), "k")
        assert item is not None and item.value == {"text": "hello"}


def test_missing_vector_extension_says_how_to_install_it(pg_server: Any) -> None:
    # A database without pgvector, owned by a role that may not create it.
    name = f"novector_{uuid.uuid4().hex[:8]}"
    pg_server.admin(
        "DO $$ BEGIN CREATE ROLE app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    pg_server.admin(f"CREATE DATABASE {name} OWNER app TEMPLATE template0")
    dsn = pg_server.uri(name).replace("postgres:@", "app:@")
    try:
        index = {"dims": 16, "embed": FakeEmbeddings(16)}
        store = PostgresStore(dsn, index=index)  # type: ignore[arg-type]
        with pytest.raises(MissingExtensionError, match=r"pgvector.*CREATE EXTENSION vector"):
            store.setup()
        store.close()
        with psycopg.connect(dsn) as conn:  # nothing of the failed setup was kept
            assert conn.execute("SELECT to_regclass('threadloom_store')").fetchone() == (None,)
        with PostgresStore.from_conn_string(dsn) as store:  # without an index: no extension
            store.setup()
            store.put(("a",), "k", {"v": 1})
            assert store.get(("a",), "k") is not None
    finally:
        pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_halfvec_above_2000_dims(pg_dsn: str) -> None:
    dims = 2500
    with PostgresStore.from_conn_string(
        pg_dsn, index={"dims": dims, "embed": FakeEmbeddings(dims), "fields": ["text"]}
    ) as store:
        store.setup()
        store.put(("m",), "name", {"text": "User name is Bob"})
        store.put(("m",), "food", {"text": "User likes pizza"})
        assert store.search(("m",), query="what is my name?")[0].key == "name"
    with psycopg.connect(pg_dsn) as conn:
        column = conn.execute(pg_sql.SELECT_VECTOR_COLUMN).fetchone()
        assert column == ("halfvec(2500)",)


@pytest.mark.parametrize("vector_type", ["vector", "halfvec"])
def test_query_vectors_go_in_binary_and_arrive_as_their_text_form(
    pg_dsn: str, vector_type: str
) -> None:
    # The query vector is a binary parameter (pgvector's wire form, type from the cast): the
    # server must read exactly the vector that its text form gives, float32 or float16.
    dims = 48
    spec = pg_sql.VectorSpec.from_config(
        dims, {"dims": dims, "ann_index_config": {"vector_type": vector_type}}
    )
    vector = np.random.default_rng(3).normal(size=dims).astype(np.float32)
    text = "[" + ",".join(repr(float(x)) for x in vector) + "]"
    with PostgresStore.from_conn_string(pg_dsn) as store:
        store.setup()  # its first unit of work makes its connection send BinaryParam values
        conn = store._connector._own
        assert conn is not None
        row = conn.execute(
            f"SELECT %s::{spec.column_type}::text, %s::{spec.column_type}::text",
            [spec.encode_query(vector), text],
        ).fetchone()
    assert row is not None and row[0] == row[1]


def test_search_on_a_connection_binding_parameters_as_text(pg_dsn: str) -> None:
    # A caller's connection with psycopg's ClientCursor binds every parameter as text: the query
    # vector then goes in its text form, and the search answers the same.
    index = {"dims": 64, "embed": FakeEmbeddings(64), "fields": ["text"]}
    with psycopg.connect(pg_dsn, cursor_factory=psycopg.ClientCursor) as conn:
        store = PostgresStore(conn, index=index)  # type: ignore[arg-type]
        store.setup()
        store.put(("m",), "name", {"text": "User name is Bob"})
        store.put(("m",), "food", {"text": "User likes pizza"})
        found = store.search(("m",), query="User name is Bob")
        assert [i.key for i in found] == ["name", "food"]
        assert found[0].score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("distance", ["l2", "inner_product"])
def test_other_distances(pg_dsn: str, distance: str) -> None:
    index = {"dims": 64, "embed": FakeEmbeddings(64), "fields": ["text"], "distance_type": distance}
    with PostgresStore.from_conn_string(pg_dsn, index=index) as store:  # type: ignore[arg-type]
        store.setup()
        store.put(("m",), "name", {"text": "User name is Bob"})
        store.put(("m",), "food", {"text": "User likes pizza"})
        found = store.search(("m",), query="User name is Bob")
        assert [i.key for i in found] == ["name", "food"]
        assert found[0].score == pytest.approx(0.0 if distance == "l2" else 1.0, abs=1e-5)


def test_bad_index_settings_are_named() -> None:
    index: Any = {"dims": 8, "embed": FakeEmbeddings(8), "distance_type": "manhattan"}
    with pytest.raises(ValueError, match="'manhattan'"):
        PostgresStore("postgresql:///unused", index=index)
    index = {"dims": 5000, "embed": FakeEmbeddings(8)}
    with pytest.raises(ValueError, match=r"at most 4000 dims.*'flat'"):
        PostgresStore("postgresql:///unused", index=index)
    index = {"dims": 8, "embed": FakeEmbeddings(8), "ann_index_config": {"kind": "ivfflat"}}
    with pytest.raises(ValueError, match="'hnsw' or 'flat'"):
        PostgresStore("postgresql:///unused", index=index)


def test_a_callers_connection_or_pool_as_it_is(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn, row_factory=dict_row) as conn:  # no autocommit, dict rows
        store = PostgresStore(conn)
        store.setup()
        store.put(("a",), "k", {"v": 1})
        assert store.get(("a",), "k").value == {"v": 1}  # type: ignore[union-attr]
    with ConnectionPool(pg_dsn, min_size=1, max_size=2) as pool:
        store = PostgresStore(pool, index={"dims": 64, "embed": FakeEmbeddings(64)})
        store.setup()
        store.put(("a",), "j", {"text": "User name is Bob"})
        assert store.search(("a",), query="name")[0].key == "j"
    with PostgresStore.from_conn_string(pg_dsn, pool_config={"max_size": 2}) as store:
        assert [i.key for i in store.search(("a",))] == ["j", "k"]


# ---------------------------------------------------------------------------------------------
# Several processes on one database


def _worker(dsn: str, worker: int, rounds: int) -> dict[str, int]:
    index = {"dims": 64, "embed": embed_texts_64, "fields": ["text"]}
    found = 0
    with PostgresStore.from_conn_string(dsn, index=index) as store:  # type: ignore[arg-type]
        store.setup()  # every worker at once: applied once
        for i in range(rounds):
            store.batch(
                [
                    PutOp(("users", str(worker)), f"m{i}", {"text": f"fact{i:03d}"}),
                    PutOp(("shared",), f"s{i % 5}", {"text": f"written by {worker}", "w": worker}),
                ]
            )
            hits = store.search(("users", str(worker)), query=f"fact{i:03d}", limit=3)
            found += hits[0].key == f"m{i}"
            assert all(h.namespace == ("users", str(worker)) for h in hits)
    return {"worker": worker, "found": found}


def embed_texts_64(texts: list[str]) -> list[list[float]]:
    return embed_texts(texts, 64)


def test_four_processes_write_and_search_at_once(pg_dsn: str) -> None:
    rounds = 40
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_worker, [(pg_dsn, w, rounds) for w in range(4)])
    assert all(r["found"] == rounds for r in results)
    with psycopg.connect(pg_dsn) as conn:
        items = conn.execute("SELECT count(*) FROM threadloom_store").fetchone()
        vectors = conn.execute("SELECT count(*) FROM threadloom_store_vectors").fetchone()
        migrations = conn.execute("SELECT count(*) FROM threadloom_store_migrations").fetchone()
        assert_counts_match(conn)
    assert items == (4 * rounds + 5,)
    assert vectors == items  # concurrent re-puts of one key leave exactly one set of vectors
    assert migrations == (len(pg_sql.MIGRATIONS.statements),)


# ---------------------------------------------------------------------------------------------
# The cross-thread memory guide (seeds 001/004) on PostgresStore

model = FakeMemoryChatModel()


def test_cross_thread_memory_guide_on_postgres(pg_dsn: str) -> None:
    def call_model(state: MessagesState, config: RunnableConfig, *, store: BaseStore) -> Any:
        namespace = ("memories", config["configurable"]["user_id"])
        memories = store.search(namespace, query=str(state["messages"][-1].content))
        info = "\n".join([d.value["data"] for d in memories])
        system_msg = f"You are a helpful assistant talking to the user. User info: {info}"
        if "remember" in str(state["messages"][-1].content).lower():
            store.put(namespace, str(uuid.uuid4()), {"data": "User name is Bob"})
        response = model.invoke([{"role": "system", "content": system_msg}, *state["messages"]])
        return {"messages": response}

    index = {"embed": FakeEmbeddings(dims=256), "dims": 256}
    with PostgresStore.from_conn_string(pg_dsn, index=index) as store:  # type: ignore[arg-type]
        store.setup()
        builder = StateGraph(MessagesState)
        builder.add_node("call_model", call_model)
        builder.add_edge(START, "call_model")
        graph = builder.compile(checkpointer=MemorySaver(), store=store)

        def say(thread_id: str, user_id: str, text: str) -> str:
            config = {"configurable": {"thread_id": thread_id, "user_id": user_id}}
            out = graph.invoke({"messages": [{"role": "user", "content": text}]}, config)
            return str(out["messages"][-1].content)

        assert "Bob" in say("1", "1", "Hi! Remember: my name is Bob")
        assert say("2", "1", "what is my name?") == "Your name is Bob."
        assert [m.value for m in store.search(("memories", "1"))] == [{"data": "User name is Bob"}]
        assert "know your name" in say("3", "2", "what is my name?")
        assert store.search(("memories", "2"), query="what is my name?") == []


async def test_cross_thread_memory_guide_on_async_postgres(pg_dsn: str) -> None:
    async def call_model(state: MessagesState, config: RunnableConfig, *, store: BaseStore) -> Any:
        namespace = ("memories", config["configurable"]["userId"])
        memories = await store.asearch(namespace)
        info = "\n".join(d.value["data"] for d in memories)
        last_message = state["messages"][-1]
        if "remember" in str(last_message.content).lower():
            await store.aput(namespace, str(uuid.uuid4()), {"data": last_message.content})
        response = await model.ainvoke(
            [{"role": "system", "content": f"User info: {info}"}, *state["messages"]]
        )
        return {"messages": response}

    async with AsyncPostgresStore.from_conn_string(pg_dsn) as store:
        await store.setup()
        builder = StateGraph(MessagesState).add_node("call_model", call_model)
        graph = builder.add_edge(START, "call_model").compile(
            checkpointer=MemorySaver(), store=store
        )
        first = {"configurable": {"thread_id": "1", "userId": "1"}}
        await graph.ainvoke({"messages": [("user", "Hi! Remember: my name is Bob")]}, first)
        second = {"configurable": {"thread_id": "2", "userId": "1"}}
        out = await graph.ainvoke({"messages": [("user", "what is my name?")]}, second)
        assert out["messages"][-1].content == "Your name is Bob."
        other = {"configurable": {"thread_id": "3", "userId": "2"}}
        out = await graph.ainvoke({"messages": [("user", "what is my name?")]}, other)
        assert "know your name" in out["messages"][-1].content


async def test_async_store_is_importable_beside_the_sync_one(pg_dsn: str) -> None:
    # LangGraph's tests and users write `from langgraph.store.postgres import AsyncPostgresStore`.
    import threadloom.store.postgres as package

    assert package.AsyncPostgresStore is AsyncPostgresStore
    assert "AsyncPostgresStore" in package.__all__
    async with package.AsyncPostgresStore.from_conn_string(pg_dsn) as store:
        await store.setup()
        await store.aput(("a",), "k", {"v": 1})
        assert (await store.aget(("a",), "k")).value == {"v": 1}  # type: ignore[union-attr]


async def test_concurrent_async_calls_run_as_one_batch_on_one_connection(pg_dsn: str) -> None:
    # LangGraph's AsyncPostgresStore is an AsyncBatchedBaseStore: calls made together take one
    # connection. Each took its own: 60,000 concurrent calls on a pool of 10 timed out
    # (langgraph-checkpoint-postgres's test_large_batches_async[pool]).
    from psycopg_pool import AsyncConnectionPool

    checkouts = 0

    class Counting(AsyncConnectionPool):  # type: ignore[type-arg]
        def connection(self, *args: Any, **kwargs: Any) -> Any:
            nonlocal checkouts
            checkouts += 1
            return super().connection(*args, **kwargs)

    async with Counting(pg_dsn, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
        store = AsyncPostgresStore(pool)
        await store.setup()
        checkouts = 0
        await asyncio.gather(
            *(store.aput(("a", str(i % 3)), f"k{i}", {"i": i}) for i in range(200))
        )
        assert checkouts == 1
        checkouts = 0
        found = await asyncio.gather(
            *(store.aget(("a", str(i % 3)), f"k{i}") for i in range(200)),
            store.asearch(("a",), limit=500),
            store.alist_namespaces(prefix=("a",)),
        )
        assert checkouts == 1
        assert [item.value["i"] for item in found[:200]] == list(range(200))  # type: ignore[union-attr]
        assert len(found[200]) == 200  # type: ignore[arg-type]
        assert found[201] == [("a", "0"), ("a", "1"), ("a", "2")]
        # one after another, each call is its own batch and sees the one before
        await store.aput(("b",), "k", {"v": 1})
        assert (await store.aget(("b",), "k")).value == {"v": 1}  # type: ignore[union-attr]
        await store.close()
