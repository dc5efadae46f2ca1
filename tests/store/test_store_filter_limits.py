"""Filters at the edges, on every backend: very wide, very deep, and typed (issue 7 defect 6).

SQLite refused wide filters ("Expression tree is too large", "parser stack overflow") that
InMemoryStore answered, and deep nesting raised RecursionError everywhere. Now every backend
answers the same wide filters and refuses the same too-deep ones with a StoreFilterError.
"""

from __future__ import annotations

from typing import Any

import pytest

from threadloom.errors import StoreFilterError
from threadloom.store._filters import (
    MAX_FILTER_CONDITIONS,
    MAX_FILTER_DEPTH,
    evaluate,
    parse_filter,
)


def keys(items: Any) -> set[str]:
    return {item.key for item in items}


def nested(depth: int, leaf: Any, wrap: Any) -> Any:
    for level in range(depth):
        leaf = wrap(leaf, level)
    return leaf


WIDE_DOCS: dict[str, dict[str, Any]] = {
    "n1500": {"n": 1500},
    "n1500.0": {"n": 1500.0},
    "n999": {"n": 999},
    "s1500": {"n": "1500"},
    "s7": {"n": "s7"},
    "true": {"n": True},
    "null": {"n": None},
    "missing": {"other": 1},
    "dict250": {"n": {"x": 250}},
    "dict250y": {"n": {"x": 250, "y": 1}},
    "list499": {"n": [499]},
    "f700": {"f700": 700},
    "f700s": {"f700": "700"},
}
IN_RANGE = {"n1500", "n1500.0"}
EVERYTHING = set(WIDE_DOCS)
NO_N = {key for key, doc in WIDE_DOCS.items() if "n" not in doc}  # a missing path equals None


@pytest.fixture
def wide_docs(store: Any) -> Any:
    for key, value in WIDE_DOCS.items():
        store.put(("w",), key, value)
    return store


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"n": {"$in": [*range(1000, 3000), "s7"]}}, IN_RANGE | {"s7"}),
        ({"n": {"$in": [*range(1000, 3000), True, None]}}, IN_RANGE | {"true", "null", *NO_N}),
        ({"n": {"$nin": list(range(1000, 3000))}}, EVERYTHING - IN_RANGE),
        ({"$or": [{"n": i} for i in range(1000, 3000)]}, IN_RANGE),
        ({"$and": [{"n": {"$ne": i}} for i in range(1000, 3000)]}, EVERYTHING - IN_RANGE),
        ({"$not": {"$or": [{"n": i} for i in range(1000, 3000)]}}, EVERYTHING - IN_RANGE),
        ({"$or": [{f"f{i}": i} for i in range(1200)]}, {"f700"}),  # 1200 different paths
        ({"$or": [{f"f{i}": {"$gte": i}} for i in range(1200)]}, {"f700"}),
        (
            {"n": {"$in": [{"x": i} for i in range(500)] + [[i] for i in range(500)]}},
            {"dict250", "list499"},
        ),
        ({"n": {"$in": list(range(20_000))}}, IN_RANGE | {"n999"}),
    ],
)
def test_wide_filters_are_answered(wide_docs: Any, filter: Any, expected: set[str]) -> None:
    assert keys(wide_docs.search(("w",), filter=filter, limit=100)) == expected


def test_nesting_up_to_the_limit_is_answered(wide_docs: Any) -> None:
    # MAX_FILTER_DEPTH - 1 negations around one dict: an odd count is the complement.
    odd = nested(MAX_FILTER_DEPTH - 1, {"n": 999}, lambda f, _: {"$not": f})
    assert keys(wide_docs.search(("w",), filter=odd, limit=100)) == EVERYTHING - {"n999"}
    even = nested(MAX_FILTER_DEPTH - 2, {"n": 999}, lambda f, _: {"$not": f})
    assert keys(wide_docs.search(("w",), filter=even, limit=100)) == {"n999"}
    # Alternating $and / $or lists as deep as allowed (a dict and a list per level), each with
    # a sibling, the deep branch first and last.
    levels = (MAX_FILTER_DEPTH - 1) // 2

    def wrap(inner: Any, level: int) -> Any:
        op, other = ("$or", {"n": -level}) if level % 2 else ("$and", {"n": {"$ne": -level}})
        return {op: [inner, other] if level % 3 else [other, inner]}

    deep = nested(levels, {"n": 999}, wrap)
    expected = {k for k, v in WIDE_DOCS.items() if evaluate(parse_filter(deep), v)}
    assert expected not in (set(), EVERYTHING)  # a filter that tells the documents apart
    assert keys(wide_docs.search(("w",), filter=deep, limit=100)) == expected
    value = nested(MAX_FILTER_DEPTH - 3, 250, lambda v, _: {"x": v})
    wide_docs.put(("w",), "deep", {"n": value})
    assert keys(wide_docs.search(("w",), filter={"n": {"$eq": value}}, limit=100)) == {"deep"}


@pytest.mark.parametrize(
    "filter",
    [
        nested(MAX_FILTER_DEPTH, {"n": 1}, lambda f, _: {"$not": f}),
        nested(100_000, {"n": 1}, lambda f, _: {"$not": f}),  # was RecursionError
        nested(MAX_FILTER_DEPTH, {"n": 1}, lambda f, i: {"$and" if i % 2 else "$or": [f]}),
        {"n": {"$eq": nested(MAX_FILTER_DEPTH, 1, lambda v, _: [v])}},
        {"n": {"$in": [nested(MAX_FILTER_DEPTH, 1, lambda v, _: {"x": v})]}},
        nested(MAX_FILTER_DEPTH + 1, 1, lambda v, _: {"x": v}),  # a deep partial match
    ],
    ids=["not", "not-100000", "and-or", "eq-list", "in-dict", "partial-dict"],
)
def test_too_deep_is_a_clear_error(store: Any, filter: Any) -> None:
    with pytest.raises(StoreFilterError) as err:
        store.search(("w",), filter=filter)
    assert f"deeper than {MAX_FILTER_DEPTH} levels" in str(err.value)
    assert "Flatten it" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_a_filter_that_contains_itself_is_refused(store: Any) -> None:
    loop: dict[str, Any] = {}
    loop["$not"] = loop
    with pytest.raises(StoreFilterError, match="deeper than"):
        store.search(("w",), filter=loop)


def test_too_many_conditions_is_a_clear_error(store: Any) -> None:
    filter = {"$or": [{f"f{i}": i} for i in range(MAX_FILTER_CONDITIONS + 1)]}
    with pytest.raises(StoreFilterError, match=f"the limit is {MAX_FILTER_CONDITIONS}"):
        store.search(("w",), filter=filter)


TYPED_DOCS: dict[str, dict[str, Any]] = {
    "true": {"v": True, "d": {"x": True}, "l": [True]},
    "one": {"v": 1, "d": {"x": 1}, "l": [1]},
    "one.0": {"v": 1.0, "d": {"x": 1.0}, "l": [1.0]},
    "false": {"v": False, "d": {"x": False}, "l": [False]},
    "zero": {"v": 0, "d": {"x": 0}, "l": [0]},
}


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"v": True}, {"true"}),
        ({"v": 1}, {"one", "one.0"}),
        ({"v": False}, {"false"}),
        ({"v": 0}, {"zero"}),
        ({"v": {"$in": [True]}}, {"true"}),
        ({"v": {"$in": [1]}}, {"one", "one.0"}),
        ({"v": {"$nin": [1]}}, {"true", "false", "zero"}),
        ({"v": {"$ne": True}}, {"one", "one.0", "false", "zero"}),
        ({"v": {"$gte": 1}}, {"one", "one.0"}),  # a boolean is not a number
        ({"v": {"$lt": 1}}, {"zero"}),
        ({"d": {"$eq": {"x": True}}}, {"true"}),
        ({"d": {"$eq": {"x": 1}}}, {"one", "one.0"}),
        ({"d": {"$in": [{"x": 1}]}}, {"one", "one.0"}),
        ({"l": [True]}, {"true"}),
        ({"l": [0]}, {"zero"}),
        ({"l": {"$in": [[1], [False]]}}, {"one", "one.0", "false"}),
    ],
)
def test_booleans_never_equal_numbers(store: Any, filter: Any, expected: set[str]) -> None:
    for key, value in TYPED_DOCS.items():
        store.put(("t",), key, value)
    assert keys(store.search(("t",), filter=filter, limit=100)) == expected
