"""``ToolRuntime``: a tool parameter of that type is filled in by ``ToolNode`` for each call.

Expected values are what LangGraph 1.2.22 gives for the same programs (checked with the import
root swapped): the parameter is hidden from the model's schema; the tool sees the state, the
call's id, the run's context and store and the node's tools; ``emit_output_delta`` streams
``tool-output-delta`` events between the call's start and end when ``tools`` is streamed, and
does nothing otherwise.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict

from threadloom.errors import GraphDrained
from threadloom.graph import END, START, StateGraph
from threadloom.graph.message import add_messages
from threadloom.prebuilt import ToolNode, ToolRuntime
from threadloom.runtime import RunControl
from threadloom.store.memory import InMemoryStore


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]
    user: str


@dataclass
class Context:
    lang: str


@tool
def describe(topic: str, runtime: ToolRuntime[Context, State]) -> str:
    """Say what the tool sees."""
    names = sorted(t.name for t in runtime.tools)
    return (
        f"{topic} for {runtime.state['user']} in {runtime.context.lang}, call "
        f"{runtime.tool_call_id}, tools {names}, store {runtime.store is not None}"
    )


@tool
def spell(word: str, runtime: ToolRuntime) -> str:
    """Stream a word letter by letter."""
    for letter in word:
        runtime.emit_output_delta(letter)
    return word.upper()


@tool
async def aspell(word: str, runtime: ToolRuntime) -> str:
    """Stream a word letter by letter, on the event loop."""
    for letter in word:
        runtime.emit_output_delta(letter)
        await asyncio.sleep(0)
    return word.upper()


def _graph(name: str, args: dict[str, Any], store: Any = None) -> Any:
    def ask(state: State) -> dict[str, Any]:
        call = {"name": name, "args": args, "id": f"call-{name}"}
        return {"messages": [AIMessage("", tool_calls=[call])]}

    builder = StateGraph(State, context_schema=Context)
    builder.add_node("ask", ask)
    builder.add_node("tools", ToolNode([describe, spell, aspell]))
    builder.add_edge(START, "ask")
    builder.add_edge("ask", "tools")
    builder.add_edge("tools", END)
    return builder.compile(store=store)


def test_the_runtime_parameter_is_hidden_from_the_model() -> None:
    assert list(describe.tool_call_schema.model_json_schema()["properties"]) == ["topic"]
    assert list(spell.tool_call_schema.model_json_schema()["properties"]) == ["word"]


def test_the_tool_sees_state_context_call_id_tools_and_store() -> None:
    graph = _graph("describe", {"topic": "news"}, store=InMemoryStore())
    out = graph.invoke({"messages": [], "user": "ana"}, context=Context(lang="pt"))
    assert out["messages"][-1].content == (
        "news for ana in pt, call call-describe, tools ['aspell', 'describe', 'spell'], store True"
    )


def test_output_deltas_stream_between_the_calls_start_and_end() -> None:
    graph = _graph("spell", {"word": "abc"})
    events = [
        chunk
        for chunk in graph.stream(
            {"messages": [], "user": "ana"}, stream_mode="tools", context=Context("en")
        )
    ]
    assert [e["event"] for e in events] == [
        "tool-started",
        "tool-output-delta",
        "tool-output-delta",
        "tool-output-delta",
        "tool-finished",
    ]
    assert [e["delta"] for e in events[1:4]] == ["a", "b", "c"]
    assert {e["tool_call_id"] for e in events} == {"call-spell"}


def test_output_deltas_of_an_async_tool_stream_too() -> None:
    graph = _graph("aspell", {"word": "hi"})

    async def collect() -> list[dict[str, Any]]:
        stream = graph.astream(
            {"messages": [], "user": "ana"}, stream_mode="tools", context=Context("en")
        )
        return [chunk async for chunk in stream]

    events = asyncio.run(collect())
    assert [(e["event"], e.get("delta")) for e in events] == [
        ("tool-started", None),
        ("tool-output-delta", "h"),
        ("tool-output-delta", "i"),
        ("tool-finished", None),
    ]


def test_output_deltas_do_nothing_when_tools_are_not_streamed() -> None:
    graph = _graph("spell", {"word": "ok"})
    chunks = list(
        graph.stream(
            {"messages": [], "user": "ana"},
            stream_mode=["updates", "custom"],
            context=Context("en"),
        )
    )
    assert [mode for mode, _ in chunks] == ["updates", "updates"]
    assert chunks[-1][1]["tools"]["messages"][0].content == "OK"


def test_a_tool_stopped_by_a_drain_is_paused_not_failed() -> None:
    control = RunControl()

    def stop_here(state: State) -> dict[str, Any]:
        control.request_drain("shutting down")
        return {}

    inner = StateGraph(State)
    inner.add_node("stop_here", stop_here)
    inner.add_node("never", lambda state: {})
    inner.add_edge(START, "stop_here")
    inner.add_edge("stop_here", "never")
    drained_graph = inner.compile()

    @tool
    def runs_a_graph() -> str:
        """Run a graph that is drained."""
        drained_graph.invoke({"messages": [], "user": "ana"}, control=control)
        return "not reached"

    def ask(state: State) -> dict[str, Any]:
        call = {"name": "runs_a_graph", "args": {}, "id": "call-1"}
        return {"messages": [AIMessage("", tool_calls=[call])]}

    outer = StateGraph(State)
    outer.add_node("ask", ask)
    outer.add_node("tools", ToolNode([runs_a_graph]))
    outer.add_edge(START, "ask")
    outer.add_edge("ask", "tools")
    graph = outer.compile()
    events: list[str] = []
    with pytest.raises(GraphDrained):
        for chunk in graph.stream({"messages": [], "user": "ana"}, stream_mode="tools"):
            events.append(chunk["event"])
    assert events == ["tool-started"]  # no tool-error: it runs again when the thread resumes
