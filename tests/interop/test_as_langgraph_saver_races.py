"""LangGraph's engine calls a saver in its own order and from its own threads and tasks: what
``as_langgraph_saver`` must store whatever that order. LangGraph hands ``put`` the live objects
of its channels and runs its next step while the put waits for the connection; the value stored
is the one of the call."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest
from interop_backends import Storage, open_saver
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.types import Command, Send, interrupt

from threadloom.interop.langgraph import as_langgraph_saver

ASYNC_BACKENDS = ["memory", "sqlite_async", "postgres_async"]


@pytest.mark.parametrize("backend", ASYNC_BACKENDS)
async def test_values_changed_while_the_put_waits_are_stored_as_they_were_at_the_call(
    backend: str, new_storage: Storage
) -> None:
    # the objects LangGraph's channels change in place: a join's barrier (NamedBarrierValue),
    # the same after finish (a (set, finished) pair), an accumulating Topic's list
    seen, after, topic = {"a"}, {"a"}, [1]
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"join": seen, "after": (after, False), "topic": topic}
    versions = {"join": "1", "after": "1", "topic": "1"}
    checkpoint["channel_versions"] = versions
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    async with open_saver(backend, new_storage()) as saver:
        wrapper = as_langgraph_saver(saver)
        put = asyncio.create_task(wrapper.aput(config, checkpoint, {}, versions))
        await asyncio.sleep(0)  # the put has started, and waits for the connection
        seen.add("b")  # LangGraph's next step, applying its writes
        after.add("b")
        topic.append(2)
        stored = await wrapper.aget_tuple(await put)
    assert stored is not None
    assert stored.checkpoint["channel_values"] == {
        "join": {"a"},
        "after": ({"a"}, False),
        "topic": [1],
    }


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def _joined_graph(checkpointer: Any) -> Any:
    """Two branches and a Send fan-out joined by one node (a barrier); one branch asks."""

    def ask(state: Log) -> dict[str, Any]:
        return {"log": [f"ask:{interrupt('ok?')}"]}

    def fan(state: Log) -> list[Send]:
        return [Send("work", {"log": [str(i)]}) for i in range(2)]

    builder = StateGraph(Log)
    builder.add_node("ask", ask)
    builder.add_node("plain", lambda state: {"log": ["plain"]})
    builder.add_node("work", lambda state: {"log": [f"work{state['log'][-1]}"]})
    builder.add_node("join", lambda state: {"log": ["join"]})
    builder.add_edge(START, "ask")
    builder.add_edge(START, "plain")
    builder.add_conditional_edges("plain", fan, ["work"])
    builder.add_edge(["ask", "work"], "join")
    return builder.compile(checkpointer=checkpointer)


async def _history(checkpointer: Any) -> list[Any]:
    graph = _joined_graph(checkpointer)
    config: Any = {"configurable": {"thread_id": "t"}}
    await graph.ainvoke({"log": []}, config)
    await graph.ainvoke(Command(resume="yes"), config)
    return [
        (state.metadata["step"], sorted(state.values["log"]), sorted(state.next))
        async for state in graph.aget_state_history(config)
    ]


@pytest.mark.parametrize("backend", ASYNC_BACKENDS)
async def test_a_join_s_history_on_langgraph_s_async_engine_is_langgraph_s(
    backend: str, new_storage: Storage
) -> None:
    async with open_saver(backend, new_storage()) as saver:
        got = await _history(as_langgraph_saver(saver))
    expected = await _history(LangGraphInMemorySaver())
    assert got == expected
    assert ["work", "work"] in [next_ for _step, _log, next_ in got]  # join waits for them
