"""The state API on a subgraph's task config (``get_state(config).tasks[i].state``), for a
subgraph compiled with ``checkpointer=True`` (one history per thread, stored under the node's
name) as for one without: history and updates reach the subgraph's checkpoints, as in
LangGraph 1.2.22 (its tests/test_delta_channel_subgraph.py checks the same). Passes on LangGraph
with the import root swapped."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def paused_app(subgraph_checkpointer: bool | None) -> Any:
    inner = StateGraph(State)
    inner.add_node("a", lambda state: {"log": ["a1"]}).add_node("b", lambda state: {"log": ["b1"]})
    inner.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)
    child = inner.compile(checkpointer=subgraph_checkpointer, interrupt_before=["b"])
    outer = StateGraph(State).add_node("child", child)
    app = outer.add_edge(START, "child").add_edge("child", END).compile(InMemorySaver())
    app.invoke({"log": []}, CONFIG)
    return app


CONFIG: Any = {"configurable": {"thread_id": "1"}}
PERSISTENCE = pytest.mark.parametrize("subgraph_checkpointer", [None, True])


@PERSISTENCE
def test_history_from_a_subgraphs_task_config(subgraph_checkpointer: bool | None) -> None:
    app = paused_app(subgraph_checkpointer)
    (task,) = app.get_state(CONFIG).tasks
    history = [s.values for s in app.get_state_history(task.state)]
    assert history[:2] == [{"log": ["a1"]}, {"log": []}]
    assert app.get_state(task.state).values == {"log": ["a1"]}


@PERSISTENCE
def test_update_from_a_subgraphs_task_config(subgraph_checkpointer: bool | None) -> None:
    app = paused_app(subgraph_checkpointer)
    (task,) = app.get_state(CONFIG).tasks
    app.update_state(task.state, {"log": ["edit"]}, as_node="a")
    (task,) = app.get_state(CONFIG, subgraphs=True).tasks
    assert task.state.values == {"log": ["a1", "edit"]}
    assert app.invoke(None, CONFIG) == {"log": ["a1", "edit", "b1"]}


@PERSISTENCE
async def test_the_async_state_api_too(subgraph_checkpointer: bool | None) -> None:
    app = paused_app(subgraph_checkpointer)
    (task,) = (await app.aget_state(CONFIG)).tasks
    await app.aupdate_state(task.state, {"log": ["edit"]}, as_node="a")
    history = [s.values async for s in app.aget_state_history(task.state)]
    assert history[0] == {"log": ["a1", "edit"]}
