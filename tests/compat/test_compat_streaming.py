"""Stream details that match LangGraph 1.2.22 (issue 10, group 3).

Expected values were observed by running the same programs on LangGraph 1.2.22.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph


class _Model(BaseModel):
    x: int = 0
    y: str = ""


@dataclass
class _Data:
    x: int = 0
    y: str = ""


def _graph(schema: Any) -> Any:
    def a(state: Any) -> dict[str, Any]:
        return {"x": state.x + 1}

    def b(state: Any) -> dict[str, Any]:
        return {"y": "b"}

    builder = StateGraph(schema)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    return builder.compile(checkpointer=InMemorySaver())


def test_v2_checkpoint_and_debug_values_are_the_state_type() -> None:
    for schema in (_Model, _Data):
        graph = _graph(schema)
        config: RunnableConfig = {"configurable": {"thread_id": "t"}}
        seen: list[tuple[str, Any]] = []
        for part in graph.stream(
            {"x": 1}, config, stream_mode=["checkpoints", "debug"], version="v2"
        ):
            data = part["data"]
            if part["type"] == "checkpoints":
                seen.append(("checkpoints", data["values"]))
            elif data["type"] == "checkpoint":
                seen.append(("debug", data["payload"]["values"]))
        # the checkpoint before the first step keeps its dict (its next is __start__)
        assert seen == [
            ("checkpoints", {}),
            ("debug", {}),
            ("checkpoints", schema(x=1, y="")),
            ("debug", schema(x=1, y="")),
            ("checkpoints", schema(x=2, y="")),
            ("debug", schema(x=2, y="")),
            ("checkpoints", schema(x=2, y="b")),
            ("debug", schema(x=2, y="b")),
        ]


def test_v1_checkpoint_values_stay_dicts() -> None:
    graph = _graph(_Model)
    chunks = list(
        graph.stream({"x": 1}, {"configurable": {"thread_id": "t"}}, stream_mode="checkpoints")
    )
    assert [c["values"] for c in chunks] == [{}, {"x": 1}, {"x": 2}, {"x": 2, "y": "b"}]


def test_checkpoint_events_show_only_the_configurable_keys() -> None:
    graph = _graph(_Model)
    config: RunnableConfig = {
        "configurable": {"thread_id": "t", "user_id": "u"},
        "tags": ["t1"],
        "metadata": {"m": 1},
        "recursion_limit": 10,
    }
    events = [
        chunk["payload"]
        for chunk in graph.stream({"x": 1}, config, stream_mode="debug")
        if chunk["type"] == "checkpoint"
    ]
    history = {
        s.config["configurable"]["checkpoint_id"]: s.parent_config
        for s in graph.get_state_history(config)
    }
    for event in events:
        assert set(event["config"]) == {"configurable"}
        configurable = event["config"]["configurable"]
        assert configurable["user_id"] == "u" and configurable["checkpoint_ns"] == ""
        parent = history[configurable["checkpoint_id"]]
        if parent is None:
            assert event["parent_config"] is None
        else:
            assert set(event["parent_config"]) == {"configurable"}
            assert event["parent_config"]["configurable"] == {
                **parent["configurable"],
                "user_id": "u",
            }


class _Text(TypedDict):
    x: str


def test_messages_metadata_carries_the_run_keys() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage("hi there")]))

    def node(state: _Text) -> dict[str, Any]:
        return {"x": model.invoke("hello").content}

    builder = StateGraph(_Text)
    builder.add_node("a", node)
    builder.add_edge(START, "a")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {
        "configurable": {
            "thread_id": "1",
            "run_id": "r",
            "assistant_id": "as",
            "graph_id": "",
            "user_id": "u",
            "__secret": 1,
        },
        "metadata": {"mm": 2},
    }
    first = next(iter(graph.stream({"x": ""}, config, stream_mode="messages")))
    metadata = first[1]
    # LangGraph 1.2.22 copies these configurable keys (when set) into the metadata
    assert metadata["thread_id"] == "1" and metadata["run_id"] == "r"
    assert metadata["assistant_id"] == "as" and "graph_id" not in metadata
    assert "user_id" not in metadata and "__secret" not in metadata
    assert metadata["checkpoint_ns"] == metadata["langgraph_checkpoint_ns"]
    assert metadata["checkpoint_ns"].startswith("a:")
    assert metadata["ls_integration"] == "langchain_chat_model"
    assert metadata["mm"] == 2 and metadata["langgraph_node"] == "a"


def test_task_updates_stream_as_each_call_finishes() -> None:
    slow_seen = threading.Event()
    waited: list[bool] = []

    @task
    def slow(x: int) -> int:
        return x * 2

    @task(name="renamed")
    def other(x: int) -> int:
        return x + 1

    @entrypoint(checkpointer=InMemorySaver())
    def main(x: int) -> int:
        a = slow(x).result()
        waited.append(slow_seen.wait(timeout=30))  # the consumer got slow's update meanwhile
        return a + other(a).result()

    chunks = []
    for chunk in main.stream(3, {"configurable": {"thread_id": "t"}}, stream_mode="updates"):
        chunks.append(chunk)
        if chunk == {"slow": 6}:
            slow_seen.set()
    assert waited == [True]
    assert chunks == [{"slow": 6}, {"renamed": 7}, {"main": 13}]


async def test_async_task_updates_stream_as_each_call_finishes() -> None:
    slow_seen = asyncio.Event()
    waited: list[bool] = []

    @task
    async def slow(x: int) -> int:
        return x * 2

    @entrypoint(checkpointer=InMemorySaver())
    async def main(x: int) -> int:
        a = await slow(x)
        try:
            await asyncio.wait_for(slow_seen.wait(), timeout=30)
            waited.append(True)
        except TimeoutError:
            waited.append(False)
        return a

    chunks = []
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    async for chunk in main.astream(3, config, stream_mode="updates"):
        chunks.append(chunk)
        if chunk == {"slow": 6}:
            slow_seen.set()
    assert waited == [True]
    assert chunks == [{"slow": 6}, {"main": 6}]


def test_exit_durability_checkpoint_events_keep_the_start_parent() -> None:
    graph = _graph(_Model)
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    parents_by_run = []
    for _ in range(2):
        events = [
            chunk["payload"]
            for chunk in graph.stream({"x": 1}, config, stream_mode="debug", durability="exit")
            if chunk["type"] == "checkpoint"
        ]
        parents_by_run.append({str(e["parent_config"]) for e in events})
        last = next(iter(graph.get_state_history(config)))
        assert events[-1]["config"]["configurable"] == last.config["configurable"]
    # LangGraph 1.2.22: nothing is saved during an exit run, so every checkpoint it shows keeps
    # the parent of the checkpoint it started from (None both times here)
    assert parents_by_run == [{"None"}, {"None"}]


def test_a_task_update_streams_before_its_task_result() -> None:
    from threadloom.types import interrupt

    class S(TypedDict):
        x: int

    builder = StateGraph(S)
    builder.add_node("a", lambda s: {"x": s["x"] + 1})
    builder.add_node("b", lambda s: {"x": interrupt("q")})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    graph = builder.compile(checkpointer=InMemorySaver())
    seen = []
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    for mode, data in graph.stream({"x": 1}, config, stream_mode=["updates", "tasks"]):
        if mode == "tasks":
            seen.append(("tasks", data["name"], "result" if "result" in data else "start"))
        else:
            seen.append(("updates", *data))
    assert seen == [  # LangGraph 1.2.22's order
        ("tasks", "a", "start"),
        ("updates", "a"),
        ("tasks", "a", "result"),
        ("tasks", "b", "start"),
        ("updates", "__interrupt__"),
        ("tasks", "b", "result"),
    ]


def test_a_message_a_node_returns_has_langgraph_metadata() -> None:
    from langchain_core.messages import HumanMessage

    from threadloom.graph import MessagesState

    def node(state: Any) -> dict[str, Any]:
        return {"messages": HumanMessage(content="foo")}

    builder = StateGraph(MessagesState).add_node("my_node", node).add_edge(START, "my_node")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "1", "run_id": "r"}}
    [(message, metadata)] = list(graph.stream({"messages": []}, config, stream_mode="messages"))
    assert message.content == "foo"
    ns = metadata.pop("langgraph_checkpoint_ns")
    assert ns.startswith("my_node:")
    assert metadata == {  # LangGraph 1.2.22
        "langgraph_node": "my_node",
        "langgraph_path": ("__pregel_pull", "my_node"),
        "langgraph_step": 1,
        "langgraph_triggers": ("branch:to:my_node",),
        "ls_integration": "langgraph",
        "run_id": "r",
        "thread_id": "1",
    }


def test_a_subgraph_model_call_names_the_parent_task_namespace() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage("hi")]))

    def inner(state: _Text) -> dict[str, Any]:
        return {"x": model.invoke("hello").content}

    sub = StateGraph(_Text).add_node("inner", inner).add_edge(START, "inner").compile()
    graph = StateGraph(_Text).add_node("outer", sub).add_edge(START, "outer")
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "1"}}
    chunks = list(app.stream({"x": ""}, config, stream_mode="messages", subgraphs=True))
    ns, (_message, metadata) = chunks[0]
    assert metadata["checkpoint_ns"] == ns[0]  # the parent's task, as LangGraph 1.2.22 shows it
    assert metadata["langgraph_checkpoint_ns"].startswith(ns[0] + "|inner:")
    assert metadata["thread_id"] == "1"
