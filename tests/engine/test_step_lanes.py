"""The short ways of a step and the general way give the same run.

``Run.tick`` returns its tasks at once when the run streams no checkpoint or task chunk and has no
``interrupt_before``; the run loop hands a lone inline task that did not fail straight to
``task_finished``. ``invoke`` takes both short ways; ``stream`` with the ``checkpoints`` and
``tasks`` modes takes the general ones. The same graph run both ways must leave the same
checkpoints (values, versions, metadata, pending writes) and end with the same result.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import GraphRecursionError
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, Send


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int


def _chain_with_fan_out() -> Any:
    """a -> b -> (two Sends to c) -> d, d back to a until n is 6: lone and parallel steps."""

    def node(name: str) -> Any:
        def run(state: State) -> dict[str, Any]:
            return {"log": [name], "n": state.get("n", 0) + 1}

        return run

    def fan(state: State) -> list[Send]:
        return [Send("c", {"log": [f"send{i}"]}) for i in range(2)]

    def again(state: State) -> Command[Any]:
        return Command(goto="a" if state.get("n", 0) < 6 else END, update={"log": ["d"]})

    builder = StateGraph(State)
    builder.add_node("a", node("a"))
    builder.add_node("b", node("b"))
    builder.add_node("c", lambda s: {"log": ["c"]})
    builder.add_node("d", again)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_conditional_edges("b", fan, ["c"])
    builder.add_edge("c", "d")
    return builder


def _history(saver: InMemorySaver, graph: Any, thread: str) -> list[tuple[Any, ...]]:
    config = {"configurable": {"thread_id": thread}}
    return [
        (
            s.values,
            s.next,
            {k: v for k, v in s.metadata.items() if k != "run_id"},
            sorted(s.config["configurable"]),
            len(s.tasks),
            sorted((w[1], repr(w[2])) for w in saver.get_tuple(s.config).pending_writes or []),
            sorted(saver.get_tuple(s.config).checkpoint["channel_versions"]),
        )
        for s in graph.get_state_history(config)
    ]


def test_invoke_and_a_stream_of_every_step_leave_the_same_checkpoints() -> None:
    saver = InMemorySaver()
    graph = _chain_with_fan_out().compile(checkpointer=saver)
    lean = graph.invoke({"n": 0}, {"configurable": {"thread_id": "lean"}})
    chunks = list(
        graph.stream(
            {"n": 0},
            {"configurable": {"thread_id": "general"}},
            stream_mode=["checkpoints", "tasks", "values"],
        )
    )
    assert [p for mode, p in chunks if mode == "values"][-1] == lean
    assert lean["log"].count("c") == 6 and lean["n"] == 6  # three rounds
    assert _history(saver, graph, "lean") == _history(saver, graph, "general")


def test_the_recursion_limit_stops_both_ways_at_the_same_step() -> None:
    saver = InMemorySaver()
    graph = _chain_with_fan_out().compile(checkpointer=saver)
    for thread, modes in (("lean", "values"), ("general", ["checkpoints", "values"])):
        config: Any = {"configurable": {"thread_id": thread}, "recursion_limit": 5}
        with pytest.raises(GraphRecursionError):
            for _ in graph.stream({"n": 0}, config, stream_mode=modes):
                pass
    assert _history(saver, graph, "lean") == _history(saver, graph, "general")


def test_a_failing_lone_task_takes_the_general_way_and_keeps_its_error() -> None:
    def boom(state: State) -> dict[str, Any]:
        raise ValueError("boom")

    saver = InMemorySaver()
    builder = StateGraph(State)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("b", boom)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    graph = builder.compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ValueError, match="boom"):
        graph.invoke({"n": 0}, config)
    state = graph.get_state(config)
    assert state.next == ("b",) and state.values["log"] == ["a"]
    assert [t.error for t in state.tasks] and "boom" in str(state.tasks[0].error)
