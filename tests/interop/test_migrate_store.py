"""``migrate_store``: a LangGraph store's items (SQLite and PostgreSQL) copied into threadloom's
stores, vectors embedded again or copied, the source unchanged, a second run copying nothing."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langgraph.store.sqlite")

from langgraph.store.sqlite import SqliteStore as LangGraphSqliteStore

from threadloom.errors import LangGraphSourceError
from threadloom.interop.migrate import migrate_store
from threadloom.store.memory import InMemoryStore
from threadloom.store.sqlite import SqliteStore

DIMS = 8
WORDS = ("cat", "dog", "tea", "code", "rain", "piano", "moon", "bread")

ITEMS = [
    (("memories", "bob"), "1", {"text": "bob likes cats and a dog", "n": 1}),
    (("memories", "bob"), "2", {"text": "bob drinks tea while it rains", "n": 2}),
    (("memories", "alice"), "1", {"text": "alice plays piano under the moon", "n": 3}),
    (("notes",), "x", {"text": "code and bread", "tags": ["a", "b"]}),
]


def embed(texts: list[str]) -> list[list[float]]:
    """A deterministic bag-of-words embedding (one dimension per word of ``WORDS``)."""
    return [[float(word in text) + 0.01 * i for i, word in enumerate(WORDS)] for text in texts]


def other_embed(texts: list[str]) -> list[list[float]]:
    """Another 'model': the same words weighted backwards, so its vectors differ from ``embed``."""
    return [list(reversed(v)) for v in embed(texts)]


INDEX: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}


@pytest.fixture
def langgraph_store_file(tmp_path: Path) -> Path:
    # without an index: this Python's sqlite3 cannot load sqlite-vec, which LangGraph's SQLite
    # vectors need (vectors are copied from LangGraph's PostgresStore below)
    path = tmp_path / "lg-store.db"
    with LangGraphSqliteStore.from_conn_string(str(path)) as store:
        store.setup()
        for namespace, key, value in ITEMS:
            store.put(namespace, key, value)
        store.put(("temp",), "t", {"text": "rain"}, ttl=60)
    return path


@contextmanager
def target_store(tmp_path: Path, embedder: Any = embed) -> Iterator[SqliteStore]:
    index: Any = {**INDEX, "embed": embedder}
    with SqliteStore.from_conn_string(str(tmp_path / "tl-store.db"), index=index) as store:
        store.setup()
        yield store


def ranked(store: Any, query: str) -> list[tuple[tuple[str, ...], str]]:
    return [(i.namespace, i.key) for i in store.search(("memories",), query=query, limit=3)]


def test_items_and_search_come_over_with_vectors_embedded_again(
    langgraph_store_file: Path, tmp_path: Path
) -> None:
    before = hashlib.sha256(langgraph_store_file.read_bytes()).hexdigest()
    steps: list[tuple[int, int]] = []
    with target_store(tmp_path, other_embed) as target:
        report = migrate_store(
            langgraph_store_file, target, progress=lambda d, t: steps.append((d, t))
        )
        assert (report.items, report.copied, report.skipped) == (5, 5, 0)
        assert report.vectors == "re-embedded" and steps[-1] == (5, 5)
        for namespace, key, value in ITEMS:
            item = target.get(namespace, key)
            assert item is not None and item.value == value
        assert target.search(("temp",))[0].value == {"text": "rain"}
        # the target's own model answered: its ranking is other_embed's, not the source's
        (tmp_path / "fresh").mkdir()
        with target_store(tmp_path / "fresh", other_embed) as fresh:
            for namespace, key, value in ITEMS:
                fresh.put(namespace, key, value)
            assert ranked(target, "tea in the rain") == ranked(fresh, "tea in the rain")
        again = migrate_store(langgraph_store_file, target)
        assert (again.copied, again.skipped) == (0, 5)
    assert hashlib.sha256(langgraph_store_file.read_bytes()).hexdigest() == before


def test_a_target_without_index_takes_the_items_only(
    langgraph_store_file: Path, tmp_path: Path
) -> None:
    target = InMemoryStore()
    report = migrate_store(langgraph_store_file, target)
    assert report.vectors == "none" and report.copied == 5
    assert {i.key for i in target.search(("memories", "bob"))} == {"1", "2"}


def test_a_file_without_a_langgraph_store_is_refused(tmp_path: Path) -> None:
    with (
        target_store(tmp_path) as target,
        pytest.raises(LangGraphSourceError, match="threadloom database"),
    ):
        migrate_store(tmp_path / "tl-store.db", target)


def test_postgres_store_items_come_over_with_their_vectors_copied(
    pg_dsn: str, tmp_path: Path
) -> None:
    pytest.importorskip("langgraph.store.postgres")
    from langgraph.store.postgres import PostgresStore as LangGraphPostgresStore

    with LangGraphPostgresStore.from_conn_string(pg_dsn, index=INDEX) as lg:
        lg.setup()
        for namespace, key, value in ITEMS:
            lg.put(namespace, key, value)
        expected = [(tuple(i.namespace), i.key) for i in lg.search(("memories",), query="cat")]

    def refuse(texts: list[str]) -> list[list[float]]:
        raise AssertionError("copying vectors must not call the embedder")

    with target_store(tmp_path, refuse) as target:
        report = migrate_store(pg_dsn, target, reembed=False)
        assert (report.copied, report.vectors) == (4, "copied")
        assert migrate_store(pg_dsn, target, reembed=False).copied == 0
    with target_store(tmp_path) as reopened:  # the same file; queries embedded by the model
        assert ranked(reopened, "cat") == expected[:3]


def test_postgres_store_setup_warns_about_langgraph_items_beside_it(pg_dsn: str) -> None:
    pytest.importorskip("langgraph.store.postgres")
    from langgraph.store.postgres import PostgresStore as LangGraphPostgresStore

    from threadloom.errors import LangGraphStoreWarning
    from threadloom.store.postgres import PostgresStore

    with LangGraphPostgresStore.from_conn_string(pg_dsn) as lg:
        lg.setup()
        lg.put(("memories",), "1", {"text": "kept by LangGraph"})
    with PostgresStore.from_conn_string(pg_dsn) as store:
        with pytest.warns(LangGraphStoreWarning, match=r"1 item\(s\).*threadloom migrate"):
            store.setup()
        report = migrate_store(pg_dsn, store)  # the same database: both stores side by side
        assert report.copied == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            store.setup()  # threadloom's store holds items now: nothing to say
        item = store.get(("memories",), "1")
        assert item is not None and item.value == {"text": "kept by LangGraph"}
