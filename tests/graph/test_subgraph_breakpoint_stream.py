"""A subgraph that stops at one of its breakpoints (``interrupt_before``/``interrupt_after``)
pauses its parent's task without an interrupt value. As in LangGraph, the parent's ``values``
stream then shows no ``__interrupt__`` chunk (there is nothing to answer), while ``updates``
shows ``{"__interrupt__": ()}``; an ``interrupt()`` inside the subgraph still shows both."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import interrupt


class Story(TypedDict):
    text: Annotated[str, operator.add]


def parent(*, breakpoint: bool) -> Any:
    inner = StateGraph(Story)
    if breakpoint:
        inner.add_node("draft", lambda s: {"text": "draft"})
    else:
        inner.add_node("draft", lambda s: {"text": interrupt("title?")})
    inner.add_node("polish", lambda s: {"text": "+polish"})
    inner.add_edge(START, "draft")
    inner.add_edge("draft", "polish")
    outer = StateGraph(Story)
    outer.add_node("inner", inner.compile(interrupt_before=["polish"] if breakpoint else None))
    outer.add_node("side", lambda s: {"text": "+side"})
    outer.add_edge(START, "inner")
    outer.add_edge(START, "side")
    return outer.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("mode", ["values", ["values"]])
def test_a_subgraph_breakpoint_adds_no_values_chunk(mode: Any) -> None:
    graph = parent(breakpoint=True)
    config: Any = {"configurable": {"thread_id": "1"}}
    chunks = list(graph.stream({"text": ""}, config, stream_mode=mode))
    if isinstance(mode, list):
        assert {m for m, _ in chunks} == {"values"}
        chunks = [c for _, c in chunks]
    assert chunks == [{"text": ""}, {"text": "+side"}]
    assert graph.get_state(config).next == ("inner",)
    resumed = list(graph.stream(None, config, stream_mode="values"))
    assert resumed[-1] == {"text": "draft+polish+side"}


async def test_a_subgraph_breakpoint_shows_in_updates_only() -> None:
    graph = parent(breakpoint=True)
    config: Any = {"configurable": {"thread_id": "1"}}
    chunks = [c async for c in graph.astream({"text": ""}, config, stream_mode="updates")]
    assert chunks == [{"side": {"text": "+side"}}, {"__interrupt__": ()}]


def test_an_interrupt_in_a_subgraph_still_shows_in_values() -> None:
    graph = parent(breakpoint=False)
    config: Any = {"configurable": {"thread_id": "1"}}
    chunks = list(graph.stream({"text": ""}, config, stream_mode="values"))
    assert len(chunks) == 3
    assert chunks[1]["text"] == "" and [i.value for i in chunks[1]["__interrupt__"]] == ["title?"]
    assert chunks[2] == {"text": "+side"}
