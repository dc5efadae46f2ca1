"""Which compiled graph a node function runs, found from its bytecode as LangGraph finds it: a
closure variable, a global the function loads, an attribute path from either; not a ``self``
attribute, a subscript, or a global only a nested function loads. Each row was checked against
LangGraph 1.2.22's ``nodes[name].subgraphs`` on the same function."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from threadloom.graph import START, StateGraph


class State(TypedDict, total=False):
    n: int


def named(tag: str) -> Any:
    graph = StateGraph(State).add_node(tag, lambda s: {"n": 1}).add_edge(START, tag).compile()
    graph.name = tag
    return graph


class Holder:
    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def method_node(self, state: State) -> Any:
        return self.payload.invoke(state)


GLOBAL_GRAPH = named("global")
GLOBAL_PATH = Holder(Holder(named("path")))
GLOBAL_LIST = [named("listed")]


def detected(node: Any) -> str | None:
    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    found = graph.nodes["n"].subgraphs
    return found[0].name if found else None


def by_closure() -> Any:
    sub = named("closure")
    return lambda state: sub.invoke(state)


def by_global() -> Any:
    def node(state: State) -> Any:
        return GLOBAL_GRAPH.invoke(state)

    return node


def by_path() -> Any:
    def node(state: State) -> Any:
        return GLOBAL_PATH.payload.payload.invoke(state)

    return node


def by_closure_path_in_nested_function() -> Any:
    box = Holder(named("nested"))

    def node(state: State) -> Any:
        def inner() -> Any:
            return box.payload.invoke(state)

        return inner()

    return node


def by_wrapped() -> Any:
    sub = named("wrapped")

    def inner(state: State) -> Any:
        return sub.invoke(state)

    def wrapper(state: State) -> Any:
        return {}

    wrapper.__wrapped__ = inner  # type: ignore[attr-defined]
    return wrapper


def beside_an_empty_cell() -> Any:
    sub = named("beside_empty")

    def node(state: State) -> Any:
        return later, sub.invoke(state)

    return node
    later = 1  # never runs: ``later``'s cell stays empty


def without_source() -> Any:
    scope: dict[str, Any] = {"G": named("no_source")}
    exec(compile("def node(state):\n    return G.invoke(state)\n", "<generated>", "exec"), scope)
    return scope["node"]


async def awaiting(state: State) -> Any:
    return await GLOBAL_GRAPH.ainvoke(state)


def global_in_nested_function() -> Any:
    def node(state: State) -> Any:
        def inner() -> Any:
            return GLOBAL_GRAPH.invoke(state)

        return inner()

    return node


def by_subscript() -> Any:
    return lambda state: GLOBAL_LIST[0].invoke(state)


def dead_path() -> Any:
    box = Holder(named("dead"))

    def node(state: State) -> Any:
        if False:
            box.payload.invoke(state)  # the compiler drops this
        return {}

    return node


def plain() -> Any:
    return lambda state: {"n": len("ab")}


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (by_closure, "closure"),
        (by_global, "global"),
        (by_path, "path"),
        (by_closure_path_in_nested_function, "nested"),
        (by_wrapped, "wrapped"),
        (beside_an_empty_cell, "beside_empty"),
        (without_source, "no_source"),
        (lambda: awaiting, "global"),
        (lambda: Holder(named("self")).method_node, None),
        (global_in_nested_function, None),
        (by_subscript, None),
        (dead_path, None),
        (plain, None),
    ],
)
def test_the_graph_a_node_function_names(make: Any, expected: str | None) -> None:
    assert detected(make()) == expected


def test_a_graph_without_state_is_not_a_subgraph() -> None:
    sub = StateGraph(State).add_node("a", lambda s: {"n": 1}).add_edge(START, "a")
    stateless = sub.compile(checkpointer=False)
    assert detected(stateless) is None
    assert detected(lambda state: stateless.invoke(state)) is None
    assert detected(named("as_node")) == "as_node"


def nested_graphs() -> tuple[Any, dict[str, Any]]:
    inner = named("inner")
    middle = StateGraph(State).add_node("deep", inner).add_edge(START, "deep").compile()
    top = StateGraph(State).add_node("mid", middle).add_node("mid_b", named("mid_b"))
    top.add_node("plain", lambda s: {"n": 2}).add_edge(START, "mid").add_edge(START, "mid_b")
    graph = top.add_edge(START, "plain").compile()
    return graph, {"mid": middle, "mid|deep": inner, "mid_b": graph.nodes["mid_b"].subgraphs[0]}


def test_get_subgraphs_by_whole_namespace_parts() -> None:
    graph, graphs = nested_graphs()
    assert list(graph.get_subgraphs()) == [("mid", graphs["mid"]), ("mid_b", graphs["mid_b"])]
    assert list(graph.get_subgraphs(recurse=True)) == list(graphs.items())
    for namespace, found in graphs.items():
        assert list(graph.get_subgraphs(namespace=namespace, recurse=True)) == [(namespace, found)]
    assert list(graph.get_subgraphs(namespace="mid|deep")) == []  # deeper needs recurse
    assert list(graph.get_subgraphs(namespace="plain")) == []


async def test_aget_subgraphs() -> None:
    graph, graphs = nested_graphs()
    found = [item async for item in graph.aget_subgraphs(namespace="mid|deep", recurse=True)]
    assert found == [("mid|deep", graphs["mid|deep"])]
