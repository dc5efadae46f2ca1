"""Async routing functions (LangGraph 1.2.22 behaviour, observed by running the same programs).

Under ``ainvoke``/``astream`` an ``async def`` router is awaited, after sync and async nodes and on
START; under ``invoke`` LangGraph raises ``TypeError('No synchronous function provided to
"<router>". ...')``.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph
from threadloom.types import Send


class State(TypedDict):
    log: Annotated[list[str], operator.add]


async def route_start(state: State) -> list[str]:
    await asyncio.sleep(0)
    return ["a"]


async def route_after_a(state: State) -> str:
    await asyncio.sleep(0.001)  # really suspends
    return "b" if len(state["log"]) < 3 else END


def _graph(async_nodes: bool) -> Any:
    def a(state: State) -> State:
        return {"log": ["a"]}

    async def a_async(state: State) -> State:
        await asyncio.sleep(0)
        return {"log": ["a"]}

    builder = StateGraph(State)
    builder.add_node("a", a_async if async_nodes else a)
    builder.add_node("b", lambda state: {"log": ["b"]})
    builder.add_conditional_edges(START, route_start)
    builder.add_conditional_edges("a", route_after_a)
    builder.add_edge("b", "a")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("async_nodes", [False, True])
def test_async_routers_are_awaited_under_ainvoke(async_nodes: bool) -> None:
    graph = _graph(async_nodes)
    config = {"configurable": {"thread_id": "t"}}
    # the router after "a" sees the log as updated by "a": a, b, a, b, a (then len >= 3 ends)
    assert asyncio.run(graph.ainvoke({"log": []}, config)) == {"log": ["a", "b", "a"]}


def test_async_routers_stream_the_same_updates_as_langgraph() -> None:
    graph = _graph(async_nodes=False)

    async def collect() -> list[Any]:
        config = {"configurable": {"thread_id": "t"}}
        return [c async for c in graph.astream({"log": []}, config, stream_mode="updates")]

    assert asyncio.run(collect()) == [
        {"a": {"log": ["a"]}},
        {"b": {"log": ["b"]}},
        {"a": {"log": ["a"]}},
    ]


def test_an_async_router_under_invoke_is_langgraphs_type_error() -> None:
    graph = _graph(async_nodes=False)
    with pytest.raises(TypeError, match='No synchronous function provided to "route_start"'):
        graph.invoke({"log": []}, {"configurable": {"thread_id": "t"}})


def test_an_async_router_may_ask_for_config_and_return_sends() -> None:
    seen: list[str] = []

    async def fan_out(state: State, config: RunnableConfig) -> list[Send]:
        seen.append(config["configurable"]["who"])
        return [Send("b", {"log": [x]}) for x in ("x", "y")]

    builder = StateGraph(State)
    builder.add_node("a", lambda state: {"log": ["a"]})
    builder.add_node("b", lambda state: {"log": ["b"]})
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", fan_out)
    graph = builder.compile()
    result = asyncio.run(graph.ainvoke({"log": []}, {"configurable": {"who": "me"}}))
    assert result == {"log": ["a", "b", "b"]}
    assert seen == ["me"]
