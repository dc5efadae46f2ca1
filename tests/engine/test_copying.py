"""``copy_value``: the deep copy of the input a run holds to save with its first step (and of
the in-memory store's values): JSON-like values copied without ``deepcopy``, the rest by it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from threadloom._copying import copy_value


def test_dicts_and_lists_are_copied_all_through() -> None:
    value: dict[str, Any] = {"messages": [("user", "hi"), {"role": "ai", "tags": ["a"]}], "n": 1}
    copied = copy_value(value)
    assert copied == value
    copied["messages"][1]["tags"].append("b")
    copied["messages"].append("more")
    assert value == {"messages": [("user", "hi"), {"role": "ai", "tags": ["a"]}], "n": 1}


def test_an_immutable_tuple_is_itself_and_one_holding_a_list_is_copied() -> None:
    flat = ("user", "hi", 1, None)
    assert copy_value(flat) is flat
    nested = ("user", ["hi"])
    copied = copy_value(nested)
    assert copied == nested and copied[1] is not nested[1]


def test_other_objects_are_deep_copied() -> None:
    message = HumanMessage("hi", id="1", additional_kwargs={"k": [1]})
    copied = copy_value([message])[0]
    assert copied == message and copied is not message
    copied.additional_kwargs["k"].append(2)
    assert message.additional_kwargs == {"k": [1]}


def test_what_deepcopy_refuses_raises() -> None:
    with pytest.raises(TypeError):
        copy_value({"lock": [threading.Lock()]})
