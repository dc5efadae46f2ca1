"""Persistence details that match LangGraph 1.2.22 (issue 10): the metadata key ``writes``,
dotted metadata filter keys, and where items without a vector go in a semantic search.

Expected values were observed by running the same calls on LangGraph 1.2.22.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.base import BaseCheckpointSaver, empty_checkpoint
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.store.base import BaseStore
from threadloom.store.memory import InMemoryStore
from threadloom.store.postgres import PostgresStore
from threadloom.store.sqlite import SqliteStore

SAVERS = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=SAVERS)
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCheckpointSaver[Any]]:
    opened: AbstractContextManager[Any]
    if request.param == "memory":
        opened = nullcontext(InMemorySaver())
    elif request.param == "sqlite":
        opened = SqliteSaver.from_conn_string(str(tmp_path / "c.db"))
    else:
        opened = PostgresSaver.from_conn_string(request.getfixturevalue("pg_dsn"))
    with opened as made:
        if hasattr(made, "setup"):
            made.setup()
        yield made


def _config(thread: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}


def _put(saver: BaseCheckpointSaver[Any], thread: str, metadata: dict[str, Any]) -> None:
    saver.put(_config(thread), empty_checkpoint(), metadata, {})  # type: ignore[arg-type]


def _steps(saver: BaseCheckpointSaver[Any], filter: dict[str, Any]) -> list[int]:
    return [t.metadata["step"] for t in saver.list(None, filter=filter)]


def test_the_metadata_key_writes_is_kept(saver: BaseCheckpointSaver[Any]) -> None:
    metadata = {"source": "loop", "step": 1, "writes": {"foo": "bar"}, "score": None}
    _put(saver, "t", metadata)
    found = saver.get_tuple(_config("t"))
    assert found is not None
    assert found.metadata == metadata
    assert _steps(saver, {"step": 1, "writes": {"foo": "bar"}}) == [1]
    assert _steps(saver, {"writes": {"foo": "baz"}}) == []


@pytest.fixture
def nested(saver: BaseCheckpointSaver[Any]) -> BaseCheckpointSaver[Any]:
    _put(saver, "a", {"step": 1, "user": {"name": "ann", "tier": {"level": 2}}})
    _put(saver, "b", {"step": 2, "user": {"name": "bob", "tier": {"level": 3}}})
    _put(saver, "c", {"step": 3, "user": "flat", "user.name": "ann"})
    return saver


def test_a_dotted_filter_key_reads_a_nested_path(nested: BaseCheckpointSaver[Any]) -> None:
    assert _steps(nested, {"user.tier.level": 2}) == [1]
    assert _steps(nested, {"user.tier": {"level": 3}}) == [2]
    assert _steps(nested, {"user.tier.level": 2, "step": 1}) == [1]
    assert _steps(nested, {"user.tier.level": 4}) == []
    assert _steps(nested, {"user.tier.missing": 1}) == []


def test_a_key_that_exists_as_written_wins_over_the_path(
    nested: BaseCheckpointSaver[Any],
) -> None:
    # the literal key "user.name" of checkpoint c, and the nested name of checkpoint a
    assert sorted(_steps(nested, {"user.name": "ann"})) == [1, 3]


def test_a_dotted_filter_key_with_a_limit(nested: BaseCheckpointSaver[Any]) -> None:
    found = list(nested.list(None, filter={"user.tier.level": 3}, limit=1))
    assert [t.metadata["step"] for t in found] == [2]


# -- store: semantic search and items without a vector ---------------------------------------


def _embed(texts: list[str]) -> list[list[float]]:
    return [[float(len(t)), float(sum(map(ord, t)) % 7), 1.0] for t in texts]


INDEX: Any = {"dims": 3, "embed": _embed, "fields": ["text"]}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    opened: AbstractContextManager[Any]
    if request.param == "memory":
        opened = nullcontext(InMemoryStore(index=INDEX))
    elif request.param == "sqlite":
        opened = SqliteStore.from_conn_string(str(tmp_path / "s.db"), index=INDEX)
    else:
        opened = PostgresStore.from_conn_string(request.getfixturevalue("pg_dsn"), index=INDEX)
    with opened as made:
        if hasattr(made, "setup"):
            made.setup()
        yield made


def _fill(store: BaseStore) -> Callable[..., list[tuple[str, float | None]]]:
    ns = ("docs",)
    store.put(ns, "k1", {"text": "hello world"})
    store.put(ns, "n1", {"other": 1}, index=False)
    store.put(ns, "k2", {"text": "hi"})
    store.put(ns, "n2", {"other": 2}, index=False)
    store.put(ns, "n0", {"other": 0})  # no "text" field: nothing to embed
    store.put(ns, "k3", {"text": "a much longer text here"})
    store.put(ns, "n3", {"other": 3}, index=False)

    def search(**kwargs: Any) -> list[tuple[str, float | None]]:
        found = store.search(ns, query="hello", **kwargs)
        return [(r.key, None if r.score is None else round(r.score, 3)) for r in found]

    return search


def test_items_without_a_vector_follow_in_insertion_order(store: BaseStore) -> None:
    search = _fill(store)
    assert search(limit=10) == [  # LangGraph 1.2.22's InMemoryStore, the same calls
        ("k3", 0.974),
        ("k1", 0.96),
        ("k2", 0.337),
        ("n1", None),
        ("n2", None),
        ("n0", None),
        ("n3", None),
    ]
    assert [key for key, _ in search(limit=3, offset=2)] == ["k2", "n1", "n2"]


def test_an_update_keeps_the_place_a_delete_loses_it(store: BaseStore) -> None:
    search = _fill(store)
    store.put(("docs",), "n1", {"other": 11}, index=False)
    assert [key for key, _ in search(limit=10)][3:] == ["n1", "n2", "n0", "n3"]
    store.delete(("docs",), "n2")
    store.put(("docs",), "n2", {"other": 22}, index=False)
    assert [key for key, _ in search(limit=10)][3:] == ["n1", "n0", "n3", "n2"]
