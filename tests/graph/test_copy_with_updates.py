"""``update_state(config, [StateUpdate(...), ...], as_node="__copy__")`` copies the checkpoint
(a sibling: same values, same parent) and then applies the updates to the copy as the next
superstep, in one call, as LangGraph does (they used to be ignored: only the copy was made).
Updates as a node that has several tasks in the step (an edge and a ``Send`` to it) go to its
tasks in turn, one each, so each task's result is kept."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, Send, StateUpdate


def joined(left: str, right: str) -> str:
    return f"{left} > {right}" if left else right


class Trail(TypedDict):
    trail: Annotated[str, joined]


def one(state: Trail) -> Command[Any]:
    return Command(goto=[Send("two", {})], update={"trail": "one"})


def two(state: Trail) -> dict[str, Any]:
    return {"trail": "two"}


def three(state: Trail) -> dict[str, Any]:
    return {"trail": "three"}


def build() -> Any:
    return (
        StateGraph(Trail)
        .add_node("one", one)
        .add_node("two", two)
        .add_node("three", three)
        .add_edge(START, "one")
        .add_edge("one", "two")
        .add_edge("two", "three")
        .compile(checkpointer=InMemorySaver())
    )


def test_a_copy_with_updates_forks_and_applies_them() -> None:
    graph = build()
    config: Any = {"configurable": {"thread_id": "t"}}
    graph.invoke({"trail": "start"}, config)
    first = list(graph.get_state_history(config))[-1]  # the input checkpoint
    forked = graph.update_state(
        first.config, [StateUpdate({"trail": "start*"}, "__start__")], as_node="__copy__"
    )
    update = graph.get_state(forked)
    assert update.metadata["source"] == "update"
    assert update.values == {"trail": "start*"} and update.next == ("one",)
    copy = graph.get_state(update.parent_config)
    assert copy.metadata["source"] == "fork" and copy.parent_config is None
    assert [(t.name, t.result) for t in copy.tasks] == [("__start__", {"trail": "start*"})]
    assert graph.invoke(None, forked) == {"trail": "start* > one > two > two > three"}


def test_updates_as_a_node_with_two_tasks_go_one_to_each() -> None:
    graph = build()
    config: Any = {"configurable": {"thread_id": "t"}}
    graph.invoke({"trail": "start"}, config)
    fan = next(s for s in graph.get_state_history(config) if s.next == ("two", "two"))
    forked = graph.update_state(
        fan.config,
        [StateUpdate({"trail": "2a"}, "two"), StateUpdate({"trail": "2b"}, "two")],
        as_node="__copy__",
    )
    assert graph.get_state(forked).values == {"trail": "start > one > 2a > 2b"}
    copy = graph.get_state(graph.get_state(forked).parent_config)
    assert sorted(t.result["trail"] for t in copy.tasks) == ["2a", "2b"]
    assert graph.invoke(None, forked) == {"trail": "start > one > 2a > 2b > three"}
