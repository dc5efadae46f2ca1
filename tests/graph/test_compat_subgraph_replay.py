"""Subgraphs when the parent goes back in time (a replay of an old checkpoint, or running a fork
made by ``update_state``), as in LangGraph: the subgraph starts from its state before that point
(none: fresh), so its nodes run again and its interrupts fire again, at every nesting level, also
when ``checkpointer=True`` keeps its history across parent runs. Expected values observed on
LangGraph 1.2.22 running the same graphs."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict):
    items: Annotated[list[str], operator.add]


CFG: Any = {"configurable": {"thread_id": "t"}}


def node(name: str, calls: list[str], *, ask: bool = False) -> Any:
    def run(state: State) -> dict[str, Any]:
        calls.append(name)
        if ask:
            return {"items": [f"{name}:{interrupt(name + '?')}"]}
        return {"items": [name]}

    return run


def parent_with_sub(calls: list[str], checkpointer: Any, ask: bool) -> Any:
    sub = StateGraph(State).add_node("s1", node("s1", calls, ask=ask)).add_edge(START, "s1")
    parent = StateGraph(State).add_node("p", node("p", calls))
    parent.add_node("sub", sub.compile(checkpointer=checkpointer)).add_node("q", node("q", calls))
    parent.add_edge(START, "p").add_edge("p", "sub").add_edge("sub", "q")
    return parent.compile(checkpointer=InMemorySaver())


def before_sub(graph: Any) -> Any:
    return next(s for s in graph.get_state_history(CFG) if s.next == ("sub",))


@pytest.mark.parametrize("checkpointer", [True, None])
def test_replay_and_fork_run_the_subgraph_again(checkpointer: Any) -> None:
    calls: list[str] = []
    graph = parent_with_sub(calls, checkpointer, ask=False)
    assert graph.invoke({"items": []}, CFG) == {"items": ["p", "p", "s1", "q"]}
    start = before_sub(graph)
    calls.clear()
    assert graph.invoke(None, start.config) == {"items": ["p", "p", "s1", "q"]}
    assert calls == ["s1", "q"]
    calls.clear()
    fork = graph.update_state(start.config, {"items": ["forked"]})
    expected = ["p", "forked", "p", "forked", "s1", "q"]
    assert graph.invoke(None, fork) == {"items": expected}
    assert calls == ["s1", "q"]


def test_a_fork_of_the_replay_starts_the_subgraph_from_before_the_replay() -> None:
    calls: list[str] = []
    graph = parent_with_sub(calls, True, ask=False)
    graph.invoke({"items": []}, CFG)
    graph.invoke(None, before_sub(graph).config)
    replay = before_sub(graph)  # the replay's own "fork" checkpoint, the newest before "sub"
    assert replay.metadata["source"] == "fork"
    fork = graph.update_state(replay.config, {"items": ["forked"]})
    # the subgraph's state from the first run predates the replay: it goes on from there
    expected = ["p", "forked", "p", "s1", "p", "forked", "s1", "q"]
    assert graph.invoke(None, fork) == {"items": expected}


@pytest.mark.parametrize("checkpointer", [True, None])
def test_replay_from_before_a_subgraph_fires_its_interrupt_again(checkpointer: Any) -> None:
    calls: list[str] = []
    graph = parent_with_sub(calls, checkpointer, ask=True)
    graph.invoke({"items": []}, CFG)
    assert graph.invoke(Command(resume="A"), CFG) == {"items": ["p", "p", "s1:A", "q"]}
    calls.clear()
    replayed = graph.invoke(None, before_sub(graph).config)
    assert replayed["items"] == ["p"] and replayed["__interrupt__"][0].value == "s1?"
    assert graph.invoke(Command(resume="B"), CFG) == {"items": ["p", "p", "s1:B", "q"]}
    assert calls == ["s1", "s1", "q"]


async def test_running_a_fork_fires_the_subgraph_interrupt_again_async() -> None:
    calls: list[str] = []
    graph = parent_with_sub(calls, True, ask=True)
    await graph.ainvoke({"items": []}, CFG)
    await graph.ainvoke(Command(resume="A"), CFG)
    calls.clear()
    fork = await graph.aupdate_state(before_sub(graph).config, {"items": ["forked"]})
    forked = await graph.ainvoke(None, fork)
    assert forked["items"] == ["p", "forked"] and "__interrupt__" in forked
    done = await graph.ainvoke(Command(resume="C"), CFG)
    assert done == {"items": ["p", "forked", "p", "forked", "s1:C", "q"]}
    assert calls == ["s1", "s1", "q"]


@pytest.mark.parametrize("checkpointer", [True, None])
def test_nested_levels_run_again_on_replay(checkpointer: Any) -> None:
    calls: list[str] = []
    inner = StateGraph(State).add_node("i1", node("i1", calls, ask=True)).add_edge(START, "i1")
    mid = StateGraph(State).add_node("m1", node("m1", calls))
    mid.add_node("inner", inner.compile(checkpointer=checkpointer))
    mid.add_edge(START, "m1").add_edge("m1", "inner")
    top = StateGraph(State).add_node("p", node("p", calls))
    top.add_node("mid", mid.compile(checkpointer=checkpointer))
    graph = top.add_edge(START, "p").add_edge("p", "mid").compile(checkpointer=InMemorySaver())
    for first, answer in (("a", "1"), ("b", "2")):  # two parent runs: the subgraphs keep state
        graph.invoke({"items": [first]}, CFG)
        graph.invoke(Command(resume=answer), CFG)
    starts = [s for s in graph.get_state_history(CFG) if s.next == ("mid",)]
    assert len(starts) == 2

    calls.clear()
    latest = graph.invoke(None, starts[0].config)
    assert latest["items"][-2:] == ["b", "p"] and "__interrupt__" in latest
    assert calls == ["m1", "i1"]
    assert graph.invoke(Command(resume="R"), CFG)["items"][-3:] == ["b", "p", "m1", "i1:R"][-3:]

    calls.clear()
    earliest = graph.invoke(None, starts[-1].config)
    assert earliest["items"] == ["a", "p"] and "__interrupt__" in earliest
    assert graph.invoke(Command(resume="S"), CFG) == {
        "items": ["a", "p", "a", "p", "m1", "a", "p", "m1", "i1:S"]
    }
    assert calls == ["m1", "i1", "i1"]
