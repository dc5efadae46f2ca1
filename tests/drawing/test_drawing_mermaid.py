"""``get_graph(xray=...)`` draws what LangGraph 1.2.22 draws for the same program.

Each expected drawing below is the ``draw_mermaid()`` text LangGraph 1.2.22 printed for the same
program (observed side by side; tests/interop/test_interop_drawing.py compares live when
LangGraph is installed). ``body`` strips the fixed header and class definitions.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, Literal, TypedDict

import pytest
from langchain_core.runnables.graph import Graph
from langchain_core.tools import tool

from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph
from threadloom.prebuilt import ToolNode
from threadloom.types import Command, Send


class S(TypedDict):
    x: Annotated[list[int], operator.add]


def n(state: S) -> dict[str, Any]:
    return {"x": [1]}


def body(graph: Any, xray: int | bool = False) -> list[str]:
    text = graph.get_graph(xray=xray).draw_mermaid()
    lines = text.split("graph TD;\n")[1].split("\tclassDef")[0]
    return [line.removeprefix("\t") for line in lines.splitlines()]


def nodes(builder: StateGraph[Any], names: str) -> StateGraph[Any]:
    for name in names:
        builder.add_node(name, n)
    return builder


def test_the_whole_text_of_a_linear_graph() -> None:
    builder = nodes(StateGraph(S), "ab")
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)
    drawing = builder.compile().get_graph()
    assert isinstance(drawing, Graph)
    assert drawing.draw_mermaid() == (
        "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
        "\t__start__([<p>__start__</p>]):::first\n\ta(a)\n\tb(b)\n"
        "\t__end__([<p>__end__</p>]):::last\n"
        "\t__start__ --> a;\n\ta --> b;\n\tb --> __end__;\n"
        "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
        "\tclassDef first fill-opacity:0\n\tclassDef last fill:#bfb6fc\n"
    )


def test_path_map_keys_label_the_dotted_edges() -> None:
    builder = nodes(StateGraph(S), "abc")
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", lambda s: "b", {"go": "b", "other": "c", "stop": END})
    builder.add_edge("b", END)
    assert body(builder.compile())[5:] == [
        "__start__ --> a;",
        "a -. &nbsp;stop&nbsp; .-> __end__;",
        "a -. &nbsp;go&nbsp; .-> b;",
        "a -. &nbsp;other&nbsp; .-> c;",
        "b --> __end__;",
        "c --> __end__;",
    ]


def test_a_literal_return_annotation_gives_the_targets() -> None:
    def route(state: S) -> Literal["b", "__end__"]:
        return "b"

    builder = nodes(StateGraph(S), "ab")
    builder.add_edge(START, "a").add_conditional_edges("a", route).add_edge("b", "a")
    assert body(builder.compile()) == [
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "b(b)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a -.-> __end__;",
        "a -.-> b;",
        "b --> a;",
    ]


def test_a_router_that_declares_no_targets_draws_no_edge() -> None:
    builder = nodes(StateGraph(S), "abc")
    builder.add_edge(START, "a").add_conditional_edges("a", lambda s: "b").add_edge("b", END)
    assert body(builder.compile()) == [
        "__start__(<p>__start__</p>)",
        "a(a)",
        "b(b)",
        "c(c)",
        "__end__(<p>__end__</p>)",
        "__start__ --> a;",
        "a --> __end__;",
    ]


def test_command_annotations_and_destinations_are_dotted_edges() -> None:
    def hand_off(state: S) -> Command[Literal["b", "c"]]:
        return Command(goto="b")

    annotated = StateGraph(S).add_node("a", hand_off)
    nodes(annotated, "bc").add_edge(START, "a").add_edge("b", END)
    expected_edges = ["__start__ --> a;", "a -.-> b;", "a -.-> c;"]
    assert body(annotated.compile())[5:8] == expected_edges
    labelled = StateGraph(S).add_node("a", n, destinations={"b": "to b", "c": "to c"})
    nodes(labelled, "bc").add_edge(START, "a")
    assert body(labelled.compile())[5:] == [
        "__start__ --> a;",
        "a -. &nbsp;to b&nbsp; .-> b;",
        "a -. &nbsp;to c&nbsp; .-> c;",
        "b --> __end__;",
        "c --> __end__;",
    ]


def test_joins_sends_and_plain_edges_to_end() -> None:
    builder = nodes(StateGraph(S), "abcd")
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("a", "c")
    builder.add_edge(["b", "c"], "d").add_edge("d", END)
    assert body(builder.compile())[6:] == [
        "__start__ --> a;",
        "a --> b;",
        "a --> c;",
        "b --> d;",
        "c --> d;",
        "d --> __end__;",
    ]

    def fan(state: S) -> list[Send]:
        return [Send("w", state)]

    sends = nodes(StateGraph(S), "aw")
    sends.add_edge(START, "a").add_conditional_edges("a", fan, ["w"]).add_edge("w", END)
    assert body(sends.compile())[4:] == ["__start__ --> a;", "a -.-> w;", "w --> __end__;"]

    def route(state: S) -> Literal["b", "c"]:
        return "b"

    # a node with other ways out shows no edge to END, as in LangGraph's drawings
    both = nodes(StateGraph(S), "abc")
    both.add_edge(START, "a").add_conditional_edges("a", route).add_edge("a", END)
    assert body(both.compile())[5:] == [
        "__start__ --> a;",
        "a -.-> b;",
        "a -.-> c;",
        "b --> __end__;",
        "c --> __end__;",
    ]


def test_unreachable_nodes_and_endless_cycles() -> None:
    unreachable = nodes(StateGraph(S), "azy")
    unreachable.add_edge(START, "a").add_edge("z", "y")
    assert body(unreachable.compile())[5:] == ["__start__ --> a;", "a --> __end__;"]
    cycle = nodes(StateGraph(S), "ab")
    cycle.add_edge(START, "a").add_edge("a", "b").add_edge("b", "a")
    assert body(cycle.compile())[4:] == [
        "__start__ --> a;",
        "a --> b;",
        "b --> a;",
        "b -.-> __end__;",
    ]


def test_node_metadata_defer_interrupts_and_tools() -> None:
    builder = StateGraph(S).add_node("a", n).add_node("b", n, metadata={"k": "v"})
    builder.add_node("c", n).add_node("d", n, defer=True)
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", "c").add_edge("c", "d")
    graph = builder.compile(interrupt_before=["b"], interrupt_after=["b", "c"])
    assert body(graph)[1:5] == [
        "a(a)",
        "b(b<hr/><small><em>k = v",
        "__interrupt = before,after</em></small>)",
        "c(c<hr/><small><em>__interrupt = after</em></small>)",
    ]
    assert body(graph)[5] == "d(d<hr/><small><em>defer = True</em></small>)"
    star = nodes(StateGraph(S), "a").add_edge(START, "a").compile(interrupt_before="*")
    assert body(star)[1] == "a(a)"  # "*" marks no node, as in LangGraph's drawings

    @tool
    def ping(x: str) -> str:
        """Answer with x."""
        return x

    agent = StateGraph(S).add_node("agent", n).add_node("tools", ToolNode([ping]))
    agent.add_edge(START, "agent").add_edge("agent", "tools")
    assert body(agent.compile())[2] == "tools(tools<hr/><small><em>__tools = ping</em></small>)"


def subgraph() -> Any:
    def route(state: S) -> str:
        return "s2"

    inner = nodes(StateGraph(S), ["s1", "s2"])  # type: ignore[arg-type]
    inner.add_edge(START, "s1").add_conditional_edges("s1", route, ["s2", END])
    return inner.add_edge("s2", END).compile()


def test_xray_draws_subgraphs_inside_their_node() -> None:
    builder = StateGraph(S).add_node("a", n).add_node("sub", subgraph()).add_node("c", n)
    builder.add_edge(START, "a").add_edge("a", "sub").add_edge("sub", "c")
    graph = builder.compile()
    assert body(graph)[6:8] == ["a --> sub;", "sub --> c;"]
    inlined = [
        "__start__([<p>__start__</p>]):::first",
        "a(a)",
        "c(c)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> a;",
        "a --> sub\\3as1;",
        "sub\\3a__end__ --> c;",
        "c --> __end__;",
        "subgraph sub",
        "sub\\3as1(s1)",
        "sub\\3as2(s2)",
        "sub\\3a__end__(<p>__end__</p>)",
        "sub\\3as1 -.-> sub\\3a__end__;",
        "sub\\3as1 -.-> sub\\3as2;",
        "sub\\3as2 --> sub\\3a__end__;",
        "end",
    ]
    assert body(graph, xray=True) == inlined
    assert body(graph, xray=1) == inlined
    assert [name for name, _ in graph.get_subgraphs()] == ["sub"]


def test_xray_levels() -> None:
    middle = StateGraph(S).add_node("i1", n).add_node("i2", subgraph())
    middle.add_edge(START, "i1").add_edge("i1", "i2")
    outer = StateGraph(S).add_node("mid", middle.compile()).add_node("z", n)
    graph = outer.add_edge(START, "mid").add_edge("mid", "z").compile()
    assert body(graph, xray=1)[3:] == [
        "__start__ --> mid\\3ai1;",
        "mid\\3ai2 --> z;",
        "z --> __end__;",
        "subgraph mid",
        "mid\\3ai1(i1)",
        "mid\\3ai2(i2)",
        "mid\\3ai1 --> mid\\3ai2;",
        "end",
    ]
    deep = body(graph, xray=True)
    assert deep[3:5] == ["__start__ --> mid\\3ai1;", "mid\\3ai2\\3a__end__ --> z;"]
    assert deep[6:9] == ["subgraph mid", "mid\\3ai1(i1)", "mid\\3ai1 --> mid\\3ai2\\3as1;"]
    assert deep[9] == "subgraph i2" and deep[-2:] == ["end", "end"]
    assert [name for name, _ in graph.get_subgraphs(recurse=True)] == ["mid", "mid|i2"]
    assert [name for name, _ in graph.get_subgraphs(namespace="mid|i2", recurse=True)] == ["mid|i2"]


def test_an_entrypoint_draws_as_one_node() -> None:
    @task
    def step(x: int) -> int:
        return x

    @entrypoint()
    def wf(x: int) -> int:
        return int(step(x).result())

    assert body(wf) == [
        "wf(wf)",
        "__start__([<p>__start__</p>]):::first",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> wf;",
        "wf -.-> __end__;",
    ]


def test_draw_ascii_needs_grandalf_as_in_langchain_core() -> None:
    graph = nodes(StateGraph(S), "a").add_edge(START, "a").compile()
    try:
        import grandalf  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="Install grandalf"):
            graph.get_graph().draw_ascii()
    else:
        assert "__start__" in graph.get_graph().draw_ascii()


def test_to_json_describes_nodes_and_edges() -> None:
    graph = nodes(StateGraph(S), "a").add_edge(START, "a").compile(interrupt_after=["a"])
    data = graph.get_graph().to_json()
    assert [node["id"] for node in data["nodes"]] == ["__start__", "a", "__end__"]
    assert data["nodes"][1]["metadata"] == {"__interrupt": "after"}
    assert data["nodes"][1]["type"] == "runnable"
    assert data["edges"] == [
        {"source": "__start__", "target": "a"},
        {"source": "a", "target": "__end__"},
    ]


def test_async_twins_give_the_same_answers() -> None:
    builder = StateGraph(S).add_node("a", n).add_node("sub", subgraph())
    graph = builder.add_edge(START, "a").add_edge("a", "sub").compile()

    async def both() -> tuple[str, list[str]]:
        drawing = await graph.aget_graph(xray=True)
        return drawing.draw_mermaid(), [name async for name, _ in graph.aget_subgraphs()]

    text, names = asyncio.run(both())
    assert text == graph.get_graph(xray=True).draw_mermaid()
    assert names == ["sub"]


def test_a_low_level_pregel_draws_its_nodes_without_guessing_edges() -> None:
    from threadloom.channels import EphemeralValue
    from threadloom.pregel import NodeBuilder, Pregel

    first = NodeBuilder().subscribe_only("a").do(lambda x: x + x).write_to("b")
    second = NodeBuilder().subscribe_only("b").do(lambda x: x + x).write_to("c")
    app = Pregel(
        nodes={"n1": first, "n2": second},
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str), "c": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["c"],
    )
    drawing = app.get_graph()
    assert list(drawing.nodes) == ["n1", "n2", "__start__"] and drawing.edges == []
