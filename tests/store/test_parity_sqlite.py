"""Property: InMemoryStore and SqliteStore answer every random filter and search identically.

Hypothesis writes random JSON documents into random namespaces (puts, re-puts, deletes, puts
without vectors), then asks both stores the same random questions: filters drawn from the whole
language of DECISIONS 9 (equality, deep dict equality, $eq $ne $gt $gte $lt $lte $in $nin
(with dicts and lists too) $exists, $and $or $not nested, dotted paths; any keys inside values),
namespace prefixes, offsets and limits, and queries for the deterministic fake embedder. Results
must be equal, order included.

The one allowed difference: items whose scores tie (same text, same vector, or no text at an
indexed path) are unordered in both stores, so with a query the check is that both pages have
the same score sequence and every item has the score memory gives it (up to float32 rounding).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fake_embed import embed_texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threadloom.store.base import PutOp, SearchItem
from threadloom.store.memory import InMemoryStore
from threadloom.store.sqlite import SqliteStore

DIMS = 32
LABELS = ["a", "b", "ab", "1", "10"]
KEYS = [f"k{i}" for i in range(6)]
FIELDS = ["n", "s", "flag", "tags", "meta"]
WORDS = ["pizza", "cats", "name", "bob", "weather", "sunny", "hiking", "nurse"]


def _embed(texts: list[str]) -> list[list[float]]:
    return embed_texts(texts, DIMS)


INDEX = {"dims": DIMS, "embed": _embed, "fields": ["text"]}

# -- documents ----------------------------------------------------------------------------

# Strings without NUL or surrogates (SQLite's JSON functions stop at NUL; see docs).
# Mostly a small pool, so equal and ordered values meet often; sometimes anything.
SMALL_TEXTS = ["", "a", "b", "ab", "B", "é", "z", "10", "9", "true", "1"]
SMALL_NUMBERS = [0, 1, -1, 0.5, 1.0, 2, 10, 2.5, -0.0]
texts = st.one_of(
    st.sampled_from(SMALL_TEXTS),
    st.sampled_from(SMALL_TEXTS),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=4),
)
numbers = st.one_of(
    st.sampled_from(SMALL_NUMBERS),
    st.sampled_from(SMALL_NUMBERS),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
# Keys inside values may be anything JSON allows (whole-value equality must not trip on them).
VALUE_KEYS = ["x", "y", "z", "x", "y", "", "a b", "é", '"', "x.y", "$", "[0]"]
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(VALUE_KEYS), inner, max_size=3),
    ),
    max_leaves=6,
)
documents = st.fixed_dictionaries(
    {"text": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)},
    optional={
        "n": st.one_of(numbers, scalars),  # any field may hold any type: typed rules matter
        "s": st.one_of(texts, scalars),
        "flag": scalars,
        "tags": st.lists(scalars, max_size=3),
        "meta": st.dictionaries(st.sampled_from(["x", "y", "z"]), json_values, max_size=3),
        "nothing": st.none(),
    },
)
namespaces = st.lists(st.sampled_from(LABELS), min_size=1, max_size=3).map(tuple)
puts = st.builds(
    PutOp,
    namespace=namespaces,
    key=st.sampled_from(KEYS),
    value=st.one_of(documents, documents, documents, st.none()),  # some deletes
    index=st.sampled_from([None, None, False, ["text"], ["tags[*]"], ["meta"]]),
    ttl=st.none(),
)

# -- filters ------------------------------------------------------------------------------

paths = st.sampled_from([*FIELDS, "meta.x", "meta.y", "meta.x.z", "text", "nothing", "absent"])
ordered = st.one_of(numbers, texts)
operator_dicts = st.one_of(
    st.builds(lambda v: {"$eq": v}, json_values),
    st.builds(lambda v: {"$ne": v}, json_values),
    st.builds(lambda op, v: {op: v}, st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ordered),
    st.builds(lambda lo, hi: {"$gte": lo, "$lt": hi}, numbers, numbers),
    st.builds(lambda vs: {"$in": vs}, st.lists(st.one_of(scalars, json_values), max_size=4)),
    st.builds(lambda vs: {"$nin": vs}, st.lists(st.one_of(scalars, json_values), max_size=4)),
    st.builds(lambda b: {"$exists": b}, st.booleans()),
)
field_conditions = st.one_of(
    scalars,  # plain equality
    st.dictionaries(st.sampled_from(["x", "y"]), scalars, min_size=1, max_size=2),  # deep, partial
    st.lists(scalars, max_size=2),
    operator_dicts,
    operator_dicts.map(lambda ops: {"$not": ops}),
)
field_filters = st.dictionaries(paths, field_conditions, min_size=1, max_size=2)
filters = st.recursive(
    field_filters,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda fs: {"$and": fs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda fs: {"$or": fs}),
        inner.map(lambda f: {"$not": f}),
    ),
    max_leaves=6,
)

phrases = st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join)
searches = st.fixed_dictionaries(
    {
        "prefix": st.one_of(st.just(()), namespaces.map(lambda ns: ns[:1]), namespaces),
        "filter": st.one_of(st.none(), filters),
        "query": st.one_of(
            st.none(), st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join)
        ),
        "limit": st.sampled_from([1, 3, 10, 100]),
        "offset": st.sampled_from([0, 0, 1, 4]),
    }
)


# -- comparing ----------------------------------------------------------------------------


def _row(item: SearchItem) -> tuple[Any, ...]:
    return (item.namespace, item.key, repr(item.value))


def _close(a: float | None, b: float | None) -> bool:
    """Equal scores: both None, or equal up to float32 rounding (the products may differ in
    the last bits between a gathered and a whole-matrix product)."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-5


def assert_same_page(memory: InMemoryStore, got: list[SearchItem], q: dict[str, Any]) -> None:
    """``got`` is the page memory gives, up to the order of (nearly) tied scores."""
    kwargs = {k: q[k] for k in ("filter", "query", "limit", "offset")}
    expected = memory.search(q["prefix"], **kwargs)
    assert len(got) == len(expected), q
    assert all(_close(a.score, b.score) for a, b in zip(got, expected, strict=True)), q
    if not q["query"]:  # no scores: the order is fully determined
        assert [_row(i) for i in got] == [_row(i) for i in expected], q
        return
    # Every item on the page must be one memory finds, with the same score; unscored padding
    # (items without vectors, newest first) must match exactly.
    everything = memory.search(q["prefix"], filter=q["filter"], query=q["query"], limit=10_000)
    scores = {_row(i): i.score for i in everything}
    for item in got:
        assert _row(item) in scores and _close(scores[_row(item)], item.score), (q, item)
    assert [_row(i) for i in got if i.score is None] == [
        _row(i) for i in expected if i.score is None
    ], q


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    batches=st.lists(st.lists(puts, min_size=1, max_size=6), min_size=1, max_size=5),
    questions=st.lists(searches, min_size=1, max_size=6),
)
def test_memory_and_sqlite_answer_identically(
    batches: list[list[PutOp]], questions: list[dict[str, Any]]
) -> None:
    memory = InMemoryStore(index=INDEX)  # type: ignore[arg-type]
    with (
        tempfile.TemporaryDirectory() as folder,
        SqliteStore.from_conn_string(str(Path(folder) / "parity.db"), index=INDEX) as sqlite,  # type: ignore[arg-type]
    ):
        sqlite.setup()
        for batch in batches:
            memory.batch(batch)
            sqlite.batch(batch)
        assert sqlite.list_namespaces(limit=1000) == memory.list_namespaces(limit=1000)
        for ns in {op.namespace for batch in batches for op in batch}:
            for key in KEYS:
                m, s = memory.get(ns, key), sqlite.get(ns, key)
                assert (m is None) == (s is None)
                if m is not None and s is not None:
                    assert (m.namespace, m.key, m.value) == (s.namespace, s.key, s.value)
        for q in questions:
            kwargs = {k: q[k] for k in ("filter", "query", "limit", "offset")}
            assert_same_page(memory, sqlite.search(q["prefix"], **kwargs), q)


# -- every type against every operator ----------------------------------------------------

TYPED_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 0.5, 1.0, 2, 10, "", "1", "10", "a", "b", "é", "true",
    [], [1], [1, "a"], [True], [1.0], [[1]], {}, {"x": 1}, {"x": 1, "y": None}, {"x": True},
    {"x": {"y": 1}},
]  # fmt: skip
ODD_KEYED: list[Any] = [{"a b": 1}, {"": [1]}, {'"': {"x": 1}}, {"x.y": 1}, {"é": True}]
"""Keys no filter path can name: compared only as whole values ($eq $ne $in $nin)."""


def test_every_operator_on_every_type_pair(tmp_path: Path) -> None:
    """Each stored type against each operator and operand: both stores keep the same items."""
    memory = InMemoryStore()
    with SqliteStore.from_conn_string(str(tmp_path / "types.db")) as sqlite:
        sqlite.setup()
        stored = TYPED_VALUES + ODD_KEYED
        ops = [PutOp(("t",), str(i), {"v": v, "d": {"v": v}}) for i, v in enumerate(stored)]
        ops.append(PutOp(("t",), "missing", {"other": 1}))
        memory.batch(ops)
        sqlite.batch(ops)
        operands = [v for v in TYPED_VALUES if not isinstance(v, list | dict)]
        conditions: list[Any] = list(TYPED_VALUES)  # plain equality, deep for dicts
        for op in ("$eq", "$ne"):
            conditions += [{op: v} for v in stored]
        for op in ("$gt", "$gte", "$lt", "$lte"):
            conditions += [{op: v} for v in operands if v is not None and not isinstance(v, bool)]
        conditions += [{"$in": [v, "zz"]} for v in stored] + [{"$nin": [v]} for v in stored]
        conditions += [{"$exists": True}, {"$exists": False}, {"$not": {"$gt": 0}}]
        for condition in conditions:
            for path in ("v", "d.v"):
                query = {path: condition}
                expected = sorted(i.key for i in memory.search(("t",), filter=query, limit=100))
                got = sorted(i.key for i in sqlite.search(("t",), filter=query, limit=100))
                assert got == expected, query
