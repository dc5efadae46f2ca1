"""A graph whose whole state is one value (``StateGraph(Annotated[str, operator.add])``): a node
that writes it several times in one step (a list of ``Command``s) shows all its updates in the
``updates`` stream, as a list, as LangGraph does; one write shows as the bare value."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from threadloom.graph import START, StateGraph
from threadloom.types import Command


def two_updates(state: str) -> list[Command[Any]]:
    return [Command(update="a1"), Command(update="a2")]


def one_update(state: str) -> str:
    return "b"


def test_several_writes_to_the_root_value_stream_as_a_list() -> None:
    graph = (
        StateGraph(Annotated[str, operator.add])
        .add_sequence([two_updates, one_update])
        .add_edge(START, "two_updates")
        .compile()
    )
    assert graph.invoke("") == "a1a2b"
    assert list(graph.stream("", stream_mode="updates")) == [
        {"two_updates": ["a1", "a2"]},
        {"one_update": "b"},
    ]
