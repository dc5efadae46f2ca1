"""``ToolCallTransformer`` gives a v3 event stream's tool calls as handles on ``run.tool_calls``,
as langgraph-prebuilt 1.1.3's does (this file runs unchanged on LangGraph 1.2.22 with the import
root swapped: ``benchmarks/setup.sh``'s ``.bench-venv``)."""

import asyncio
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from typing_extensions import TypedDict

from threadloom.graph import END, START, StateGraph
from threadloom.graph.message import add_messages
from threadloom.prebuilt import ToolCallTransformer, ToolNode, ToolRuntime


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]


def graph_calling(*tools: Any, args: dict[str, Any]) -> Any:
    def caller(state: State) -> dict[str, Any]:
        call = {"name": tools[0].name, "args": args, "id": "t1"}
        return {"messages": [AIMessage("", tool_calls=[call])]}

    builder = StateGraph(State).add_node("caller", caller).add_node("tools", ToolNode(list(tools)))
    return (
        builder.add_edge(START, "caller")
        .add_edge("caller", "tools")
        .add_edge("tools", END)
        .compile()
    )


@tool
def count_to(n: int, runtime: ToolRuntime) -> int:
    """Streams the numbers up to n, then gives n."""
    for i in range(1, n + 1):
        runtime.emit_output_delta(i)
    return n


@tool
async def acount_to(n: int, runtime: ToolRuntime) -> str:
    """Streams the numbers up to n on the event loop, then says how many."""
    for i in range(n):
        runtime.emit_output_delta(i + 1)
    return f"{n} numbers"


@tool
def boom() -> str:
    """Always fails."""
    raise ValueError("nope")


def test_each_call_streams_its_deltas_then_its_output() -> None:
    run = graph_calling(count_to, args={"n": 3}).stream_events(
        {"messages": []}, transformers=[ToolCallTransformer], version="v3"
    )
    seen = [
        (call.tool_call_id, call.tool_name, call.input, list(call.output_deltas), call)
        for call in run.tool_calls
    ]
    ((call_id, name, given, deltas, handle),) = seen
    assert (call_id, name, given, deltas) == ("t1", "count_to", {"n": 3}, [1, 2, 3])
    assert (handle.completed, handle.output, handle.error) == (True, "3", None)
    assert (
        "tool_calls"
        not in graph_calling(count_to, args={"n": 1})
        .stream_events({"messages": []}, version="v3")
        .extensions
    )


def test_an_async_run_gives_async_handles() -> None:
    async def main() -> list[Any]:
        run = await graph_calling(acount_to, args={"n": 2}).astream_events(
            {"messages": []}, transformers=[ToolCallTransformer], version="v3"
        )
        return [
            ([d async for d in call.output_deltas], call.output) async for call in run.tool_calls
        ]

    assert asyncio.run(main()) == [([1, 2], "2 numbers")]


def test_a_failing_call_ends_with_its_error() -> None:
    run = graph_calling(boom, args={}).stream_events(
        {"messages": []}, transformers=[ToolCallTransformer], version="v3"
    )
    handles = []
    with pytest.raises(ValueError, match="nope"):
        for call in run.tool_calls:
            handles.append(call)
            list(call.output_deltas)
    assert [(h.completed, h.error, h.output) for h in handles] == [(True, "nope", None)]
