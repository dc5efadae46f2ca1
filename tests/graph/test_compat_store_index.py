"""Store index settings and embedded texts as LangGraph has them (LangGraph 1.2.22).

LangGraph's ``SqliteStore`` reads its embedded field paths from ``index["text_fields"]`` (a list,
or one path as a string); threadloom accepts it on every store as another name for ``fields``.
A field that holds ``None`` has no text: nothing is embedded for it (LangGraph's
``get_text_at_path`` returns no text for ``None``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from threadloom.store._paths import get_text_at_path
from threadloom.store.memory import InMemoryStore
from threadloom.store.sqlite import SqliteStore


def embed(texts: list[str]) -> list[list[float]]:
    """Two dimensions: the text's length and its count of 'x' (a real, if tiny, embedding)."""
    return [[float(len(t)) + 1.0, float(t.count("x")) + 1.0] for t in texts]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    conns: list[sqlite3.Connection] = []

    def make(index: dict[str, Any]) -> Any:
        if request.param == "memory":
            return InMemoryStore(index=index)  # type: ignore[arg-type]
        conn = sqlite3.connect(tmp_path / f"s{len(conns)}.db", check_same_thread=False)
        conns.append(conn)
        store = SqliteStore(conn, index=index)  # type: ignore[arg-type]
        store.setup()
        return store

    yield make
    for conn in conns:
        conn.close()


@pytest.mark.parametrize("text_fields", [["text"], "text"])
def test_text_fields_is_langgraphs_name_for_fields(make_store: Any, text_fields: Any) -> None:
    store = make_store({"dims": 2, "embed": embed, "text_fields": text_fields})
    store.put(("ns",), "with_text", {"text": "xx", "other": "yyyy"})
    store.put(("ns",), "without_text", {"other": "xx"})
    scores = {r.key: r.score for r in store.search(("ns",), query="xx")}
    assert scores["with_text"] is not None  # "text" was embedded
    assert scores["without_text"] is None  # "other" was not (not the whole value, "$")


def test_fields_and_text_fields_that_disagree_are_refused(make_store: Any) -> None:
    with pytest.raises(ValueError, match="both 'fields'"):
        make_store({"dims": 2, "embed": embed, "fields": ["a"], "text_fields": ["b"]})
    store = make_store({"dims": 2, "embed": embed, "fields": ["a"], "text_fields": "a"})
    store.put(("ns",), "k", {"a": "x"})
    assert store.search(("ns",), query="x")[0].score is not None


@pytest.mark.parametrize("fields", [["text"], ["meta.text"], ["items[*]"]])
def test_a_none_field_is_not_embedded_as_the_text_none(make_store: Any, fields: list[str]) -> None:
    calls: list[list[str]] = []

    def recording_embed(texts: list[str]) -> list[list[float]]:
        calls.append(list(texts))
        return embed(texts)

    store = make_store({"dims": 2, "embed": recording_embed, "fields": fields})
    store.put(("ns",), "none", {"text": None, "meta": {"text": None}, "items": [None]})
    assert all("None" not in batch for batch in calls)
    result = store.search(("ns",), query="x")
    assert [(r.key, r.score) for r in result] == [("none", None)]


def test_get_text_at_path_gives_no_text_for_none() -> None:
    value = {"a": None, "b": {"c": None}, "d": [None, "x", 1], "e": "y"}
    assert get_text_at_path(value, "a") == []
    assert get_text_at_path(value, "b.c") == []
    assert get_text_at_path(value, "d[*]") == ["x", "1"]
    assert get_text_at_path(value, "e") == ["y"]
