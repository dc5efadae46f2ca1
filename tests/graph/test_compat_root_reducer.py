"""A root (non-dict) state schema honours its reducer (LangGraph 1.2.22 behaviour).

``StateGraph(Annotated[list, operator.add])`` takes two writes in one step, and an
``add_messages`` root applies ``RemoveMessage`` given to ``update_state``.
"""

from __future__ import annotations

import operator
from typing import Annotated

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph, add_messages


def test_a_root_reducer_takes_two_writes_in_one_step() -> None:
    builder = StateGraph(Annotated[list, operator.add])
    builder.add_node("a", lambda state: [1])
    builder.add_node("b", lambda state: [2])
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    assert builder.compile().invoke([0]) == [0, 1, 2]


def test_update_state_removes_a_message_from_an_add_messages_root() -> None:
    builder = StateGraph(Annotated[list, add_messages])
    builder.add_node("reply", lambda state: [AIMessage("hi", id="2")])
    builder.add_edge(START, "reply")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert [m.id for m in graph.invoke([HumanMessage("x", id="1")], config)] == ["1", "2"]
    graph.update_state(config, [RemoveMessage(id="1")])
    assert [(m.id, m.content) for m in graph.get_state(config).values] == [("2", "hi")]
