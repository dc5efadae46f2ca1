"""Embedding adapters and the checks every store relies on before it stores anything."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest
from fake_embed import FakeEmbeddings, embed_texts
from langchain_core.embeddings import Embeddings

from threadloom.errors import EmbeddingError
from threadloom.store.base import ensure_embeddings
from threadloom.store.embed import EmbeddingIndex
from threadloom.store.memory import InMemoryStore


def test_ensure_embeddings_kinds() -> None:
    fake = FakeEmbeddings(8)
    assert ensure_embeddings(fake) is fake
    wrapped = ensure_embeddings(lambda texts: embed_texts(texts, 8))
    assert isinstance(wrapped, Embeddings)
    assert wrapped.embed_query("hello") == embed_texts(["hello"], 8)[0]
    with pytest.raises(ValueError, match="embed must be provided"):
        ensure_embeddings(None)
    with pytest.raises(TypeError, match="provider:model"):
        ensure_embeddings(42)


async def test_async_function_embeddings() -> None:
    async def aembed(texts: list[str]) -> list[list[float]]:
        return embed_texts(texts, 8)

    wrapped = ensure_embeddings(aembed)
    assert await wrapped.aembed_documents(["a"]) == embed_texts(["a"], 8)
    assert await wrapped.aembed_query("a") == embed_texts(["a"], 8)[0]
    with pytest.raises(NotImplementedError, match="async"):
        wrapped.embed_documents(["a"])

    store = InMemoryStore(index={"dims": 8, "embed": aembed})
    await store.aput(("m",), "k", {"text": "User name is Bob"})
    assert (await store.asearch(("m",), query="name"))[0].key == "k"
    with pytest.raises(NotImplementedError, match="async methods"):
        store.put(("m",), "j", {"text": "x"})
    assert await store.aget(("m",), "j") is None


async def test_sync_function_used_from_async() -> None:
    index = {"dims": 8, "embed": lambda t: embed_texts(t, 8), "fields": ["text"]}
    store = InMemoryStore(index=index)  # type: ignore[arg-type]
    await store.aput(("m",), "k", {"text": "hello"})
    assert (await store.asearch(("m",), query="hello"))[0].score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("langchain") is not None, reason="langchain present")
def test_provider_string_needs_langchain() -> None:
    with pytest.raises(ValueError, match="needs the 'langchain' package"):
        InMemoryStore(index={"dims": 8, "embed": "openai:text-embedding-3-small"})


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"embed": embed_texts}, ValueError, "dims"),
        ({"dims": 0, "embed": embed_texts}, ValueError, "dims"),
        ({"dims": True, "embed": embed_texts}, ValueError, "dims"),
        ({"dims": 8}, ValueError, "embed must be provided"),
        ({"dims": 8, "embed": embed_texts, "fields": "text"}, TypeError, "list of field paths"),
        ({"dims": 8, "embed": embed_texts, "dim": 8}, ValueError, "Unknown index setting"),
    ],
)
def test_bad_index_config(config: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        InMemoryStore(index=config)  # type: ignore[arg-type]


def _index(func: Any, dims: int = 4) -> EmbeddingIndex:
    return EmbeddingIndex.from_config({"dims": dims, "embed": func})


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ([[1.0, 0, 0, 0]], "returned 1 vector"),
        ([[1.0, 0, 0], [1.0, 0, 0]], "length 3 but the index is configured with dims=4"),
        ([[1.0, 0, 0, float("nan")]] * 2, "NaN"),
        ([["a", "b", "c", "d"]] * 2, "not numbers"),
        (None, "not a list of vectors"),
    ],
)
def test_vectors_are_checked(returned: Any, message: str) -> None:
    index = _index(lambda texts: returned)
    with pytest.raises(EmbeddingError, match=message):
        index.embed_documents(["a", "b"])


def test_vectors_shape_and_names() -> None:
    index = EmbeddingIndex.from_config(
        {"dims": 8, "embed": FakeEmbeddings(8), "fields": ["title", "parts[*]"]}
    )
    value = {"title": "t", "parts": ["x", "y"]}
    assert index.texts_for(value, None) == [
        ("title", "t"),
        ("parts[*].0", "x"),
        ("parts[*].1", "y"),
    ]
    assert index.texts_for(value, False) == []
    assert index.texts_for(value, ["missing"]) == []
    assert index.texts_for({"parts": ["only"]}, None) == [("parts[*]", "only")]
    matrix = index.embed_documents(["a", "b", "c"])
    assert matrix.shape == (3, 8)
    assert matrix.dtype == np.float32
    assert index.embed_documents([]).shape == (0, 8)
    assert index.embed_query("a").shape == (8,)
