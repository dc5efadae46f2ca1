"""The filter language: the tree it parses to (which SQL backends compile) and its evaluation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadloom.errors import StoreFilterError
from threadloom.store._filters import (
    MISSING,
    And,
    Compare,
    Exists,
    In,
    Not,
    Or,
    evaluate,
    json_equal,
    parse_filter,
    resolve_path,
)


@pytest.mark.parametrize(
    ("filter", "tree"),
    [
        (None, And(())),
        ({}, And(())),
        ({"a": 1}, Compare(("a",), "eq", 1)),
        ({"a.b": "x"}, Compare(("a", "b"), "eq", "x")),
        ({"a": {"b": {"c": None}}}, Compare(("a", "b", "c"), "eq", None)),
        (
            {"a": {"b": 1, "c": 2}},
            And((Compare(("a", "b"), "eq", 1), Compare(("a", "c"), "eq", 2))),
        ),
        ({"a": [1, {"b": 2}]}, Compare(("a",), "eq", [1, {"b": 2}])),
        ({"a": {"$eq": {"b": 1}}}, Compare(("a",), "eq", {"b": 1})),
        ({"a": {"$ne": 1}}, Not(Compare(("a",), "eq", 1))),
        ({"a": {"$gt": 1.5}}, Compare(("a",), "gt", 1.5)),
        ({"a": {"$gte": "m"}}, Compare(("a",), "gte", "m")),
        ({"a": {"$in": [1, "x"]}}, In(("a",), (1, "x"))),
        ({"a": {"$nin": (None,)}}, Not(In(("a",), (None,)))),
        ({"a": {"$exists": True}}, Exists(("a",))),
        ({"a": {"$exists": False}}, Not(Exists(("a",)))),
        ({"a": {"$not": {"$lt": 0}}}, Not(Compare(("a",), "lt", 0))),
        ({"a": {"$gt": 1, "$lt": 5}}, And((Compare(("a",), "gt", 1), Compare(("a",), "lt", 5)))),
        ({"$or": [{"a": 1}, {"b": 2}]}, Or((Compare(("a",), "eq", 1), Compare(("b",), "eq", 2)))),
        ({"$and": [{"a": 1}]}, And((Compare(("a",), "eq", 1),))),
        ({"$not": {"a": 1}}, Not(Compare(("a",), "eq", 1))),
        ({"a": {}}, And(())),
        ({"a-b_1.C2": 1}, Compare(("a-b_1", "C2"), "eq", 1)),
    ],
)
def test_parse_tree(filter: Any, tree: Any) -> None:
    assert parse_filter(filter) == tree


@pytest.mark.parametrize(
    ("filter", "message"),
    [
        ([("a", 1)], "must be a dict"),
        ({"a": {"$regex": "x"}}, "Unsupported operator: '$regex' on field 'a'"),
        ({"$nor": []}, "Unsupported operator: '$nor'"),
        ({"a": {"$gt": None}}, "needs a number or a string"),
        ({"a": {"$gt": True}}, "needs a number or a string"),
        ({"a": {"$lt": [1]}}, "needs a number or a string"),
        ({"a": {"$in": 3}}, "needs a list"),
        ({"a": {"$exists": 1}}, "needs True or False"),
        ({"a": {"$not": 3}}, "takes an operator dict"),
        ({"$or": []}, "non-empty list"),
        ({"$or": {"a": 1}}, "non-empty list"),
        ({"$and": [1]}, "must be a filter dict"),
        ({"$not": [1]}, "takes one filter dict"),
        ({"a": {"$gt": 1, "b": 2}}, "mixes operators with plain keys"),
        ({"a..b": 1}, "Invalid filter key 'a..b'"),  # LangGraph's words for a bad key
        ({"a b": 1}, "Invalid filter key"),
        ({"a[0]": 1}, "Invalid filter key"),
        ({"": 1}, "Invalid filter key"),
        ({"a": object()}, "use JSON values"),
        ({"a": float("nan")}, "compares with nan"),
        ({1: 1}, "must be strings"),
    ],
)
def test_parse_errors(filter: Any, message: str) -> None:
    with pytest.raises(StoreFilterError) as err:
        parse_filter(filter)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)


def test_resolve_path() -> None:
    value = {"a": {"b": [1, 2], "n": None}, "s": "x"}
    assert resolve_path(value, ("a", "b")) == [1, 2]
    assert resolve_path(value, ("a", "n")) is None
    assert resolve_path(value, ("a", "zz")) is MISSING
    assert resolve_path(value, ("s", "x")) is MISSING  # no fields inside a string
    assert resolve_path(value, ("a", "b", "0")) is MISSING  # no list indexes


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        (1, True, False),
        (False, False, True),
        ("1", 1, False),
        (None, None, True),
        (MISSING, None, True),
        (0, None, False),
        ([1, [2]], [1.0, [2]], True),
        ([1, 2], [2, 1], False),
        ({"a": 1}, {"a": 1}, True),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        ((1, 2), [1, 2], True),
    ],
)
def test_json_equal(actual: Any, expected: Any, equal: bool) -> None:
    assert json_equal(actual, expected) is equal


def test_typed_order_never_mixes_types() -> None:
    gt5 = parse_filter({"n": {"$gt": 5}})
    assert evaluate(gt5, {"n": 6})
    assert evaluate(gt5, {"n": 5.5})
    assert not evaluate(gt5, {"n": "6"})  # never a text comparison of numbers
    assert not evaluate(gt5, {"n": True})
    assert not evaluate(gt5, {"n": None})
    assert not evaluate(gt5, {})
    gt_str = parse_filter({"n": {"$gt": "b"}})
    assert evaluate(gt_str, {"n": "c"})
    assert not evaluate(gt_str, {"n": 100})
    assert evaluate(parse_filter({"n": {"$lt": "é"}}), {"n": "z"})  # by code point


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-5, 5) | st.sampled_from("abc"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abk"), inner),
    max_leaves=6,
)
VALUES = st.dictionaries(st.sampled_from(["k", "x"]), JSON, max_size=2)


@given(VALUES, JSON)
def test_negations_are_exact_complements(value: dict[str, Any], operand: Any) -> None:
    eq = evaluate(parse_filter({"k": {"$eq": operand}}), value)
    assert evaluate(parse_filter({"k": {"$ne": operand}}), value) is not eq
    inside = evaluate(parse_filter({"k": {"$in": [operand, "zz"]}}), value)
    assert evaluate(parse_filter({"k": {"$nin": [operand, "zz"]}}), value) is not inside
    exists = evaluate(parse_filter({"k": {"$exists": True}}), value)
    assert exists is ("k" in value)
    assert evaluate(parse_filter({"$not": {"k": {"$exists": True}}}), value) is not exists


@given(VALUES, st.integers(-5, 5) | st.sampled_from("abc"))
def test_order_ops_agree(value: dict[str, Any], bound: Any) -> None:
    def holds(op: str) -> bool:
        return evaluate(parse_filter({"k": {op: bound}}), value)

    actual = value.get("k")
    comparable = (
        isinstance(actual, str)
        if isinstance(bound, str)
        else isinstance(actual, int | float) and not isinstance(actual, bool)
    )
    assert holds("$gte") == (holds("$gt") or (comparable and actual == bound))
    if comparable:
        assert holds("$lt") is not holds("$gte")
    else:
        assert not any(holds(op) for op in ("$gt", "$gte", "$lt", "$lte"))
