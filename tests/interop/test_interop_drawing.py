"""Side by side: the same programs drawn by LangGraph and by threadloom give the same mermaid text,
and the same node caching chunks.

Each program is written once against an import root (``langgraph`` or ``threadloom``); only this
folder imports LangGraph.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable
from types import ModuleType
from typing import Annotated, Any, Literal, TypedDict

import pytest

pytest.importorskip("langgraph")


class S(TypedDict):
    x: Annotated[list[int], operator.add]


def n(state: S) -> dict[str, Any]:
    return {"x": [1]}


def route(state: S) -> Literal["b", "c"]:
    return "b"


def route_end(state: S) -> Literal["b", "__end__"]:
    return "b"


class Root:
    def __init__(self, name: str) -> None:
        self.graph: ModuleType = importlib.import_module(f"{name}.graph")
        self.types: ModuleType = importlib.import_module(f"{name}.types")
        self.func: ModuleType = importlib.import_module(f"{name}.func")
        self.memory: ModuleType = importlib.import_module(f"{name}.cache.memory")

    def builder(self, names: str) -> Any:
        builder = self.graph.StateGraph(S)
        for name in names:
            builder.add_node(name, n)
        return builder


def linear(r: Root) -> Any:
    return r.builder("ab").add_edge("__start__", "a").add_edge("a", "b").compile()


def path_map(r: Root) -> Any:
    b = r.builder("abc").add_edge("__start__", "a")
    b.add_conditional_edges("a", route, {"go": "b", "other": "c", "stop": "__end__"})
    return b.add_edge("b", "__end__").compile()


def literal(r: Root) -> Any:
    b = r.builder("abc").add_edge("__start__", "a").add_conditional_edges("a", route)
    b.add_conditional_edges("a", route_end)
    return b.add_edge("c", "__end__").compile()


def command(r: Root) -> Any:
    def hand_off(state: S) -> Any:
        return r.types.Command(goto="b")

    hand_off.__annotations__["return"] = r.types.Command[Literal["b", "__end__"]]
    b = r.graph.StateGraph(S).add_node("a", hand_off).add_node("b", n)
    return b.add_edge("__start__", "a").compile()


def join_and_defer(r: Root) -> Any:
    b = r.builder("abc").add_node("d", n, defer=True).add_node("e", n)
    b.add_edge("__start__", "a").add_edge("a", "b").add_edge("a", "c")
    b.add_edge(["b", "c"], "e").add_edge("a", "d").add_edge("e", "d")
    return b.compile(interrupt_before=["b"], interrupt_after=["c"])


def cycle(r: Root) -> Any:
    return (
        r.builder("abc").add_edge("__start__", "a").add_edge("a", "b").add_edge("b", "a").compile()
    )


def nested(r: Root) -> Any:
    inner = r.graph.StateGraph(S).add_node("p", n).add_node("b", n)
    inner.add_edge("__start__", "p").add_conditional_edges("p", route_end)
    middle = r.builder("m").add_node("inner", inner.compile())
    middle.add_edge("__start__", "m").add_edge("m", "inner")
    outer = r.builder("az").add_node("middle", middle.compile())
    outer.add_edge("__start__", "a").add_edge("a", "middle").add_edge("middle", "z")
    return outer.compile()


def functional(r: Root) -> Any:
    @r.func.entrypoint()
    def wf(x: int) -> int:
        return x

    return wf


PROGRAMS: list[Callable[[Root], Any]] = [
    linear,
    path_map,
    literal,
    command,
    join_and_defer,
    cycle,
    nested,
    functional,
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("xray", [False, True, 1])
def test_mermaid_text_is_langgraphs(program: Callable[[Root], Any], xray: int | bool) -> None:
    ours = program(Root("threadloom")).get_graph(xray=xray).draw_mermaid()
    theirs = program(Root("langgraph")).get_graph(xray=xray).draw_mermaid()
    assert ours == theirs


def cached_chunks(r: Root) -> list[Any]:
    calls: list[str] = []

    class T(TypedDict):
        x: int

    def a(state: T) -> dict[str, Any]:
        calls.append("a")
        return {"x": state["x"] + 1}

    b = r.graph.StateGraph(T).add_node("a", a, cache_policy=r.types.CachePolicy())
    graph = b.add_edge("__start__", "a").compile(cache=r.memory.InMemoryCache())
    chunks = [list(graph.stream({"x": 1}, stream_mode=["updates", "values"])) for _ in range(2)]
    graph.clear_cache(["a"])
    chunks.append(list(graph.stream({"x": 1})))
    return [chunks, calls]


def test_node_cache_chunks_are_langgraphs() -> None:
    assert cached_chunks(Root("threadloom")) == cached_chunks(Root("langgraph"))
