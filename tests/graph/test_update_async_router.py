"""``aupdate_state`` as a node whose conditional edge is an ``async def`` router (LangGraph 1.2.22
behaviour, observed by running the same programs with both import roots).

The async state API awaits the router on the state as updated, so the next node is the one the
router picks for the new values; ``update_state`` refuses it with LangGraph's ``TypeError`` and
saves nothing.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.graph import END, START, StateGraph
from threadloom.types import StateUpdate


class State(TypedDict):
    docs: Annotated[list[str], operator.add]


async def route_on_count(state: State) -> str:
    await asyncio.sleep(0)  # really suspends: only an awaiting caller gets its result
    return "short" if len(state["docs"]) < 3 else "long"


def _graph(saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("a", lambda state: {"docs": ["a"]})
    builder.add_node("short", lambda state: {"docs": ["short"]})
    builder.add_node("long", lambda state: {"docs": ["long"]})
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", route_on_count)
    return builder.compile(checkpointer=saver, interrupt_after=["a"])


@pytest.fixture(params=["memory", "sqlite"])
async def saver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
        return
    async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "t.db")) as found:
        yield found


async def test_aupdate_state_awaits_the_router_on_the_updated_state(saver: Any) -> None:
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"docs": []}, config)
    assert (await graph.aget_state(config)).next == ("short",)  # one doc: the run's routing

    await graph.aupdate_state(config, {"docs": ["x", "y"]}, as_node="a")
    state = await graph.aget_state(config)
    assert state.values == {"docs": ["a", "x", "y"]}
    assert state.next == ("long",)  # the router saw the three docs of the update
    assert state.metadata["source"] == "update"
    assert await graph.ainvoke(None, config) == {"docs": ["a", "x", "y", "long"]}


async def test_abulk_update_state_awaits_the_router_of_each_superstep(saver: Any) -> None:
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"docs": []}, config)
    await graph.abulk_update_state(
        config, [[StateUpdate({"docs": ["x"]}, "a")], [StateUpdate({"docs": ["y"]}, "a")]]
    )
    history = [s async for s in graph.aget_state_history(config)]
    # newest first: after the 2nd update three docs (long), after the 1st two (short)
    assert [(s.values["docs"], s.next) for s in history[:2]] == [
        (["a", "x", "y"], ("long",)),
        (["a", "x"], ("short",)),
    ]


async def test_update_state_refuses_an_async_router_and_saves_nothing(saver: Any) -> None:
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"docs": []}, config)
    head = (await graph.aget_state(config)).config
    # the sync state API cannot await the router: it runs in a worker thread here only because
    # an async saver's sync methods refuse the event loop's own thread
    with pytest.raises(TypeError, match='No synchronous function provided to "route_on_count"'):
        await asyncio.to_thread(graph.update_state, config, {"docs": ["x"]}, "a")
    assert (await graph.aget_state(config)).config == head


async def test_aupdate_state_as_start_awaits_a_start_router_with_config() -> None:
    seen: list[Any] = []

    async def route_start(state: State, config: RunnableConfig) -> list[str]:
        seen.append(config["configurable"]["thread_id"])
        await asyncio.sleep(0)
        return ["b"] if "go-b" in state["docs"] else ["a"]

    builder = StateGraph(State)
    builder.add_node("a", lambda state: {"docs": ["a"]})
    builder.add_node("b", lambda state: {"docs": ["b"]})
    builder.add_conditional_edges(START, route_start)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}

    await graph.aupdate_state(config, {"docs": ["go-b"]}, as_node=START)
    state = await graph.aget_state(config)
    assert (state.next, state.metadata["step"]) == (("b",), 0)
    assert seen == ["t"]
    assert await graph.ainvoke(None, config) == {"docs": ["go-b", "b"]}


async def test_a_pydantic_state_reaches_the_async_router_as_the_model() -> None:
    class Doc(BaseModel):
        docs: Annotated[list[str], operator.add] = []

    async def decide(state: Doc) -> str:
        assert isinstance(state, Doc)
        return END if "stop" in state.docs else "a"

    builder = StateGraph(Doc)
    builder.add_node("a", lambda state: {"docs": ["a"]})
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", decide)
    graph = builder.compile(checkpointer=InMemorySaver(), interrupt_after=["a"])
    config = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"docs": []}, config)
    assert (await graph.aget_state(config)).next == ("a",)

    await graph.aupdate_state(config, {"docs": ["stop"]}, as_node="a")
    assert (await graph.aget_state(config)).next == ()
