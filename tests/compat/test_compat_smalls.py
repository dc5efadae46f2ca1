"""Small calling details that match LangGraph 1.2.22 (issue 10, group 5).

Expected values were observed by running the same programs on LangGraph 1.2.22.
"""

from __future__ import annotations

from typing import Any, TypedDict
from unittest.mock import Mock

from langchain_core.runnables import RunnableConfig, RunnableLambda

from threadloom.graph import START, StateGraph


class _S(TypedDict):
    x: int


def _tag_graph(seen: list[list[str]]) -> Any:
    def node(state: _S, config: RunnableConfig) -> dict[str, int]:
        seen.append(sorted(config.get("tags") or []))
        return {"x": state["x"] + 1}

    return StateGraph(_S).add_node("a", node).add_edge(START, "a").compile()


async def test_with_config_tags_are_kept_when_the_call_passes_its_own() -> None:
    seen: list[list[str]] = []
    graph = _tag_graph(seen).with_config(tags=["base"])
    graph.invoke({"x": 1}, {"tags": ["call"]})
    await graph.ainvoke({"x": 1}, {"tags": ["call"]})
    await graph.ainvoke({"x": 1})
    assert seen == [["base", "call"], ["base", "call"], ["base"]]


def test_tags_reach_a_node_three_subgraphs_deep_once() -> None:
    class State(TypedDict):
        copies: int

    def leaf(state: State, config: RunnableConfig) -> State:
        return {"copies": config["tags"].count("my-tag")}

    graph: Any = StateGraph(State).add_node("leaf", leaf).add_edge(START, "leaf").compile()
    for _ in range(3):
        graph = StateGraph(State).add_node("sub", graph).add_edge(START, "sub").compile()
    assert graph.invoke({"copies": 0}, {"tags": ["my-tag"]}) == {"copies": 1}


def test_a_mock_node_is_called_as_a_function() -> None:
    node = Mock(return_value={"x": 5})
    graph = StateGraph(_S).add_node("m", node).add_edge(START, "m").compile()
    assert graph.invoke({"x": 1}) == {"x": 5}
    assert node.call_count == 1
    assert node.invoke.call_count == 0


def test_a_runnable_node_is_still_invoked() -> None:
    node = RunnableLambda(lambda state: {"x": state["x"] * 10})
    graph = StateGraph(_S).add_node("r", node).add_edge(START, "r").compile()
    assert graph.invoke({"x": 2}) == {"x": 20}
