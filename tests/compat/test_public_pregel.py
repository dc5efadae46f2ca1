"""``threadloom.pregel``: the low-level ``Pregel`` and ``NodeBuilder`` API LangGraph documents.

Expected values are what LangGraph 1.2.22 returns for the same programs (its ``Pregel``
docstring's examples, plus a checkpointed thread and the validation errors).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from threadloom.channels import BinaryOperatorAggregate, EphemeralValue, LastValue, Topic
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import UnsupportedParameterError
from threadloom.graph import START, StateGraph
from threadloom.pregel import ChannelWriteEntry, NodeBuilder, Pregel


def _double(x: str) -> str:
    return x + x


def test_single_node() -> None:
    node = NodeBuilder().subscribe_only("a").do(_double).write_to("b")
    app = Pregel(
        nodes={"node1": node},
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["b"],
    )
    assert app.invoke({"a": "foo"}) == {"b": "foofoo"}


def test_two_nodes_reading_a_dict() -> None:
    node1 = NodeBuilder().subscribe_only("a").do(_double).write_to("b")
    node2 = NodeBuilder().subscribe_to("b").do(lambda x: x["b"] + x["b"]).write_to("c")
    app = Pregel(
        nodes={"node1": node1, "node2": node2},
        channels={"a": EphemeralValue(str), "b": LastValue(str), "c": EphemeralValue(str)},
        input_channels=["a"],
        output_channels=["b", "c"],
    )
    assert app.invoke({"a": "foo"}) == {"b": "foofoo", "c": "foofoofoofoo"}


def _writers() -> dict[str, NodeBuilder]:
    return {
        "node1": NodeBuilder().subscribe_only("a").do(_double).write_to("b", "c"),
        "node2": NodeBuilder().subscribe_only("b").do(_double).write_to("c"),
    }


def test_topic_and_reducer_channels_collect_writes_of_several_steps() -> None:
    topic = Pregel(
        nodes=_writers(),
        channels={"a": EphemeralValue(str), "b": EphemeralValue(str), "c": Topic(str, True)},
        input_channels=["a"],
        output_channels=["c"],
    )
    assert topic.invoke({"a": "foo"}) == {"c": ["foofoo", "foofoofoofoo"]}

    def join(current: str, update: str) -> str:
        return f"{current} | {update}" if current else update

    reduced = Pregel(
        nodes=_writers(),
        channels={
            "a": EphemeralValue(str),
            "b": EphemeralValue(str),
            "c": BinaryOperatorAggregate(str, operator=join),
        },
        input_channels=["a"],
        output_channels=["c"],
    )
    assert reduced.invoke({"a": "foo"}) == {"c": "foofoo | foofoofoofoo"}
    assert list(reduced.stream({"a": "foo"})) == [  # stream_mode "values" by default
        {"b": "foofoo", "c": "foofoo"},
        {"c": "foofoo | foofoofoofoo"},
    ]
    assert list(reduced.stream({"a": "foo"}, stream_mode="updates")) == [
        {"node1": {"b": "foofoo", "c": "foofoo"}},
        {"node2": {"c": "foofoofoofoo"}},
    ]


def test_a_cycle_ends_when_the_node_writes_nothing() -> None:
    node = (
        NodeBuilder()
        .subscribe_only("value")
        .do(lambda x: x + x if len(x) < 10 else None)
        .write_to(ChannelWriteEntry(channel="value", skip_none=True))
    )
    app = Pregel(
        nodes={"node": node},
        channels={"value": EphemeralValue(str)},
        input_channels=["value"],
        output_channels=["value"],
    )
    assert app.invoke({"value": "a"}) == {"value": "a" * 16}


def test_single_channel_input_and_output_with_a_checkpointer() -> None:
    node = NodeBuilder().subscribe_only("input").do(lambda x: x + 1).write_to("output")
    app = Pregel(
        nodes={"one": node},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "1"}}
    assert app.invoke(2, config) == 3
    assert app.invoke(5, config) == 6
    history = [
        (s.metadata["step"], s.metadata["source"], s.values) for s in app.get_state_history(config)
    ]
    assert history == [
        (2, "loop", {"input": 5, "output": 6}),
        (1, "input", {"input": 5, "output": 3}),
        (0, "loop", {"input": 2, "output": 3}),
        (-1, "input", {"input": 2}),
    ]


def test_write_to_values_and_mappers_and_a_chain_of_calls() -> None:
    node = (
        NodeBuilder()
        .subscribe_only("a")
        .do(lambda x: x + 1)
        .do(lambda x: x * 10)
        .write_to("b", c=lambda out: -out, d="fixed")
    )
    app = Pregel(
        nodes={"n": node},
        channels={k: LastValue(Any) for k in "abcd"},
        input_channels="a",
        output_channels=["b", "c", "d"],
    )
    assert app.invoke(1) == {"b": 20, "c": -20, "d": "fixed"}


def test_async_nodes_and_read_from() -> None:
    async def add(values: dict[str, int]) -> int:
        await asyncio.sleep(0)
        return values["a"] + values["k"]

    node = NodeBuilder().subscribe_to("a").read_from("k").do(add).write_to("out")
    app = Pregel(
        nodes={"n": node},
        channels={"a": LastValue(int), "k": LastValue(int), "out": LastValue(int)},
        input_channels=["a", "k"],
        output_channels="out",
    )
    assert asyncio.run(app.ainvoke({"a": 1, "k": 2})) == 3


def test_a_compiled_graph_is_a_pregel() -> None:
    builder = StateGraph(dict).add_node("x", lambda s: s).add_edge(START, "x")
    assert isinstance(builder.compile(), Pregel)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nodes": {"x": NodeBuilder().subscribe_only("zz")}}, "Node x reads channel 'zz'"),
        ({"input_channels": "b"}, "Input channel 'b' not in known channels"),
        ({"output_channels": "q"}, "Output channel 'q'"),
        ({"channels": {"a": LastValue(int), "__pregel_tasks": LastValue(int)}}, "reserved"),
    ],
)
def test_invalid_graphs_are_refused(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {
        "nodes": {"x": NodeBuilder().subscribe_only("a").write_to("a")},
        "channels": {"a": LastValue(int)},
        "input_channels": "a",
        "output_channels": "a",
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        Pregel(**arguments)


def test_input_that_is_not_a_dict_for_several_input_channels() -> None:
    app = Pregel(
        nodes={"x": NodeBuilder().subscribe_only("a").write_to("b")},
        channels={"a": LastValue(int), "b": LastValue(int)},
        input_channels=["a"],
        output_channels="b",
    )
    with pytest.raises(TypeError, match="Expected input to be a dict"):
        app.invoke(3)


@pytest.mark.parametrize("parameter", ["cache", "cache_policy"])
def test_what_is_not_built_yet_raises(parameter: str) -> None:
    with pytest.raises(UnsupportedParameterError, match=parameter):
        Pregel(
            nodes={"x": NodeBuilder().subscribe_only("a").write_to("a")},
            channels={"a": LastValue(int)},
            input_channels="a",
            output_channels="a",
            **{parameter: [object()]},
        )


def test_v3_is_refused_where_langgraph_has_no_v3() -> None:
    """``version="v3"`` exists for ``stream_events`` only (tests/compat/test_stream_v3.py);
    ``stream`` and ``invoke`` refuse it, and sync ``stream_events`` has no v1/v2 (as in
    langchain-core)."""
    graph = StateGraph(dict).add_node("x", lambda s: s).add_edge(START, "x").compile()
    with pytest.raises(UnsupportedParameterError, match=r"stream_events\(version='v2'\)"):
        graph.stream_events({"a": 1}, version="v2")
    with pytest.raises(UnsupportedParameterError, match=r"stream\(version='v3'\)"):
        list(graph.stream({"a": 1}, version="v3"))
    with pytest.raises(UnsupportedParameterError, match=r"invoke\(version='v3'\)"):
        graph.invoke({"a": 1}, version="v3")
    assert graph.invoke({"a": 1}, version="v2").value == {"a": 1}


def test_a_callable_with_an_invoke_attribute_is_called_and_output_keys_pick_channels() -> None:
    from unittest.mock import Mock

    add_one = Mock(side_effect=lambda x: x + 1)  # a Mock has every attribute, .invoke too
    app = Pregel(
        nodes={"one": NodeBuilder().subscribe_only("input").do(add_one).write_to("output")},
        channels={"input": LastValue(int), "output": LastValue(int)},
        input_channels="input",
        output_channels="output",
    )
    assert app.invoke(2) == 3
    assert add_one.call_count == 1 and not add_one.invoke.called
    assert app.invoke(2, output_keys=["output"]) == {"output": 3}
    assert list(app.stream(2, output_keys=["output"])) == [{"output": 3}]
    assert app.batch([1, 2], output_keys="output") == [2, 3]
