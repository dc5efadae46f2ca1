"""Stream modes that describe the run: checkpoints, tasks and debug (CONTRACT 3.2)."""

import operator
from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph


class State(TypedDict, total=False):
    a: str
    log: Annotated[list[str], operator.add]


def graph() -> Any:
    def n1(state: State) -> dict[str, Any]:
        return {"a": state["a"] + "1", "log": ["n1"]}

    builder = StateGraph(State).add_node("n1", n1).add_edge(START, "n1")
    return builder.compile(checkpointer=InMemorySaver())


CONFIG = {"configurable": {"thread_id": "t", "user": "u"}}


def test_checkpoints_mode_shows_each_checkpoint_a_step_starts_from() -> None:
    chunks = list(graph().stream({"a": "x"}, CONFIG, stream_mode="checkpoints"))
    assert [(c["metadata"]["source"], c["metadata"]["step"]) for c in chunks] == [
        ("input", -1),
        ("loop", 0),
        ("loop", 1),
    ]
    first, second, last = chunks
    assert first["next"] == ["__start__"] and first["parent_config"] is None
    assert first["values"] == {"log": []}
    assert second["next"] == ["n1"] and second["tasks"][0]["name"] == "n1"
    assert (
        second["parent_config"]["configurable"]["checkpoint_id"]
        == (first["config"]["configurable"]["checkpoint_id"])
    )
    assert last["next"] == [] and last["values"] == {"a": "x1", "log": ["n1"]}
    # user keys stay, internal keys never show
    assert last["config"]["configurable"]["user"] == "u"
    assert not any(k.startswith("__") for k in last["config"]["configurable"])


def test_tasks_mode_start_and_result() -> None:
    start, result = list(graph().stream({"a": "x"}, CONFIG, stream_mode="tasks"))
    assert start["name"] == "n1" and start["input"] == {"a": "x", "log": []}
    assert start["triggers"] == ("branch:to:n1",)
    assert result == {
        "id": start["id"],
        "name": "n1",
        "error": None,
        "result": {"a": "x1", "log": ["n1"]},
        "interrupts": [],
    }


def test_debug_mode_wraps_both_with_steps() -> None:
    chunks = list(graph().stream({"a": "x"}, CONFIG, stream_mode="debug"))
    assert [(c["type"], c["step"]) for c in chunks] == [
        ("checkpoint", -1),
        ("checkpoint", 0),
        ("task", 1),
        ("task_result", 1),
        ("checkpoint", 1),
    ]
