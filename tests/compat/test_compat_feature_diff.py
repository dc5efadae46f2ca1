"""Differences `benchmarks/feature_diff.py` found between threadloom and LangGraph 1.2.22, fixed.

That fuzzer runs random graphs with subgraph nodes, the store, `Command` inputs and every stream
mode, edits their state between runs and compares what a user sees. Each test is one
difference; it passes on LangGraph 1.2.22 with the import root swapped.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _graph() -> Any:
    """p0 -> sub (asks in s0, then s1) -> p2."""

    def ask(state: State) -> State:
        return {"log": [f"s0:{interrupt('s0?')}"]}

    sub = StateGraph(State).add_node("s0", ask).add_node("s1", lambda s: {"log": ["s1"]})
    sub = sub.add_edge(START, "s0").add_edge("s0", "s1").compile(checkpointer=True)
    builder = StateGraph(State)
    builder.add_node("p0", lambda s: {"log": ["p0"]})
    builder.add_node("sub", sub)
    builder.add_node("p2", lambda s: {"log": ["p2"]})
    builder.add_edge(START, "p0").add_edge("p0", "sub").add_edge("sub", "p2")
    return builder.compile(checkpointer=InMemorySaver())


def test_a_snapshot_plans_its_tasks_before_the_input_a_run_left() -> None:
    # a Command(goto=..., update=...) run that paused keeps its input on the checkpoint; the
    # snapshot showed the tasks that input triggers (and applied their writes), LangGraph's shows
    # the input in the values only
    graph = _graph()
    config: Any = {"configurable": {"thread_id": "1"}}
    graph.invoke({"log": []}, config)
    graph.update_state(config, {"log": ["edit"]}, as_node="p2")
    out = graph.invoke(Command(goto="sub", update={"log": ["cmd"]}), config)
    assert [i.value for i in out["__interrupt__"]] == ["s0?"]
    state = graph.get_state(config)
    assert (state.next, state.tasks, state.values) == ((), (), {"log": ["p0", "edit", "cmd"]})
    history = [(s.metadata["source"], s.next) for s in graph.get_state_history(config)]
    assert history[0] == ("update", ())
    # the run goes on from there, as in LangGraph
    assert graph.invoke(Command(resume="yes"), config)["log"][-3:] == ["s0:yes", "s1", "p2"]
