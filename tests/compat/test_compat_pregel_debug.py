"""``threadloom.pregel.debug`` (LangGraph's ``langgraph.pregel.debug``) and the ``metadata`` of
task-start chunks: a task's own metadata (the run's and the node's keys, the config's tags) rides
along, the framework's bookkeeping does not, as in LangGraph 1.2.22."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.constants import TAG_HIDDEN
from threadloom.graph import START, StateGraph
from threadloom.pregel.debug import map_debug_task_results, map_debug_tasks, map_task_result_writes
from threadloom.types import Interrupt


@dataclass
class AnyTask:
    """What the helpers read of a task."""

    config: dict[str, Any] | None
    id: str = "t1"
    name: str = "tools"
    input: Any = field(default_factory=list)
    triggers: tuple[str, ...] = ("x",)


FRAMEWORK = {
    "thread_id": "thread-1",
    "checkpoint_ns": "",
    "langgraph_step": 1,
    "langgraph_node": "tools",
    "langgraph_triggers": ("x",),
    "langgraph_path": ("__pregel_pull", "tools"),
    "langgraph_checkpoint_ns": "tools:abc",
}


def _payload(config: dict[str, Any] | None) -> dict[str, Any]:
    [payload] = map_debug_tasks([AnyTask(config)])
    return payload


def test_the_task_fields_and_the_user_metadata_are_shown() -> None:
    metadata = {**FRAMEWORK, "lc_agent_name": "weather", "ls_integration": "x", "mine": 1}
    payload = _payload({"metadata": metadata})
    assert payload == {
        "id": "t1",
        "name": "tools",
        "input": [],
        "triggers": ("x",),
        "metadata": {"lc_agent_name": "weather", "ls_integration": "x", "mine": 1},
    }


def test_no_metadata_key_without_user_metadata() -> None:
    for config in (None, {}, {"metadata": {}}, {"metadata": FRAMEWORK}, {"tags": ["seq:step:1"]}):
        assert "metadata" not in _payload(config), config


def test_tags_are_folded_in_without_seq_step_markers() -> None:
    payload = _payload({"metadata": {"a": 1}, "tags": ["seq:step:1", "user", "session-1"]})
    assert payload["metadata"] == {"a": 1, "tags": ["user", "session-1"]}
    assert _payload({"tags": ["user"]})["metadata"] == {"tags": ["user"]}


def test_the_metadata_is_a_copy() -> None:
    metadata = {"lc_agent_name": "a"}
    payload = _payload({"metadata": metadata})
    metadata["lc_agent_name"] = "changed"
    assert payload["metadata"] == {"lc_agent_name": "a"}


def test_hidden_tasks_are_left_out() -> None:
    shown = AnyTask({"tags": ["user"]}, id="shown")
    hidden = AnyTask({"tags": [TAG_HIDDEN]}, id="hidden")
    assert [p["id"] for p in map_debug_tasks([hidden, shown])] == ["shown"]


def test_task_results_fold_repeated_writes_and_keep_the_streamed_keys() -> None:
    writes = [("a", 1), ("a", 2), ("b", 3), ("__interrupt__", [Interrupt("q", id="i1")])]
    assert map_task_result_writes([("a", 1), ("a", 2), ("b", 3)]) == {
        "a": {"$writes": [1, 2]},
        "b": 3,
    }
    [result] = map_debug_task_results((AnyTask(None, id="t9", name="n"), writes), ["a"])
    assert result == {
        "id": "t9",
        "name": "n",
        "error": None,
        "result": {"a": {"$writes": [1, 2]}},
        "interrupts": [{"value": "q", "id": "i1", "response_schema": None}],
    }
    error = ValueError("boom")
    [failed] = map_debug_task_results((AnyTask(None), [("__error__", error)]), "a")
    assert failed["error"] is error
    assert failed["result"] == {}


class State(TypedDict):
    x: int


def test_a_run_streams_the_same_task_payloads_with_the_node_metadata() -> None:
    def step(state: State) -> dict[str, Any]:
        return {"x": state["x"] + 1}

    builder = StateGraph(State).add_node("step", step, metadata={"mine": 1})
    graph = builder.add_edge(START, "step").compile(checkpointer=InMemorySaver())
    config = {
        "configurable": {"thread_id": "t", "user_id": "u"},
        "metadata": {"lc_agent_name": "agent"},
        "tags": ["user-tag", "seq:step:4"],
    }
    chunks = list(graph.stream({"x": 1}, config, stream_mode=["tasks", "debug"]))
    started = [p for mode, p in chunks if mode == "tasks" and "input" in p]
    debug_started = [p["payload"] for mode, p in chunks if mode == "debug" and p["type"] == "task"]
    assert [p["metadata"] for p in started] == [
        {"lc_agent_name": "agent", "mine": 1, "tags": ["user-tag"]}
    ]
    assert debug_started == started
