"""What a routing function is given (LangGraph 1.2.22 behaviour, observed on the same programs).

A router reads the graph's state (its state schema: a pydantic state comes as the model) with the
node's writes applied, never the node's own input schema nor START's raw input. When the state is
a dict and the node returned a dict, the router also sees the returned keys that are not state
keys (state values win).
"""

from __future__ import annotations

import asyncio
import operator
import warnings
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph


class State(TypedDict):
    a: int


class Private(TypedDict):
    secret: int


def test_a_router_sees_the_extra_keys_its_node_returned() -> None:
    seen: list[Any] = []

    def node(state: State) -> Private:
        return {"a": 1, "secret": 5, "unknown": 7}  # type: ignore[typeddict-unknown-key]

    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_conditional_edges("node", lambda s: seen.append(s) or END)
    assert builder.compile().invoke({"a": 0}) == {"a": 1}
    assert seen == [{"a": 1, "secret": 5, "unknown": 7}]


class Model(BaseModel):
    x: int = 0
    y: str = "d"


@pytest.mark.parametrize("run", ["invoke", "ainvoke"])
def test_a_start_router_on_a_pydantic_state_gets_the_model(run: str) -> None:
    seen: list[Any] = []

    async def arouter(state: Model) -> str:
        seen.append(state)
        return "node"

    def router(state: Model) -> str:
        seen.append(state)
        return "node"

    builder = StateGraph(Model)
    builder.add_node("node", lambda s: {"x": s.x + 1})
    builder.add_conditional_edges(START, arouter if run == "ainvoke" else router)
    builder.add_edge("node", END)
    graph = builder.compile()
    result = graph.invoke({"x": 3}) if run == "invoke" else asyncio.run(graph.ainvoke({"x": 3}))
    assert result == {"x": 4}
    assert seen == [Model(x=3, y="d")]


class Input(TypedDict):
    q: int


class Full(TypedDict):
    q: int
    total: Annotated[int, operator.add]


def test_a_start_router_gets_the_state_and_the_inputs_extra_keys() -> None:
    seen: list[Any] = []
    builder = StateGraph(Full, input_schema=Input)
    builder.add_node("node", lambda s: {"total": 1})
    builder.add_conditional_edges(START, lambda s: seen.append(dict(s)) or "node")
    builder.add_edge("node", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    with warnings.catch_warnings():  # threadloom warns that the unknown key is dropped
        warnings.simplefilter("ignore")
        graph.invoke({"q": 1, "junk": 2}, config)
    graph.invoke({"q": 2}, config)
    # the second run's router sees the thread's state (total from the first run), not the input
    assert seen == [{"q": 1, "junk": 2, "total": 0}, {"q": 2, "total": 1}]


class Both(TypedDict):
    a: int
    b: int


class OnlyA(TypedDict):
    a: int


def test_a_router_after_a_node_with_its_own_input_schema_gets_the_graph_state() -> None:
    seen: list[Any] = []

    def node(state: OnlyA) -> dict[str, int]:
        assert set(state) == {"a"}
        return {"b": state["a"] + 1}

    builder = StateGraph(Both)
    builder.add_node("node", node, input_schema=OnlyA)
    builder.add_edge(START, "node")
    builder.add_conditional_edges("node", lambda s: seen.append(s) or END)
    assert builder.compile().invoke({"a": 1, "b": 0}) == {"a": 1, "b": 2}
    assert seen == [{"a": 1, "b": 2}]
