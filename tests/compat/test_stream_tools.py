"""``stream_mode="tools"``: tool-call lifecycle events, as LangGraph 1.2.22 streams them.

Expected values were observed by running the same programs on LangGraph 1.2.22 (ids aside).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import UnknownStreamModeError
from threadloom.func import entrypoint, task
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.prebuilt import ToolNode
from threadloom.types import Command, interrupt


@tool
def echo(text: str) -> str:
    """Echo the text."""
    return text


@tool
def fail(text: str) -> str:
    """Always fails."""
    raise ValueError(f"bad {text}")


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def ask(question: str) -> str:
    """Ask a human."""
    return str(interrupt(question))


def _one_node(node: Any, **compile: Any) -> Any:
    return (
        StateGraph(MessagesState).add_node(node).add_edge(START, node.__name__).compile(**compile)
    )


def _tools_node(state: MessagesState) -> dict[str, Any]:
    echo.invoke({"text": "plain"})
    echo.invoke({"type": "tool_call", "id": "call-1", "name": "echo", "args": {"text": "x"}})
    with pytest.raises(ValueError):
        fail.invoke({"text": "q"})
    return {}


def _chat_and_echo(state: MessagesState) -> dict[str, Any]:
    echo.invoke({"text": "done"})
    return {"messages": [GenericFakeChatModel(messages=iter(["one two"])).invoke("hi")]}


async def _achat_and_echo(state: MessagesState) -> dict[str, Any]:
    await echo.ainvoke({"text": "done"})
    return {"messages": [await GenericFakeChatModel(messages=iter(["one two"])).ainvoke("hi")]}


_CHAT_AND_ECHO = ["tool-started", "tool-finished", "one", " ", "two"]


def _summary(part: dict[str, Any]) -> tuple[tuple[str, ...], str]:
    names = tuple(segment.split(":")[0] for segment in part["ns"])
    if part["type"] == "messages":
        return names, part["data"][0].content
    return names, part["data"]["event"]


def test_each_tool_call_streams_its_start_and_its_end_or_error() -> None:
    events = list(_one_node(_tools_node).stream({"messages": []}, stream_mode="tools"))

    assert [e["event"] for e in events] == [
        "tool-started", "tool-finished", "tool-started", "tool-finished", "tool-started",
        "tool-error",
    ]  # fmt: skip
    plain_start, plain_end, call_start, call_end, fail_start, fail_error = events
    assert plain_start["tool_name"] == "echo" and plain_start["input"] == {"text": "plain"}
    # a tool run without a model's tool call: its events share the tool run's id
    assert plain_end == {
        "event": "tool-finished", "tool_call_id": plain_start["tool_call_id"], "output": "plain"
    }  # fmt: skip
    # a tool run for a model's tool call: the call's id, and the tool's ToolMessage as output
    assert call_start["tool_call_id"] == call_end["tool_call_id"] == "call-1"
    assert call_end["output"] == ToolMessage(content="x", name="echo", tool_call_id="call-1")
    assert fail_error == {
        "event": "tool-error", "tool_call_id": fail_start["tool_call_id"], "message": "bad q"
    }  # fmt: skip


def test_tool_node_calls_stream_under_the_model_tool_call_ids() -> None:
    request = AIMessage(
        content="",
        id="ai",
        tool_calls=[
            {"name": "echo", "args": {"text": "a"}, "id": "c1"},
            {"name": "add", "args": {"a": "x", "b": 2}, "id": "c2"},  # invalid: an error message
        ],
    )
    graph = StateGraph(MessagesState).add_node("tools", ToolNode([echo, add]))
    graph.add_edge(START, "tools")

    events = list(graph.compile().stream({"messages": [request]}, stream_mode="tools"))

    by_call: dict[str, list[str]] = {}
    for event in events:
        by_call.setdefault(event["tool_call_id"], []).append(event["event"])
    assert by_call == {
        "c1": ["tool-started", "tool-finished"],
        "c2": ["tool-started", "tool-error"],
    }


def test_a_tool_paused_by_an_interrupt_reports_no_error_and_runs_again_on_resume() -> None:
    def node(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(content=ask.invoke({"question": "ok?"}), id="r")]}

    graph = _one_node(node, checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}

    first = list(graph.stream({"messages": []}, config, stream_mode="tools"))
    resumed = list(graph.stream(Command(resume="yes"), config, stream_mode="tools"))

    assert [e["event"] for e in first] == ["tool-started"]
    assert [e["event"] for e in resumed] == ["tool-started", "tool-finished"]
    assert resumed[1]["output"] == "yes"


def test_a_tool_tagged_nostream_is_not_streamed() -> None:
    quiet = echo.with_config(tags=["nostream"])

    def node(state: MessagesState) -> dict[str, Any]:
        quiet.invoke({"text": "hidden"})
        echo.invoke({"text": "shown"})
        return {}

    events = list(_one_node(node).stream({"messages": []}, stream_mode="tools"))

    assert [e.get("input") for e in events] == [{"text": "shown"}, None]


def test_tools_is_a_stream_mode_and_a_misspelt_one_is_refused() -> None:
    graph = _one_node(_tools_node)

    modes = [mode for mode, _ in graph.stream({"messages": []}, stream_mode=["updates", "tools"])]
    assert modes == ["tools"] * 6 + ["updates"]
    assert list(graph.stream({"messages": []}, stream_mode="updates")) == [{"_tools_node": None}]
    with pytest.raises(UnknownStreamModeError, match="'tools'"):
        list(graph.stream({"messages": []}, stream_mode="tool"))


@pytest.mark.parametrize("subgraphs", [False, True])
def test_subgraph_tools_stream_under_its_namespace_only_with_subgraphs(subgraphs: bool) -> None:
    parent = StateGraph(MessagesState).add_node("sub", _one_node(_chat_and_echo))
    parent.add_edge(START, "sub")

    parts = parent.compile().stream(
        {"messages": []}, stream_mode=["messages", "tools"], subgraphs=subgraphs, version="v2"
    )

    # without subgraphs, the subgraph's message streams once its node returns it
    expected = [(("sub",), event) for event in _CHAT_AND_ECHO] if subgraphs else [((), "one two")]
    assert [_summary(p) for p in parts] == expected


@pytest.mark.parametrize("nested", [False, True])
def test_task_tools_stream_under_the_entrypoint_namespace(nested: bool) -> None:
    @task
    def chat_and_echo() -> None:
        _chat_and_echo({"messages": []})

    @task
    def outer() -> None:
        chat_and_echo().result()

    @entrypoint()
    def workflow(inputs: dict[str, Any]) -> None:
        (outer() if nested else chat_and_echo()).result()

    parts = workflow.stream({}, stream_mode=["messages", "tools"], subgraphs=True, version="v2")

    assert [_summary(p) for p in parts] == [((), event) for event in _CHAT_AND_ECHO]


@pytest.mark.parametrize("subgraphs", [False, True])
def test_a_graph_a_node_streams_reaches_that_node_and_a_parent_streaming_subgraphs(
    subgraphs: bool,
) -> None:
    child = _one_node(_chat_and_echo)
    received: list[Any] = []

    def node(state: MessagesState) -> dict[str, Any]:
        received.extend(child.stream({"messages": []}, stream_mode=["messages", "tools"]))
        return {}

    parts = _one_node(node).stream(
        {"messages": []}, stream_mode=["messages", "tools"], subgraphs=subgraphs, version="v2"
    )

    expected = [(("node",), event) for event in _CHAT_AND_ECHO] if subgraphs else []
    assert [_summary(p) for p in parts] == expected
    assert [mode for mode, _ in received] == ["tools", "tools", "messages", "messages", "messages"]


@pytest.mark.parametrize("subgraphs", [False, True])
async def test_a_graph_on_its_own_thread_streams_at_the_root_to_a_parent_streaming_subgraphs(
    subgraphs: bool,
) -> None:
    child = _one_node(_achat_and_echo)

    async def node(state: MessagesState) -> dict[str, Any]:
        await child.ainvoke({"messages": []}, {"configurable": {"thread_id": "child"}})
        return {}

    parts = _one_node(node).astream(
        {"messages": []},
        {"configurable": {"thread_id": "parent"}},
        stream_mode=["messages", "tools", "updates"],
        subgraphs=subgraphs,
        version="v2",
    )

    # only what callbacks carry (messages, tools) reaches the parent, at its root namespace
    summary = [_summary(p) for p in [p async for p in parts] if p["type"] != "updates"]
    assert summary == ([((), event) for event in _CHAT_AND_ECHO] if subgraphs else [])
