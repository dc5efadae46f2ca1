"""``interrupt_before`` / ``interrupt_after`` compiled into a subgraph stop its parent, as in
LangGraph: the parent's task pauses (``next == ("sub",)``, no interrupt values), the empty
``__interrupt__`` update is streamed at the parent's namespace (not the subgraph's), and
``invoke(None, config)`` continues inside the subgraph. Expected values observed on LangGraph
1.2.22 running the same graphs."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph


class State(TypedDict):
    items: Annotated[list[str], operator.add]


def adds(name: str) -> Any:
    return lambda state: {"items": [name]}


def parent_of(breakpoint: dict[str, Any]) -> Any:
    sub = StateGraph(State).add_node("s1", adds("s1")).add_node("s2", adds("s2"))
    subgraph = sub.add_edge(START, "s1").add_edge("s1", "s2").compile(**breakpoint)
    parent = StateGraph(State).add_node("p", adds("p")).add_node("sub", subgraph)
    parent.add_node("q", adds("q")).add_edge(START, "p").add_edge("p", "sub").add_edge("sub", "q")
    return parent.compile(checkpointer=InMemorySaver())


BREAKPOINTS = [{"interrupt_before": ["s2"]}, {"interrupt_after": ["s1"]}]


def _short(chunk: Any) -> Any:
    namespace, update = chunk
    return tuple(part.split(":")[0] for part in namespace), update


@pytest.mark.parametrize("breakpoint", BREAKPOINTS)
def test_a_subgraph_breakpoint_stops_the_parent(breakpoint: dict[str, Any]) -> None:
    graph, cfg = parent_of(breakpoint), {"configurable": {"thread_id": "t"}}
    chunks = [_short(c) for c in graph.stream({"items": []}, cfg, subgraphs=True)]
    assert chunks == [
        ((), {"p": {"items": ["p"]}}),
        (("sub",), {"s1": {"items": ["s1"]}}),
        ((), {"__interrupt__": ()}),
    ]
    state = graph.get_state(cfg, subgraphs=True)
    assert state.next == ("sub",) and state.interrupts == ()
    assert state.tasks[0].state.next == ("s2",)

    resumed = [_short(c) for c in graph.stream(None, cfg, subgraphs=True)]
    assert resumed == [
        (("sub",), {"s2": {"items": ["s2"]}}),
        ((), {"sub": {"items": ["p", "s1", "s2"]}}),
        ((), {"q": {"items": ["q"]}}),
    ]
    assert graph.get_state(cfg).values == {"items": ["p", "p", "s1", "s2", "q"]}


@pytest.mark.parametrize("breakpoint", BREAKPOINTS)
def test_invoke_returns_the_parent_state_without_interrupt_values(
    breakpoint: dict[str, Any],
) -> None:
    graph, cfg = parent_of(breakpoint), {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"items": []}, cfg) == {"items": ["p"]}
    assert graph.invoke(None, cfg) == {"items": ["p", "p", "s1", "s2", "q"]}


async def test_a_subgraph_breakpoint_stops_the_parent_async() -> None:
    graph, cfg = parent_of(BREAKPOINTS[0]), {"configurable": {"thread_id": "t"}}
    assert await graph.ainvoke({"items": []}, cfg) == {"items": ["p"]}
    assert (await graph.aget_state(cfg)).next == ("sub",)
    assert await graph.ainvoke(None, cfg) == {"items": ["p", "p", "s1", "s2", "q"]}
