"""The store conformance suite: written once against BaseStore, run on every backend in conftest.

It covers CONTRACT 5 with threadloom's DECISIONS 9-12: validation messages and bad input that
leaves the store unchanged, label-by-label prefixes, the typed filter language, the updated_at
order, copies, created_at, list_namespaces, batches, TTL and semantic search with deterministic
fake embeddings, including the store parts of the cross-thread memory guides (seeds 001/003/004).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from fake_embed import FakeEmbeddings, embed_texts

from threadloom.errors import (
    EmbeddingError,
    FieldPathError,
    InvalidNamespaceError,
    StoreArgumentError,
)
from threadloom.store.base import (
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchItem,
    SearchOp,
)

DIMS = 128
MakeStore = Any  # the make_store fixture of conftest.py: make_store(index=..., ttl=...) -> store


def indexed(make_store: MakeStore, **index: Any) -> Any:
    return make_store(index={"dims": DIMS, "embed": FakeEmbeddings(DIMS), **index})


def keys(items: list[SearchItem]) -> list[str]:
    return [i.key for i in items]


def snapshot(store: Any) -> list[tuple[tuple[str, ...], str, Any]]:
    """Everything in a store, to check that a failed call changed nothing."""
    return sorted((i.namespace, i.key, i.value) for i in store.search((), limit=10_000))


# ---------------------------------------------------------------------------------------------
# Items, copies, timestamps


def test_put_get_roundtrip(store: Any) -> None:
    store.put(("users", "u1"), "k", {"name": "Ada", "tags": ["a", "b"], "n": 1.5})
    item = store.get(("users", "u1"), "k")
    assert isinstance(item, Item)
    assert item.namespace == ("users", "u1")
    assert item.key == "k"
    assert item.value == {"name": "Ada", "tags": ["a", "b"], "n": 1.5}
    assert item.created_at == item.updated_at
    assert item.created_at.tzinfo is not None
    assert store.get(("users", "u1"), "other") is None
    assert store.get(("nobody",), "k") is None


def test_int_key_is_stringified(store: Any) -> None:
    store.put(("a",), 1, {"v": 1})
    assert store.get(("a",), "1") is not None
    assert store.get(("a",), 1).key == "1"


def test_created_at_kept_on_update(store: Any) -> None:
    store.put(("a",), "k", {"v": 1})
    first = store.get(("a",), "k")
    store.put(("a",), "k", {"v": 2})
    second = store.get(("a",), "k")
    assert second.value == {"v": 2}
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at


def test_results_are_copies(store: Any) -> None:
    value = {"nested": {"list": [1, 2]}}
    store.put(("a",), "k", value)
    value["nested"]["list"].append(3)  # the caller's dict is not the stored one
    got = store.get(("a",), "k")
    assert got.value == {"nested": {"list": [1, 2]}}
    got.value["nested"]["list"].append(4)
    store.search(("a",))[0].value["nested"]["x"] = 1
    assert store.get(("a",), "k").value == {"nested": {"list": [1, 2]}}


def test_delete(store: Any) -> None:
    store.put(("a",), "k", {"v": 1})
    store.delete(("a",), "k")
    assert store.get(("a",), "k") is None
    store.delete(("a",), "k")  # deleting a missing key is a no-op
    store.delete(("never", "used"), "k")
    assert store.list_namespaces() == []


async def test_put_of_none_deletes_as_in_langgraph(store: Any) -> None:
    store.put(("a",), "k", {"v": 1})
    store.put(("a",), "k", None)  # LangGraph 1.2.22: a PutOp whose value is None, a delete
    assert store.get(("a",), "k") is None
    await store.aput(("a",), "k", {"v": 2})
    await store.aput(("a",), "k", None)
    assert await store.aget(("a",), "k") is None
    store.put(("a",), "missing", None)  # like delete: nothing to remove is fine
    assert store.list_namespaces() == []
    with pytest.raises(InvalidNamespaceError, match="langgraph"):
        store.put(("langgraph",), "k", None)  # the namespace is checked as for any put


def test_item_dict_and_equality(store: Any) -> None:
    store.put(("a", "b"), "k", {"v": 1})
    item = store.get(("a", "b"), "k")
    d = item.dict()
    assert d["namespace"] == ["a", "b"]
    assert d["created_at"] == item.created_at.isoformat()
    assert Item(**{**d}) == item
    assert hash(item) == hash((("a", "b"), "k"))
    found = store.search(("a",))[0]
    assert found.score is None
    assert found.dict()["score"] is None


# ---------------------------------------------------------------------------------------------
# Bad input: a clear error and an unchanged store


@pytest.mark.parametrize(
    ("namespace", "message"),
    [
        ((), "Namespace cannot be empty."),
        (("a.b",), "Namespace labels cannot contain periods ('.')."),
        (
            (1,),
            "Invalid namespace label '1' found in (1,). "
            "Namespace labels must be strings, but got int.",
        ),
        (("",), "Namespace labels cannot be empty strings. Got  in ('',)"),
        (
            ("langgraph", "x"),
            "Root label for namespace cannot be \"langgraph\". Got: ('langgraph', 'x')",
        ),
        ("memories", "a tuple of labels"),
    ],
)
def test_put_bad_namespace(store: Any, namespace: Any, message: str) -> None:
    store.put(("ok",), "k", {"v": 1})
    before = snapshot(store)
    with pytest.raises(InvalidNamespaceError) as err:
        store.put(namespace, "k", {"v": 2})
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)
    assert snapshot(store) == before


def test_reads_reject_bad_labels_but_allow_langgraph_root(store: Any) -> None:
    with pytest.raises(InvalidNamespaceError, match="periods"):
        store.get(("a.b",), "k")
    with pytest.raises(InvalidNamespaceError, match="periods"):
        store.search(("a.b",))
    with pytest.raises(InvalidNamespaceError, match="must be strings"):
        store.delete((1,), "k")
    with pytest.raises(InvalidNamespaceError, match="must be strings"):
        store.list_namespaces(prefix=(1,))
    assert store.get(("langgraph",), "k") is None
    assert store.search(("langgraph",)) == []


@pytest.mark.parametrize("value", [["a"], "text", 3, {1: "int key"}])
def test_put_value_must_be_mapping(store: Any, value: Any) -> None:
    with pytest.raises(TypeError, match="store value must"):
        store.put(("a",), "k", value)
    with pytest.raises(ValueError, match="store value must"):  # LangGraph's kind for a list
        store.put(("a",), "k", value)
    assert store.get(("a",), "k") is None


@pytest.mark.parametrize("pairs", [[("a", 1), ("b", [2])], (("a", 1), ("b", [2])), [["a", 1]]])
def test_put_of_key_value_pairs_stores_a_dict_as_in_langgraph(store: Any, pairs: Any) -> None:
    store.put(("p",), "k", pairs)
    expected = dict(pairs)
    item = store.get(("p",), "k")
    assert item is not None and item.value == expected
    assert [i.value for i in store.search(("p",), filter={"a": 1})] == [expected]


@pytest.mark.parametrize("pairs", [[("a", 1), ("b", [2])], (("a", 1),), [["a", 1]]])
def test_a_batch_put_of_key_value_pairs_stores_a_dict_as_in_langgraph(
    store: Any, pairs: Any
) -> None:
    expected = dict(pairs)
    got = store.batch([PutOp(("p",), "k", pairs), GetOp(("p",), "k"), SearchOp(("p",))])
    assert got[1] is None and got[2] == []  # reads see the store before the batch's writes
    item = store.get(("p",), "k")
    assert item is not None and item.value == expected
    assert [i.value for i in store.search(("p",), filter={"a": 1})] == [expected]


def test_arguments_of_the_wrong_kind_are_both_type_and_value_errors(store: Any) -> None:
    """LangGraph 1.2.22 raises TypeError for a str limit, ValueError for an unknown op."""
    for call in (
        lambda: store.search(("a",), limit="3"),
        lambda: store.search(("a",), offset=-1),
        lambda: store.list_namespaces(limit=-1),
        lambda: store.batch([5]),
    ):
        with pytest.raises(StoreArgumentError) as caught:
            call()
        assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)


def test_bad_op_in_batch_changes_nothing(store: Any) -> None:
    store.put(("a",), "keep", {"v": 1})
    before = snapshot(store)
    with pytest.raises(InvalidNamespaceError):
        store.batch([PutOp(("a",), "new", {"v": 2}), PutOp(("a.b",), "k", {"v": 3})])
    with pytest.raises(TypeError):
        store.batch([PutOp(("a",), "keep", None), PutOp(("a",), "x", ["not", "a", "dict"])])
    with pytest.raises(ValueError, match="Unsupported operator"):
        store.batch([PutOp(("a",), "new", {"v": 2}), SearchOp(("a",), {"v": {"$like": 1}})])
    assert snapshot(store) == before


def test_unknown_filter_operator(store: Any) -> None:
    store.put(("a",), "k", {"v": 1})
    with pytest.raises(ValueError, match=r"Unsupported operator: '\$regex'"):
        store.search(("a",), filter={"v": {"$regex": "x"}})
    with pytest.raises(ValueError, match=r"Unsupported operator: '\$nor'"):
        store.search(("a",), filter={"$nor": [{"v": 1}]})
    with pytest.raises(ValueError, match="Invalid filter key"):
        store.search(("a",), filter={"a..b": 1})


def test_malformed_field_path(make_store: MakeStore) -> None:
    store = indexed(make_store, fields=["text"])
    store.put(("a",), "keep", {"text": "hello"})
    before = snapshot(store)
    for bad in ["a..b", "a[", "a[x]", "{a,", "a.", "]"]:
        with pytest.raises(FieldPathError, match="Malformed field path"):
            store.put(("a",), "k", {"text": "hi"}, index=[bad])
    assert snapshot(store) == before
    with pytest.raises(FieldPathError):
        make_store(index={"dims": DIMS, "embed": embed_texts, "fields": ["a..b"]})


def test_wrong_embedding_dimension(make_store: MakeStore) -> None:
    store = make_store(index={"dims": DIMS + 1, "embed": embed_texts})
    with pytest.raises(EmbeddingError, match=rf"length {DIMS} .* dims={DIMS + 1}"):
        store.put(("a",), "k", {"text": "hello"})
    assert store.get(("a",), "k") is None
    assert store.list_namespaces() == []


def test_embedder_that_raises_changes_nothing(make_store: MakeStore) -> None:
    calls = {"n": 0}

    def flaky(texts: list[str]) -> list[list[float]]:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ConnectionError("model service down")
        return embed_texts(texts, DIMS)

    store = make_store(index={"dims": DIMS, "embed": flaky, "fields": ["text"]})
    store.put(("a",), "k", {"text": "first"})
    before = snapshot(store)
    with pytest.raises(EmbeddingError, match="model service down") as err:
        store.batch(
            [
                PutOp(("a",), "k", {"text": "changed"}),
                PutOp(("a",), "k2", {"text": "new"}),
                PutOp(("a",), "plain", {"text": "x"}, index=False),
            ]
        )
    assert isinstance(err.value.__cause__, ConnectionError)
    assert snapshot(store) == before
    with pytest.raises(EmbeddingError, match="search query"):
        store.search(("a",), query="first")


# ---------------------------------------------------------------------------------------------
# Search scope and order


def test_prefix_matches_whole_labels(store: Any) -> None:
    for user in ["1", "10", "2"]:
        store.put(("memories", user), "m", {"user": user})
    store.put(("memoriesX",), "m", {"user": "x"})
    assert [i.value["user"] for i in store.search(("memories", "1"))] == ["1"]
    assert sorted(i.value["user"] for i in store.search(("memories",))) == ["1", "10", "2"]
    assert len(store.search(())) == 4
    assert store.search(("memories", "1", "deeper")) == []


def test_order_is_updated_at_descending(store: Any) -> None:
    for k in ["a", "b", "c"]:
        store.put(("ns",), k, {"k": k})
    assert keys(store.search(("ns",))) == ["c", "b", "a"]
    store.put(("ns",), "a", {"k": "a2"})  # an update moves the item to the front
    found = store.search(("ns",))
    assert keys(found) == ["a", "c", "b"]
    assert [i.updated_at for i in found] == sorted((i.updated_at for i in found), reverse=True)
    assert keys(store.search(("ns",), limit=1, offset=1)) == ["c"]
    assert keys(store.search(("ns",), offset=5)) == []
    assert keys(store.search(("ns",), limit=0)) == []


def test_order_across_namespaces(store: Any) -> None:
    store.put(("u", "b"), "k", {})
    store.put(("u", "a"), "k", {})
    store.put(("u", "a"), "j", {})
    assert [(i.namespace, i.key) for i in store.search(("u",))] == [
        (("u", "a"), "j"),
        (("u", "a"), "k"),
        (("u", "b"), "k"),
    ]


def test_search_rejects_bad_paging(store: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.search(("a",), limit=-1)
    with pytest.raises(ValueError, match="offset"):
        store.search(("a",), offset=-2)


# ---------------------------------------------------------------------------------------------
# The filter language (DECISIONS 9)

DOCS: dict[str, dict[str, Any]] = {
    "int5": {"n": 5, "kind": "a", "meta": {"lang": "en", "score": 0.5}, "tags": ["x", "y"]},
    "float7": {"n": 7.5, "kind": "b", "meta": {"lang": "fr"}, "tags": ["y"]},
    "str10": {"n": "10", "kind": "a", "meta": {"lang": "en", "extra": True}},
    "boolT": {"n": True, "kind": "c", "flag": None},
    "none": {"n": None, "kind": "b"},
    "missing": {"kind": "c", "meta": "flat"},
}


@pytest.fixture
def docs(store: Any) -> Any:
    for key, value in DOCS.items():
        store.put(("docs",), key, value)
    return store


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"kind": "a"}, {"int5", "str10"}),
        ({"n": 5}, {"int5"}),
        ({"n": 5.0}, {"int5"}),  # numbers by value
        ({"n": 1}, set()),  # True is a boolean, never the number 1
        ({"n": True}, {"boolT"}),
        ({"n": "10"}, {"str10"}),
        ({"n": None}, {"none", "missing"}),  # a missing key equals None
        ({"n": {"$exists": False}}, {"missing"}),
        ({"n": {"$exists": True}}, {"int5", "float7", "str10", "boolT", "none"}),
        ({"flag": {"$exists": True}}, {"boolT"}),  # a stored null is present
        ({"n": {"$gt": 5}}, {"float7"}),  # "10" is a string: not compared with numbers
        ({"n": {"$gte": 5}}, {"int5", "float7"}),
        ({"n": {"$lt": 7.5}}, {"int5"}),
        ({"n": {"$lte": 7.5, "$gt": 5}}, {"float7"}),
        ({"n": {"$gt": "1"}}, {"str10"}),  # strings with strings
        ({"n": {"$ne": 5}}, {"float7", "str10", "boolT", "none", "missing"}),
        ({"n": {"$in": [5, "10", None]}}, {"int5", "str10", "none", "missing"}),
        ({"n": {"$nin": [5, "10"]}}, {"float7", "boolT", "none", "missing"}),
        ({"n": {"$not": {"$gt": 5}}}, {"int5", "str10", "boolT", "none", "missing"}),
        ({"meta.lang": "en"}, {"int5", "str10"}),
        ({"meta": {"lang": "en"}}, {"int5", "str10"}),  # nested dicts match partially
        ({"meta": {"$eq": {"lang": "fr"}}}, {"float7"}),  # $eq on a dict is exact
        ({"meta": {"$eq": {"lang": "en"}}}, set()),
        ({"meta.score": {"$lt": 1}}, {"int5"}),
        ({"tags": ["y"]}, {"float7"}),  # lists match exactly
        ({"tags": ["y", "x"]}, set()),
        ({"kind": "a", "n": {"$gt": 1}}, {"int5"}),  # all entries must hold
        ({"$or": [{"kind": "b"}, {"n": 5}]}, {"int5", "float7", "none"}),
        ({"$and": [{"kind": "a"}, {"meta.lang": "en"}]}, {"int5", "str10"}),
        ({"$not": {"kind": "c"}}, {"int5", "float7", "str10", "none"}),
        (
            {"$or": [{"$not": {"meta": {"$exists": True}}}, {"flag": {"$exists": True}}]},
            {"boolT", "none"},
        ),
        ({}, set(DOCS)),
    ],
)
def test_filters(docs: Any, filter: dict[str, Any], expected: set[str]) -> None:
    assert set(keys(docs.search(("docs",), filter=filter, limit=100))) == expected


# ---------------------------------------------------------------------------------------------
# Batches


def test_batch_reads_before_writes_and_last_put_wins(store: Any) -> None:
    store.put(("a",), "d1", {"v": 1})
    results = store.batch(
        [
            GetOp(("a",), "d1"),
            PutOp(("a",), "d2", {"v": 2}),
            GetOp(("a",), "d2"),
            PutOp(("a",), "d2", {"v": 3}),
            SearchOp(("a",)),
            ListNamespacesOp(),
            PutOp(("a",), "d1", None),
        ]
    )
    assert results[0].value == {"v": 1}
    assert results[1] is None
    assert results[2] is None  # the put in the same batch is applied after its reads
    assert keys(results[4]) == ["d1"]
    assert results[5] == [("a",)]
    assert results[6] is None
    assert store.get(("a",), "d2").value == {"v": 3}
    assert store.get(("a",), "d1") is None


def test_batch_put_then_delete_same_key(store: Any) -> None:
    store.batch([PutOp(("a",), "k", {"v": 1}), PutOp(("a",), "k", None)])
    assert store.get(("a",), "k") is None
    assert store.list_namespaces() == []


# ---------------------------------------------------------------------------------------------
# list_namespaces (CONTRACT 5.4, without LangGraph's leftover-namespace quirk)


def test_list_namespaces(store: Any) -> None:
    store.put(("docs",), "k", {})
    store.put(("users", "a"), "k", {})
    store.put(("users", "b"), "k", {})
    store.put(("users", "a", "notes"), "k", {})
    assert store.list_namespaces() == [
        ("docs",),
        ("users", "a"),
        ("users", "a", "notes"),
        ("users", "b"),
    ]
    assert store.list_namespaces(max_depth=1) == [("docs",), ("users",)]
    assert store.list_namespaces(prefix=("*", "a")) == [("users", "a"), ("users", "a", "notes")]
    assert store.list_namespaces(suffix=("a",)) == [("users", "a")]
    assert store.list_namespaces(prefix=("users",), suffix=("notes",)) == [("users", "a", "notes")]
    assert store.list_namespaces(prefix=("users",), max_depth=2) == [
        ("users", "a"),
        ("users", "b"),
    ]
    assert store.list_namespaces(limit=2, offset=1) == [("users", "a"), ("users", "a", "notes")]
    assert store.list_namespaces(prefix=("users", "a", "notes", "x")) == []
    assert store.batch(
        [ListNamespacesOp((MatchCondition("suffix", ("*",)),), max_depth=None, limit=1)]
    ) == [[("docs",)]]


def test_list_namespaces_only_holding_items(store: Any) -> None:
    store.put(("a",), "k", {})
    store.get(("ghost",), "k")
    store.delete(("ghost2",), "k")
    store.delete(("a",), "k")
    store.put(("b",), "k", {})
    assert store.list_namespaces() == [("b",)]


# ---------------------------------------------------------------------------------------------
# TTL


def test_ttl_supported(make_store: MakeStore) -> None:
    store = make_store(ttl={"default_ttl": 60, "refresh_on_read": True})
    assert store.supports_ttl
    store.put(("a",), "short", {"v": 1}, ttl=0.0005)  # 30 ms
    store.put(("a",), "default", {"v": 2})  # 60 minutes from the config
    store.put(("a",), "forever", {"v": 3}, ttl=None)
    time.sleep(0.1)
    assert store.sweep_ttl() == 1
    assert store.get(("a",), "short") is None
    assert {i.key for i in store.search(("a",))} == {"default", "forever"}
    assert store.sweep_ttl() == 0


def test_ttl_refresh_on_read(make_store: MakeStore) -> None:
    ttl_s = 0.6
    for attempt in range(4):  # a run stalled past the margins proves nothing: try again
        store = make_store(ttl={"refresh_on_read": True})
        ns = ("a", str(attempt))
        store.put(ns, "k", {"v": 1}, ttl=ttl_s / 60)
        store.put(ns, "unread", {"v": 1}, ttl=ttl_s / 60)
        put_done = time.monotonic()
        time.sleep(0.35)
        read_at = time.monotonic()
        assert store.get(ns, "k") is not None  # pushes expiry ttl_s past now
        time.sleep(max(0.0, put_done + ttl_s + 0.05 - time.monotonic()))
        swept = store.sweep_ttl()  # "unread" has expired; "k" has not, thanks to the read
        unread = store.get(ns, "unread")
        k = store.get(ns, "k", refresh_ttl=False)
        if time.monotonic() < read_at + ttl_s:  # the checks ran inside the margins
            assert (swept, unread) == (1, None)
            assert k is not None
            return
        store.delete(ns, "k")  # leave nothing that a later attempt's sweep would count
        store.delete(ns, "unread")
    pytest.fail("the machine stalled past the TTL margins in every attempt")


def test_ttl_sweeper_starts_and_stops(make_store: MakeStore) -> None:
    store = make_store(ttl={"default_ttl": 1, "sweep_interval_minutes": 1})
    future = store.start_ttl_sweeper()
    assert not future.done()
    assert store.stop_ttl_sweeper(timeout=5)
    future.result(timeout=5)
    no_config = make_store()
    assert no_config.start_ttl_sweeper().done()


@pytest.mark.parametrize("ttl", [-1, 0, 0.0, float("nan"), float("inf"), "5", True])
def test_bad_ttl(store: Any, ttl: Any) -> None:
    # 0 or less would write an item already expired (LangGraph's SqliteStore accepts ttl=0)
    with pytest.raises(ValueError, match="ttl must be a positive, finite number") as raised:
        store.put(("a",), "k", {}, ttl=ttl)
    assert repr(ttl) in str(raised.value) and "Use None" in str(raised.value)
    assert store.get(("a",), "k") is None


# ---------------------------------------------------------------------------------------------
# Semantic search with deterministic fake embeddings


MEMORIES = {
    "name": "User name is Bob",
    "food": "User likes pizza and pasta",
    "pet": "User has a cat called Tom",
    "job": "User works as a carpenter",
}


def test_search_by_meaning(make_store: MakeStore) -> None:
    store = indexed(make_store, fields=["text"])
    for key, text in MEMORIES.items():
        store.put(("memories", "1"), key, {"text": text})
    found = store.search(("memories", "1"), query="what is my name?")
    assert found[0].key == "name"
    assert all(isinstance(i.score, float) for i in found)
    assert [i.score for i in found] == sorted((i.score for i in found), reverse=True)
    assert store.search(("memories", "1"), query="which pizza does the user like?")[0].key == "food"
    assert keys(store.search(("memories", "1"), query="cat", limit=1)) == ["pet"]
    page = store.search(("memories", "1"), query="what is my name?", limit=2, offset=1)
    assert keys(page) == keys(found)[1:3]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_pages_of_a_search_with_tied_scores_neither_repeat_nor_skip(
    make_store: MakeStore, size: int
) -> None:
    store = indexed(make_store, fields=["text"])
    texts = ["same text", "other", "same text", "x", "same text", "same text", "other"] * 2
    for i, text in enumerate(texts):  # equal texts: equal vectors, equal scores
        store.put(("a", str(i % 2)), f"k{i:02d}", {"text": text})
    everything = keys(store.search(("a",), query="same text", limit=100))
    paged: list[str] = []
    for offset in range(0, len(texts) + size, size):
        paged += keys(store.search(("a",), query="same text", limit=size, offset=offset))
    assert sorted(everything) == [f"k{i:02d}" for i in range(len(texts))]
    assert paged == everything


def test_search_query_with_filter_and_prefix(make_store: MakeStore) -> None:
    store = indexed(make_store, fields=["text"])
    store.put(("memories", "1"), "a", {"text": "User name is Bob", "kind": "fact"})
    store.put(("memories", "1"), "b", {"text": "User name was Robert", "kind": "old"})
    store.put(("memories", "10"), "c", {"text": "User name is Bob", "kind": "fact"})
    found = store.search(("memories", "1"), query="name", filter={"kind": "old"})
    assert keys(found) == ["b"]
    found = store.search(("memories",), query="User name is Bob", filter={"kind": "fact"})
    assert sorted((i.namespace[1], i.key) for i in found) == [("1", "a"), ("10", "c")]
    assert found[0].score == pytest.approx(1.0, abs=1e-5)


def test_reput_replaces_vectors_and_delete_removes_them(make_store: MakeStore) -> None:
    store = indexed(make_store, fields=["text"])
    store.put(("m",), "k", {"text": "User likes pizza"})
    store.put(("m",), "other", {"text": "User works as a carpenter"})
    assert store.search(("m",), query="pizza")[0].key == "k"
    store.put(("m",), "k", {"text": "User has a cat"})
    assert store.search(("m",), query="carpenter")[0].key == "other"
    assert store.search(("m",), query="cat")[0].key == "k"
    store.delete(("m",), "k")
    assert keys(store.search(("m",), query="cat")) == ["other"]


def test_several_vectors_best_wins(make_store: MakeStore) -> None:
    store = indexed(make_store, fields=["title", "notes[*]"])
    store.put(("m",), "multi", {"title": "shopping", "notes": ["buy milk", "call the plumber"]})
    store.put(("m",), "single", {"title": "plumber appointment tomorrow"})
    store.put(("m",), "other", {"title": "holiday in Spain"})
    found = store.search(("m",), query="call the plumber")
    assert found[0].key == "multi"
    assert found[0].score == pytest.approx(1.0, abs=1e-5)
    assert keys(found).count("multi") == 1


def test_per_put_index_paths(make_store: MakeStore) -> None:
    store = indexed(make_store, fields=["text"])
    store.put(("m",), "by-title", {"text": "nothing useful", "title": "pizza recipe"}, ["title"])
    store.put(("m",), "by-text", {"text": "weather report", "title": "pizza"})
    assert store.search(("m",), query="pizza recipe")[0].key == "by-title"


def test_documents_embedded_in_one_call_and_query_once(make_store: MakeStore) -> None:
    embeddings = FakeEmbeddings(DIMS)
    store = make_store(index={"dims": DIMS, "embed": embeddings, "fields": ["text", "more"]})
    store.batch(
        [PutOp(("m",), f"k{i}", {"text": f"memory {i}", "more": "x"}) for i in range(20)]
        + [PutOp(("m",), "skip", {"text": "not embedded"}, index=False)]
    )
    assert len(embeddings.document_calls) == 1
    assert len(embeddings.document_calls[0]) == 40
    store.search(("m",), query="memory 3")
    assert embeddings.query_calls == ["memory 3"]
    store.search(("m",))  # no query: nothing embedded
    assert embeddings.query_calls == ["memory 3"]


def test_query_without_index_is_plain_order(store: Any) -> None:
    store.put(("m",), "a", {"text": "x"})
    store.put(("m",), "b", {"text": "y"})
    found = store.search(("m",), query="x")
    assert keys(found) == ["b", "a"]
    assert all(i.score is None for i in found)


def test_embed_plain_function(make_store: MakeStore) -> None:
    store = make_store(index={"dims": DIMS, "embed": embed_texts})
    store.put(("m",), "k", {"text": "User name is Bob"})
    store.put(("m",), "j", {"text": "weather"})
    assert store.search(("m",), query="User name is Bob")[0].key == "k"


# ---------------------------------------------------------------------------------------------
# The store parts of the cross-thread memory guides (seeds 001, 003, 004)


def test_cross_thread_memory_guides(make_store: MakeStore) -> None:
    store = indexed(make_store)  # as in the guides: index on the whole value ("$")
    # thread 1, user 1: "Hi! Remember: my name is Bob" -> the node stores a memory
    ns_user1 = ("memories", "1")
    assert store.search(ns_user1, query="Hi! Remember: my name is Bob") == []
    store.put(ns_user1, "3f0c6d8e-uuid", {"data": "User name is Bob"})
    store.put(("memories", "10"), "x", {"data": "User name is Alice"})  # a neighbour's label
    # thread 2, user 1: "what is my name?" finds the memory first
    found = store.search(ns_user1, query="what is my name?")
    assert [i.value["data"] for i in found] == ["User name is Bob"]
    info = "\n".join(d.value["data"] for d in found)
    assert "Bob" in info
    # inspecting the store as the guides do
    assert [m.value for m in store.search(ns_user1)] == [{"data": "User name is Bob"}]
    # thread 3, user 2: nothing about user 1, by exact namespace or by prefix
    assert store.search(("memories", "2"), query="what is my name?") == []
    assert store.search(("memories", "2")) == []
    assert all(i.namespace[1] != "1" for i in store.search(("memories", "10"), query="name"))
    everyone = store.search(("memories",), query="what is my name?")
    assert {i.namespace for i in everyone} == {("memories", "1"), ("memories", "10")}


@pytest.mark.parametrize(
    ("ttl", "bad"),
    [
        ({"default_ttl": 0}, "0"),
        ({"default_ttl": -5}, "-5"),
        ({"default_ttl": "60"}, "'60'"),
        ({"default_ttl": float("nan")}, "nan"),
        ({"default_ttl": True}, "True"),
        ({"sweep_interval_minutes": -1}, "-1"),
    ],
)
def test_bad_ttl_config_is_refused_when_the_store_is_made(
    make_store: MakeStore, ttl: dict[str, Any], bad: str
) -> None:
    # not at the first put that uses it (which may come long after deployment)
    (name,) = ttl
    with pytest.raises(ValueError, match=f"{name} must be a positive, finite number") as raised:
        make_store(ttl=ttl)
    message = str(raised.value)
    assert f"got {bad}." in message and f"{{{name!r}: 60}}" in message
    with pytest.raises(TypeError, match=r"ttl=\.\.\.\) must be a TTLConfig dict.*got 60"):
        make_store(ttl=60)


async def test_a_batch_may_write_under_the_langgraph_root(store: Any) -> None:
    # LangGraph 1.2.22: only put() reserves the root label "langgraph"; a PutOp given to
    # batch/abatch is stored (it was refused here).
    doc = {"foo": "bar"}
    store.batch([PutOp(("langgraph", "foo"), "bar", doc)])
    assert store.get(("langgraph", "foo"), "bar").value == doc
    await store.abatch([PutOp(("langgraph", "a"), "k", doc)])
    assert (await store.aget(("langgraph", "a"), "k")).value == doc
    with pytest.raises(InvalidNamespaceError, match="langgraph"):
        store.put(("langgraph", "foo"), "bar", doc)
