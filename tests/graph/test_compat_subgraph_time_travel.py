"""Time travel into a subgraph, as in LangGraph: the config of a subgraph's state from
``get_state(config, subgraphs=True)`` carries a ``checkpoint_map`` (the checkpoint of every
enclosing graph and its own), and ``graph.invoke(None, that_config)`` on the root graph replays
inside the subgraph from that checkpoint; a resume then goes on from there. Expected values
observed on LangGraph 1.2.22 running the same graphs."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict):
    value: Annotated[list[str], operator.add]


CFG: Any = {"configurable": {"thread_id": "1"}}


def node(name: str, called: list[str], *, ask: bool = False) -> Any:
    def run(state: State) -> dict[str, Any]:
        called.append(name)
        if ask:
            return {"value": [f"{name}:{interrupt(name + '?')}"]}
        return {"value": [name]}

    return run


def two_levels(called: list[str], checkpointer: Any) -> Any:
    sub = StateGraph(State).add_node("step_a", node("step_a", called))
    sub.add_node("ask", node("ask", called, ask=True)).add_node("step_b", node("step_b", called))
    sub.add_edge(START, "step_a").add_edge("step_a", "ask").add_edge("ask", "step_b")
    parent = StateGraph(State).add_node("router", node("router", called))
    parent.add_node("sub", sub.compile(checkpointer=checkpointer))
    parent.add_node("post", node("post", called))
    parent.add_edge(START, "router").add_edge("router", "sub").add_edge("sub", "post")
    return parent.compile(checkpointer=InMemorySaver())


def test_a_subgraph_state_config_names_every_enclosing_checkpoint() -> None:
    graph = two_levels([], True)
    graph.invoke({"value": []}, CFG)
    state = graph.get_state(CFG, subgraphs=True)
    sub_config = state.tasks[0].state.config["configurable"]
    assert sub_config["checkpoint_ns"] == "sub"
    assert sub_config["checkpoint_map"] == {
        "": state.config["configurable"]["checkpoint_id"],
        "sub": sub_config["checkpoint_id"],
    }
    assert "checkpoint_map" not in state.config["configurable"]  # the root's has none


@pytest.mark.parametrize(("checkpointer", "rerun"), [(True, ["ask"]), (None, ["step_a", "ask"])])
def test_invoking_the_root_with_a_subgraph_config_replays_inside_it(
    checkpointer: Any, rerun: list[str]
) -> None:
    called: list[str] = []
    graph = two_levels(called, checkpointer)
    graph.invoke({"value": []}, CFG)
    sub_config = graph.get_state(CFG, subgraphs=True).tasks[0].state.config
    called.clear()
    replayed = graph.invoke(None, sub_config)
    assert replayed["value"] == ["router"] and replayed["__interrupt__"][0].value == "ask?"
    assert called == rerun  # a checkpointer=None subgraph gets a new task: it starts over
    called.clear()
    done = graph.invoke(Command(resume="X"), sub_config)
    assert done == {"value": ["router", "router", "step_a", "ask:X", "step_b", "post"]}
    assert called == ["ask", "step_b", "post"]
    assert graph.get_state(CFG).next == ()


def test_time_travel_to_a_subgraph_checkpoint_from_its_history() -> None:
    called: list[str] = []
    graph = two_levels(called, True)
    graph.invoke({"value": []}, CFG)
    graph.invoke(Command(resume="Y"), CFG)
    sub_ns: Any = {"configurable": {"thread_id": "1", "checkpoint_ns": "sub"}}
    target = next(s for s in graph.get_state_history(sub_ns) if s.next == ("ask",))
    called.clear()
    replayed = graph.invoke(None, target.config)
    assert replayed["value"] == ["router"] and "__interrupt__" in replayed
    assert called == ["ask"]
    done = graph.invoke(Command(resume="Z"), CFG)
    assert done == {"value": ["router", "router", "step_a", "ask:Z", "step_b", "post"]}


def three_levels(called: list[str], checkpointer: Any) -> Any:
    inner = StateGraph(State).add_node("i1", node("i1", called, ask=True))
    inner.add_node("i2", node("i2", called, ask=True)).add_edge(START, "i1").add_edge("i1", "i2")
    mid = StateGraph(State).add_node("m", node("m", called))
    mid.add_node("inner", inner.compile(checkpointer=checkpointer))
    mid.add_edge(START, "m").add_edge("m", "inner")
    top = StateGraph(State).add_node("mid", mid.compile(checkpointer=checkpointer))
    top.add_node("post", node("post", called)).add_edge(START, "mid").add_edge("mid", "post")
    return top.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("checkpointer", [True, None])
def test_three_levels_time_travel_to_the_inner_and_the_middle_subgraph(checkpointer: Any) -> None:
    called: list[str] = []
    graph = three_levels(called, checkpointer)
    graph.invoke({"value": []}, CFG)
    state = graph.get_state(CFG, subgraphs=True)
    first_mid = state.tasks[0].state.config
    first_inner = state.tasks[0].state.tasks[0].state.config
    graph.invoke(Command(resume="a"), CFG)
    middle = graph.get_state(CFG, subgraphs=True).tasks[0].state
    assert [(t.name, t.state.next) for t in middle.tasks] == [("inner", ("i2",))]
    second_inner = middle.tasks[0].state.config
    final = {"value": ["m", "m", "i1:X", "i2:Y", "post"]}
    assert graph.invoke(Command(resume="b"), CFG)["value"][-1] == "post"

    for config in (first_inner, first_mid):
        called.clear()
        replayed = graph.invoke(None, config)
        assert replayed["value"] == [] and replayed["__interrupt__"][0].value == "i1?"
        assert called == (["i1"] if checkpointer else ["m", "i1"])
        assert graph.invoke(Command(resume="X"), CFG)["__interrupt__"][0].value == "i2?"
        called.clear()
        assert graph.invoke(Command(resume="Y"), CFG) == final
        assert called == ["i2", "post"]

    called.clear()
    replayed = graph.invoke(None, second_inner)
    if checkpointer:  # the inner graph's own history: back to its second interrupt
        assert replayed["__interrupt__"][0].value == "i2?" and called == ["i2"]
        done = graph.invoke(Command(resume="X"), CFG)
        assert done == {"value": ["m", "m", "i1:a", "i2:X", "post"]}
    else:  # the middle graph's task is new on replay: the inner graph starts over
        assert replayed["__interrupt__"][0].value == "i1?" and called == ["m", "i1"]


def asks_twice(called: list[str]) -> Any:
    builder = StateGraph(State).add_node("x", node("x", called, ask=True))
    builder.add_node("y", node("y", called, ask=True))
    return builder.add_edge(START, "x").add_edge(START, "y")


def test_travel_to_an_update_checkpoint_asks_an_answered_question_again() -> None:
    called: list[str] = []
    graph = asks_twice(called).compile(checkpointer=InMemorySaver())
    graph.invoke({"value": []}, CFG)
    update = graph.update_state(CFG, {"value": ["u"]})
    asked = graph.invoke(None, CFG)["__interrupt__"]
    x = next(i for i in asked if i.value == "x?")
    graph.invoke(Command(resume={x.id: "yes"}), CFG)
    called.clear()
    again = graph.invoke(None, update)  # the update is still the head: replayed in place
    assert sorted(i.value for i in again["__interrupt__"]) == ["x?", "y?"]
    assert sorted(called) == ["x", "y"] and again["value"] == ["u"]


def test_travel_to_a_subgraph_update_checkpoint_asks_again() -> None:
    called: list[str] = []
    parent = StateGraph(State).add_node("s", asks_twice(called).compile(checkpointer=True))
    graph = parent.add_edge(START, "s").compile(checkpointer=InMemorySaver())

    def sub_head() -> Any:
        return graph.get_state(CFG, subgraphs=True).tasks[0].state.config

    graph.invoke({"value": []}, CFG)
    graph.update_state(sub_head(), {"value": ["u"]}, as_node="__start__")
    x = next(i for i in graph.invoke(None, CFG)["__interrupt__"] if i.value == "x?")
    graph.invoke(Command(resume={x.id: "yes"}), CFG)
    sub_ns: Any = {"configurable": {"thread_id": "1", "checkpoint_ns": "s"}}
    update = next(graph.checkpointer.list(sub_ns))
    assert update.metadata["source"] == "update"
    assert set(update.metadata["parents"]) == {""}  # it keeps its enclosing checkpoint
    called.clear()
    again = graph.invoke(None, sub_head())
    assert sorted(i.value for i in again["__interrupt__"]) == ["x?", "y?"]
    assert sorted(called) == ["x", "y"]
