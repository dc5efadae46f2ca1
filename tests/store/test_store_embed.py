"""Embedding adapters and the checks every store relies on before it stores anything."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pytest
from fake_embed import FakeEmbeddings, embed_texts
from langchain_core.embeddings import Embeddings

from threadloom.errors import EmbeddingError
from threadloom.store.base import PutOp, ensure_embeddings
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


def test_provider_string_needs_langchain(monkeypatch: pytest.MonkeyPatch) -> None:
    # as if langchain were not installed (the test extra installs it): its import fails
    monkeypatch.setitem(sys.modules, "langchain.embeddings", None)
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


@pytest.mark.parametrize("count", [1, 3, 20])  # both sides of the few-rows finiteness check
@pytest.mark.parametrize(
    "make_row",
    [
        lambda i: [0.5 * i, -1.25, 3.0, 1e-3],  # Python floats, the usual embedder output
        lambda i: [i, 2, True, 0],  # ints and bools convert as numpy converts them
        lambda i: (float(i), 1.0, 2.0, 3.0),  # tuples take the general path
        lambda i: np.array([i, 1.0, 2.0, 3.0]),  # so do numpy rows
        lambda i: [np.float64(i), np.float32(1.5), 2.0, 3.0],  # numpy scalars in a list
        lambda i: [3.4028235e38, -3.4028235e38, 1e-45, 0.1],  # float32 limits and rounding
    ],
)
def test_every_vector_form_converts_like_numpy(count: int, make_row: Any) -> None:
    rows = [make_row(i) for i in range(count)]
    index = _index(lambda texts: rows)
    matrix = index.embed_documents(["t"] * count)
    expected = np.asarray(rows, dtype=np.float32)
    assert matrix.dtype == np.float32
    assert matrix.shape == (count, 4)
    assert np.array_equal(matrix, expected)
    assert matrix.flags.writeable
    # lists of numbers take the packing fast path; other forms the general one, same result
    fast = index._pack_lists(rows, count)
    assert (fast is not None) == all(type(row) is list for row in rows)


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ([1.0, float("nan"), 0.0, 0.0], "NaN"),
        ([1.0, float("inf"), 0.0, 0.0], "NaN or infinite"),
        ([float("-inf"), float("inf"), 0.0, 0.0], "NaN or infinite"),  # sums to NaN
        ([1e39, 0.0, 0.0, 0.0], "NaN or infinite"),  # finite, but too large for float32
        ([1.0, "x", 0.0, 0.0], "not numbers"),
        ([1.0, 0.0, 0.0], "length 3 but the index is configured with dims=4"),
        ([1.0, 0.0, 0.0, 0.0, 0.0], "length 5"),
    ],
)
def test_a_bad_vector_among_good_ones_is_found(count: int, bad_row: Any, message: str) -> None:
    rows = [[0.5, 0.5, 0.5, 0.5]] * (count - 1) + [bad_row]
    store = InMemoryStore(index={"dims": 4, "embed": lambda texts: rows, "fields": ["text"]})
    store.put(("m",), "kept", {"text": "before"}, index=False)
    ops = [PutOp(("m",), f"k{i}", {"text": f"t{i}"}) for i in range(count)]
    with pytest.raises(EmbeddingError, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy warns on the float32 overflow
        store.batch(ops)
    assert [i.key for i in store.search(("m",))] == ["kept"]  # the batch changed nothing


def test_plain_fields_give_the_same_texts_as_the_path_walker() -> None:
    fields = ["text", "n", "meta", "tags", "missing", "flag"]
    plain = EmbeddingIndex.from_config({"dims": 4, "embed": embed_texts, "fields": fields})
    walker = EmbeddingIndex.from_config({"dims": 4, "embed": embed_texts, "fields": ["$"]})
    value = {
        "text": "hello",
        "n": 3.5,
        "meta": {"b": 1, "a": ["x"]},
        "tags": ["x", "y"],
        "flag": None,
        "other": "not embedded",
    }
    expected = walker.texts_for(value, fields)  # an explicit list always walks paths
    assert plain.texts_for(value, None) == expected
    assert expected == [
        ("text", "hello"),
        ("n", "3.5"),
        ("meta", '{"a": ["x"], "b": 1}'),
        ("tags", '["x", "y"]'),
    ]  # "flag" is None: no text, nothing embedded (as LangGraph)
