"""``astream_events`` (v2 and v1) on a compiled graph: LangGraph's event names, order and tags.

The expected sequences were observed on LangGraph 1.2.22 running the same graph.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from langchain_core.callbacks import adispatch_custom_event
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict

from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph, add_messages


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _graph() -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage("hi there", id="m1")] * 4))

    async def chat(state: State) -> dict[str, Any]:
        await adispatch_custom_event("progress", {"done": 0.5})
        message = await model.ainvoke(state["messages"])
        await add.ainvoke({"a": 1, "b": 2})
        return {"messages": [message]}

    def after(state: State) -> dict[str, Any]:  # a sync node, run in a thread
        return {"messages": []}

    builder = StateGraph(State)
    builder.add_node("chat", chat)
    builder.add_node("after", after)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", "after")
    return builder.compile()


def _events(graph: Any, value: Any, **kwargs: Any) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [dict(e) async for e in graph.astream_events(value, **kwargs)]

    return asyncio.run(collect())


EXPECTED_V2 = [
    ("on_chain_start", "LangGraph"),
    ("on_chain_start", "chat"),
    ("on_custom_event", "progress"),
    ("on_chat_model_start", "GenericFakeChatModel"),
    ("on_chat_model_stream", "GenericFakeChatModel"),
    ("on_chat_model_stream", "GenericFakeChatModel"),
    ("on_chat_model_stream", "GenericFakeChatModel"),
    ("on_chat_model_end", "GenericFakeChatModel"),
    ("on_tool_start", "add"),
    ("on_tool_end", "add"),
    ("on_chain_stream", "chat"),
    ("on_chain_end", "chat"),
    ("on_chain_stream", "LangGraph"),
    ("on_chain_start", "after"),
    ("on_chain_stream", "after"),
    ("on_chain_end", "after"),
    ("on_chain_stream", "LangGraph"),
    ("on_chain_end", "LangGraph"),
]


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_events_of_a_graph_with_a_model_a_tool_and_a_custom_event(version: str) -> None:
    events = _events(_graph(), {"messages": [HumanMessage("hi")]}, version=version)
    expected = [e for e in EXPECTED_V2 if version == "v2" or e[0] != "on_custom_event"]
    assert [(e["event"], e["name"]) for e in events] == expected  # v1 has no custom events
    by_name = {(e["event"], e["name"]): e for e in events}
    root = by_name[("on_chain_start", "LangGraph")]
    assert root["tags"] == []
    if version == "v2":  # v1 shows no metadata on the root run
        assert root["metadata"] == {"ls_integration": "langgraph"}
    node = by_name[("on_chain_start", "chat")]
    assert node["tags"] == ["graph:step:1"]
    assert node["metadata"]["langgraph_node"] == "chat"
    assert node["metadata"]["langgraph_step"] == 1
    tokens = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert "".join(str(e["data"]["chunk"].content) for e in tokens) == "hi there"
    assert all(isinstance(e["data"]["chunk"], AIMessageChunk) for e in tokens)
    assert tokens[0]["tags"] == ["seq:step:1"]
    assert tokens[0]["metadata"]["langgraph_node"] == "chat"
    if version == "v2":
        assert by_name[("on_custom_event", "progress")]["data"] == {"done": 0.5}
    # a node's output is its run's stream chunk; the graph streams its updates
    assert by_name[("on_chain_stream", "after")]["data"] == {"chunk": {"messages": []}}
    root_chunks = [e["data"]["chunk"] for e in events if e["event"] == "on_chain_stream"]
    assert root_chunks[-1] == {"after": {"messages": []}}
    if version == "v2":  # the graph's output (v1 shows its stream's chunks added up)
        end = events[-1]["data"]["output"]
        assert [m.content for m in end["messages"]] == ["hi", "hi there"]
        assert node["parent_ids"] == [root["run_id"]]
        assert tokens[0]["parent_ids"] == [root["run_id"], node["run_id"]]


def test_events_pass_stream_arguments_through_and_filter() -> None:
    events = _events(
        _graph(),
        {"messages": [HumanMessage("hi")]},
        version="v2",
        stream_mode="values",
        include_types=["chat_model"],
    )
    assert {e["event"] for e in events} == {
        "on_chat_model_start",
        "on_chat_model_stream",
        "on_chat_model_end",
    }


class Step(TypedDict):
    x: int


def test_events_of_a_subgraph_and_of_functional_task_calls() -> None:
    inner = StateGraph(Step)
    inner.add_node("inner", lambda s: {"x": s["x"] + 1})
    inner.add_edge(START, "inner")
    outer = StateGraph(Step)
    outer.add_node("child", inner.compile())
    outer.add_edge(START, "child")
    events = _events(outer.compile(), {"x": 1}, version="v2")
    assert [(e["event"], e["name"]) for e in events] == [
        ("on_chain_start", "LangGraph"),
        ("on_chain_start", "child"),
        ("on_chain_start", "LangGraph"),
        ("on_chain_start", "inner"),
        ("on_chain_stream", "inner"),
        ("on_chain_end", "inner"),
        ("on_chain_end", "LangGraph"),  # a subgraph run by a node does not stream
        ("on_chain_stream", "child"),
        ("on_chain_end", "child"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_end", "LangGraph"),
    ]
    assert len(events[3]["parent_ids"]) == 3

    @task
    async def double(x: int) -> int:
        return x * 2

    @entrypoint()
    async def workflow(x: int) -> int:
        return await double(x)

    starts = [e for e in _events(workflow, 3, version="v2") if e["event"] == "on_chain_start"]
    assert [e["name"] for e in starts] == ["LangGraph", "workflow", "double"]
    assert starts[2]["tags"] == ["seq:step:1"]
    assert starts[2]["parent_ids"] == [starts[0]["run_id"], starts[1]["run_id"]]
