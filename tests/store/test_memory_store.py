"""What is particular to InMemoryStore: its vector index against brute force, padding, TTL."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from fake_embed import FakeEmbeddings

from threadloom.store._vectors import VectorIndex
from threadloom.store.base import PutOp, SearchOp
from threadloom.store.memory import InMemoryStore

DIMS = 16


def test_import_path_matches_langgraph() -> None:
    from threadloom.store.base import BaseStore

    store = InMemoryStore()
    assert isinstance(store, BaseStore)
    assert store.supports_ttl


def test_unembedded_items_pad_the_results_at_score_none() -> None:
    store = InMemoryStore(index={"dims": 128, "embed": FakeEmbeddings(), "fields": ["text"]})
    store.put(("m",), "bob", {"text": "User name is Bob"})
    store.put(("m",), "pizza", {"text": "User likes pizza"})
    store.put(("m",), "off", {"text": "User name is Bob"}, index=False)
    store.put(("m",), "nofield", {"other": "no text field"})
    found = store.search(("m",), query="what is my name?", limit=10)
    assert [i.key for i in found[:2]] == ["bob", "pizza"]
    # in insertion order, as LangGraph's InMemoryStore
    assert [(i.key, i.score) for i in found[2:]] == [("off", None), ("nofield", None)]
    assert [i.key for i in store.search(("m",), query="name", limit=1, offset=2)] == ["off"]
    assert [i.key for i in store.search(("m",), query="name", limit=2)] == ["bob", "pizza"]


def test_search_in_batch_sees_state_before_puts() -> None:
    store = InMemoryStore(index={"dims": 128, "embed": FakeEmbeddings(), "fields": ["text"]})
    store.put(("m",), "old", {"text": "User name is Bob"})
    results = store.batch(
        [PutOp(("m",), "new", {"text": "User name is Bob"}), SearchOp(("m",), query="name")]
    )
    assert [i.key for i in results[1]] == ["old"]


def _brute_force(
    vectors: dict[tuple[tuple[str, ...], str], np.ndarray],
    query: np.ndarray,
    prefix: tuple[str, ...],
    allowed: set[tuple[tuple[str, ...], str]] | None,
) -> list[tuple[tuple[tuple[str, ...], str], float]]:
    q = query / np.linalg.norm(query)
    scored = []
    for where, rows in vectors.items():
        if where[0][: len(prefix)] != prefix or (allowed is not None and where not in allowed):
            continue
        normed = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        scored.append((where, float((normed @ q).max())))
    return sorted(scored, key=lambda s: -s[1])


@pytest.mark.parametrize("seed", range(4))
def test_vector_search_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    table: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> list[list[float]]:
        return [table[t].tolist() for t in texts]

    store = InMemoryStore(index={"dims": DIMS, "embed": embed, "fields": ["parts[*]"]})
    truth: dict[tuple[tuple[str, ...], str], np.ndarray] = {}
    values: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
    namespaces = [("u", str(i)) for i in [1, 10, 2, 3]] + [("u", "1", "deep"), ("v",)]
    counter = 0
    for step in range(300):
        ns, key = pick.choice(namespaces), str(pick.randrange(40))
        if pick.random() < 0.2:
            store.delete(ns, key)
            truth.pop((ns, key), None)
            values.pop((ns, key), None)
            continue
        parts = []
        for _ in range(pick.choice([1, 1, 2, 3])):
            counter += 1
            text = f"t{counter}"
            table[text] = rng.standard_normal(DIMS).astype(np.float32)
            parts.append(text)
        value = {"parts": parts, "group": pick.randrange(3)}
        store.put(ns, key, value)
        truth[(ns, key)] = np.array([table[t] for t in parts])
        values[(ns, key)] = value
        if step % 25 == 24:
            table["q"] = rng.standard_normal(DIMS).astype(np.float32)
            for prefix in [(), ("u",), ("u", "1"), ("v",), ("none",)]:
                for group in [None, 1]:
                    allowed = (
                        None
                        if group is None
                        else {w for w, v in values.items() if v["group"] == group}
                    )
                    expected = _brute_force(truth, table["q"], prefix, allowed)[:7]
                    found = store.search(
                        prefix,
                        query="q",
                        limit=7,
                        filter=None if group is None else {"group": group},
                    )
                    assert [(i.namespace, i.key) for i in found] == [w for w, _ in expected]
                    assert [i.score for i in found] == pytest.approx(
                        [s for _, s in expected], abs=1e-5
                    )


def test_vector_index_reuses_rows_and_grows() -> None:
    index = VectorIndex(4)
    for i in range(100):
        index.put(("n", str(i % 40)), i, np.ones((2, 4), dtype=np.float32))
    assert index.live_rows == 200
    index.flush()
    used = index._high
    for i in range(0, 100, 2):
        index.remove(i)
    assert index.live_rows == 100
    index.put(("n", "x"), 1000, np.eye(4, dtype=np.float32))
    index.put(("n", "x"), 1001, np.eye(4, dtype=np.float32)[:1])
    index.remove(1001)  # removed while still pending
    items, scores = index.search(np.array([1, 0, 0, 0], dtype=np.float32), 3, [("n", "x")])
    assert index._high == used  # freed rows were reused, the matrix did not grow
    assert items.tolist() == [1000]
    assert scores.tolist() == pytest.approx([1.0])
    many = [("n", str(i)) for i in range(40)] + [("n", "x")]  # the many-namespace path
    items, _ = index.search(np.ones(4, dtype=np.float32), 500, many)
    assert sorted(items.tolist()) == [*range(1, 100, 2), 1000]
    index.put(("n", "x"), 1000, np.zeros((1, 4), dtype=np.float32))  # a re-put replaces
    items, scores = index.search(np.ones(4, dtype=np.float32), 500, [("n", "x")])
    assert items.tolist() == [1000]
    assert scores.tolist() == [0.0]


def test_omit_expired_hides_before_sweep() -> None:
    store = InMemoryStore(ttl={"omit_expired": True})
    clock = [1000.0]
    store._time = lambda: clock[0]
    store.put(("a",), "k", {"v": 1}, ttl=1)
    store.put(("a",), "keep", {"v": 2})
    clock[0] += 61
    assert store.get(("a",), "k") is None
    assert [i.key for i in store.search(("a",))] == ["keep"]
    assert store.sweep_ttl() == 1


def test_expired_items_readable_until_swept_by_default() -> None:
    store = InMemoryStore(ttl={"refresh_on_read": False})
    clock = [1000.0]
    store._time = lambda: clock[0]
    store.put(("a",), "k", {"v": 1}, ttl=1)
    clock[0] += 30
    assert store.get(("a",), "k") is not None  # refresh_on_read False: no refresh
    clock[0] += 31
    assert store.get(("a",), "k") is not None  # expired, not yet swept
    assert store.get(("a",), "k", refresh_ttl=True) is not None  # an explicit refresh
    assert store.sweep_ttl() == 0
    clock[0] += 61
    assert store.sweep_ttl() == 1
    assert store.list_namespaces() == []


def test_search_refreshes_ttl() -> None:
    store = InMemoryStore()
    clock = [0.0]
    store._time = lambda: clock[0]
    store.put(("a",), "k", {"v": 1}, ttl=1)
    clock[0] += 50
    assert len(store.search(("a",))) == 1  # refresh_ttl defaults to True
    clock[0] += 50
    assert store.sweep_ttl() == 0
    store.search(("a",), refresh_ttl=False)
    clock[0] += 11
    assert store.sweep_ttl() == 1


def test_pending_vectors_deleted_or_replaced_before_a_search_never_show() -> None:
    """New vectors wait in a buffer until the next search; changes before it must win."""
    vectors = {"a": [1.0, 0, 0, 0], "b": [0, 1.0, 0, 0], "c": [0, 0, 1.0, 0], "q": [1.0, 1, 1, 0]}
    store = InMemoryStore(
        index={"dims": 4, "embed": lambda texts: [vectors[t] for t in texts], "fields": ["t"]}
    )
    store.search(("m",), query="q")  # the index has been flushed once (empty)
    store.put(("m",), "gone", {"t": "a"})
    store.put(("m",), "moved", {"t": "a"})
    store.put(("m",), "plain", {"t": "c"})
    store.delete(("m",), "gone")  # deleted while its vector is pending
    store.put(("m",), "moved", {"t": "b"})  # re-put: only the new vector counts
    store.put(("m",), "plain", {"t": "c"}, index=False)  # re-put without vectors
    store.batch(  # put then delete in one batch: nothing stays
        [PutOp(("m",), "flash", {"t": "a"}), PutOp(("m",), "flash", None)]
    )
    found = store.search(("m",), query="q", limit=10)
    assert [(i.key, i.score) for i in found] == [
        ("moved", pytest.approx(1 / 3**0.5, abs=1e-6)),
        ("plain", None),
    ]
    store.put(("m",), "moved", {"t": "c"})  # the same after the vectors were flushed
    store.delete(("m",), "plain")
    found = store.search(("m",), query="q", limit=10)
    assert [i.key for i in found] == ["moved"]
    assert store._vectors is not None and store._vectors.live_rows == 1


def test_put_stores_a_deep_copy_of_any_json_like_value() -> None:
    class Label(str):
        pass

    nested: dict[str, Any] = {"list": [1, {"x": [2]}], "tuple": (3, [4]), "label": Label("y")}
    value: dict[str, Any] = {"text": "hi", "n": 1.5, "flag": True, "none": None, "nested": nested}
    store = InMemoryStore()
    store.put(("m",), "k", value)
    nested["list"][1]["x"].append(99)
    nested["tuple"][1].append(99)
    value["text"] = "changed"
    item = store.get(("m",), "k")
    assert item is not None
    assert item.value == {
        "text": "hi",
        "n": 1.5,
        "flag": True,
        "none": None,
        "nested": {"list": [1, {"x": [2]}], "tuple": (3, [4]), "label": "y"},
    }
    item.value["nested"]["list"].append(5)
    again = store.get(("m",), "k")
    assert again is not None and again.value["nested"]["list"] == [1, {"x": [2]}]


def test_put_checks_index_paths_and_ttl_like_batch() -> None:
    from threadloom.errors import FieldPathError

    store = InMemoryStore(
        index={"dims": 128, "embed": FakeEmbeddings(), "fields": ["text"]},
        ttl={"default_ttl": 1},
    )
    with pytest.raises(FieldPathError):
        store.put(("m",), "k", {"text": "hi"}, index=["a..b"])
    with pytest.raises(ValueError, match="ttl must be"):
        store.put(("m",), "k", {"text": "hi"}, ttl=-1)
    assert store.get(("m",), "k") is None
    clock = [0.0]
    store._time = lambda: clock[0]
    store.put(("m",), "default", {"text": "hi"})  # the config's default_ttl: 1 minute
    store.put(("m",), "paths", {"title": "User name is Bob"}, index=["title"], ttl=None)
    assert store.search(("m",), query="name", limit=1)[0].key == "paths"
    clock[0] += 61
    assert store.sweep_ttl() == 1
    assert [i.key for i in store.search(("m",))] == ["paths"]


def test_vector_index_scores_spans_holes_and_scattered_rows_alike() -> None:
    """A namespace filed in one flush is scored in place; holes and late rows change nothing."""
    rng = np.random.default_rng(5)
    index = VectorIndex(DIMS)
    truth: dict[int, tuple[tuple[str, ...], np.ndarray]] = {}
    namespaces = [("u", str(i)) for i in range(8)]  # each under a quarter of all rows

    def put(item: int, ns: tuple[str, ...] | None = None) -> None:
        ns = ns or namespaces[item % len(namespaces)]
        vector = rng.standard_normal((1, DIMS)).astype(np.float32)
        index.put(ns, item, vector)
        truth[item] = (ns, vector[0] / np.linalg.norm(vector[0]))

    def check() -> None:
        query = rng.standard_normal(DIMS).astype(np.float32)
        for ns in [*namespaces, None]:
            wanted = [i for i, (n, _) in truth.items() if ns is None or n == ns]
            expected = sorted(wanted, key=lambda i: -float(truth[i][1] @ query))[:5]
            items, _ = index.search(query, 5, None if ns is None else [ns])
            assert items.tolist() == expected

    for item in range(400):  # interleaved namespaces, one flush: each namespace one block
        put(item)
    check()
    for item in range(0, 400, 9):  # holes inside the blocks
        index.remove(item)
        del truth[item]
    check()
    for item in range(400, 416):  # new rows land in freed rows far from their namespace
        put(item)
    check()
    for item in range(416, 476):  # and past the end, until one namespace is a quarter
        put(item, namespaces[0])
    check()
