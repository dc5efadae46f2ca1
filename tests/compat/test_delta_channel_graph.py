"""``threadloom.channels.delta.DeltaChannel`` in graphs, checked against LangGraph 1.2.22.

Each expected value below is what the same program printed on LangGraph (run side by side with
the import root swapped): one reducer call per step with the step's writes as a batch, Overwrite,
the value type taken from the annotation, ids for the messages written to the channel, state
after runs, update_state and forks, and the constructor's errors.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from typing_extensions import TypedDict

from threadloom.channels import DeltaChannel as ExportedDeltaChannel
from threadloom.channels.delta import DeltaChannel
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine.channels import MISSING
from threadloom.errors import InvalidUpdateError
from threadloom.graph import START, StateGraph
from threadloom.graph.message import _messages_delta_reducer
from threadloom.types import Overwrite


def concat(state: list[Any], writes: list[Any]) -> list[Any]:
    out = list(state)
    for write in writes:
        out.extend(write if isinstance(write, list) else [write])
    return out


class Log(TypedDict, total=False):
    items: Annotated[list[str], DeltaChannel(concat)]
    n: int


def fan_in(saver: Any = None) -> Any:
    """a and b in parallel, then c, which resets ``items`` from the second run on."""

    def a(state: Log) -> dict[str, Any]:
        return {"items": ["a"], "n": state.get("n", 0) + 1}

    def b(state: Log) -> dict[str, Any]:
        return {"items": "b"}

    def c(state: Log) -> dict[str, Any]:
        return {"items": Overwrite(["reset"])} if state["n"] > 1 else {}

    builder = StateGraph(Log)
    for name, node in (("a", a), ("b", b), ("c", c)):
        builder.add_node(name, node)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge(["a", "b"], "c")
    return builder.compile(checkpointer=saver)


def test_the_package_exports_the_class() -> None:
    assert ExportedDeltaChannel is DeltaChannel


def test_runs_update_state_history_and_forks_read_as_on_langgraph() -> None:
    graph = fan_in(InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    assert graph.invoke({"items": ["x"]}, config) == {"items": ["x", "a", "b"], "n": 1}
    assert graph.invoke({"items": ["y"], "n": 1}, config) == {"items": ["reset"], "n": 2}
    graph.update_state(config, {"items": ["u"]})
    assert graph.get_state(config).values == {"items": ["reset", "u"], "n": 2}
    history = list(graph.get_state_history(config))
    assert [h.values.get("items") for h in history] == [
        ["reset", "u"],
        ["reset"],
        ["x", "a", "b", "y", "a", "b"],
        ["x", "a", "b", "y"],
        ["x", "a", "b"],
        ["x", "a", "b"],
        ["x", "a", "b"],
        ["x"],
        [],
    ]
    fork = graph.update_state(history[3].config, {"items": ["fork"]})
    assert graph.get_state(fork).values == {"items": ["x", "a", "b", "y", "fork"], "n": 1}
    assert graph.invoke(None, history[4].config) == {"items": ["reset"], "n": 2}
    assert graph.get_state(config).values["items"] == ["reset"]  # the replay is the new head


def test_an_empty_input_and_an_empty_thread() -> None:
    graph = fan_in(InMemorySaver())
    assert graph.invoke({"items": []}, {"configurable": {"thread_id": "2"}}) == {
        "items": ["a", "b"],
        "n": 1,
    }
    assert graph.get_state({"configurable": {"thread_id": "3"}}).values == {}


CALLS: list[int] = []


def merge(state: dict[str, int], writes: list[dict[str, int]]) -> dict[str, int]:
    CALLS.append(len(writes))
    return {**state, **{k: v for write in writes for k, v in write.items()}}


class Mixed(TypedDict, total=False):
    d: Annotated[dict[str, int], DeltaChannel(merge)]
    messages: Annotated[list[Any], DeltaChannel(_messages_delta_reducer)]


def test_one_reducer_call_per_step_typ_from_the_annotation_and_message_ids() -> None:
    CALLS.clear()

    def a(state: Mixed) -> dict[str, Any]:
        hi = {"role": "ai", "content": "yo", "id": "y"}
        return {"d": {"a": 1}, "messages": [("user", "hi"), hi]}

    def b(state: Mixed) -> dict[str, Any]:
        return {"d": {"b": 2}, "messages": AIMessage("b", id="y")}

    def c(state: Mixed) -> dict[str, Any]:
        return {"d": Overwrite({"c": 3}), "messages": [RemoveMessage(id="y"), "plain"]}

    builder = StateGraph(Mixed)
    for name, node in (("a", a), ("b", b), ("c", c)):
        builder.add_node(name, node)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge(["a", "b"], "c")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "1"}}
    out = graph.invoke({"d": {"x": 0}}, config)
    assert out["d"] == {"c": 3}
    assert CALLS == [1, 2]  # the input, then a's and b's writes in one call; none for Overwrite
    assert [(type(m), m.content) for m in out["messages"]] == [
        (HumanMessage, "hi"),
        (HumanMessage, "plain"),
    ]
    ids = [m.id for m in out["messages"]]
    assert None not in ids
    assert [m.id for m in graph.get_state(config).values["messages"]] == ids
    graph.update_state(config, {"messages": "late"})
    late = graph.get_state(config).values["messages"][-1]
    assert (late.content, late.id is not None) == ("late", True)
    assert graph.get_state(config).values["messages"][-1].id == late.id


def test_a_message_in_an_overwrite_gets_an_id() -> None:
    graph = (
        StateGraph(Mixed)
        .add_node("n", lambda state: {"messages": Overwrite((HumanMessage("hello"),))})
        .add_edge(START, "n")
        .compile()
    )
    (message,) = graph.invoke({})["messages"]
    assert message.content == "hello" and message.id


def test_two_overwrites_in_one_step_are_refused() -> None:
    builder = StateGraph(Mixed)
    builder.add_node("p", lambda state: {"d": Overwrite({"z": 1})})
    builder.add_node("q", lambda state: {"d": Overwrite({"z": 2})})
    builder.add_edge(START, "p")
    builder.add_edge(START, "q")
    with pytest.raises(InvalidUpdateError, match="only one Overwrite"):
        builder.compile().invoke({})


@pytest.mark.parametrize("frequency", [0, -1])
def test_snapshot_frequency_must_be_positive(frequency: int) -> None:
    with pytest.raises(
        ValueError, match=rf"snapshot_frequency must be a positive int, got {frequency}"
    ):
        DeltaChannel(concat, snapshot_frequency=frequency)


def test_equality_is_by_reducer_and_frequency() -> None:
    assert DeltaChannel(concat) == DeltaChannel(concat)
    assert DeltaChannel(concat) != DeltaChannel(concat, snapshot_frequency=5)
    assert DeltaChannel(concat) != DeltaChannel(_messages_delta_reducer)


def test_replay_writes_folds_from_the_last_overwrite() -> None:
    channel = DeltaChannel(concat, list).from_checkpoint(MISSING)
    assert channel.get() == []
    channel.replay_writes([("t1", "items", ["a"]), ("t2", "items", "b")])
    assert channel.get() == ["a", "b"]
    channel.replay_writes(
        [("t3", "items", ["c"]), ("t4", "items", Overwrite(["r"])), ("t5", "items", ["d"])]
    )
    assert channel.get() == ["r", "d"]
    seeded = DeltaChannel(concat, list).from_checkpoint(["s"])
    seeded.replay_writes([])
    assert seeded.get() == ["s"]


def test_the_messages_reducer_does_not_care_how_writes_are_batched() -> None:
    state = [HumanMessage("a", id="1")]
    xs = [[AIMessage("b", id="2")], HumanMessage("a2", id="1")]
    ys = [[RemoveMessage(id="2"), RemoveMessage(id="nope")], AIMessage("c", id="3")]
    once = _messages_delta_reducer(state, xs + ys)
    assert _messages_delta_reducer(_messages_delta_reducer(state, xs), ys) == once
    assert [(m.content, m.id) for m in once] == [("a2", "1"), ("c", "3")]


def test_a_channel_of_the_low_level_pregel() -> None:
    from threadloom.channels import EphemeralValue
    from threadloom.pregel import NodeBuilder, Pregel

    def double(x: str) -> str:
        return x + x

    app = Pregel(
        nodes={
            "node1": NodeBuilder().subscribe_only("a").do(double).write_to("b", "c"),
            "node2": NodeBuilder().subscribe_only("b").do(double).write_to("c"),
        },
        channels={
            "a": EphemeralValue(str),
            "b": EphemeralValue(str),
            "c": DeltaChannel(concat, list),
        },
        input_channels=["a"],
        output_channels=["c"],
    )
    assert app.invoke({"a": "foo"}) == {"c": ["foofoo", "foofoofoofoo"]}
    assert list(app.stream({"a": "x"})) == [{"b": "xx", "c": ["xx"]}, {"c": ["xx", "xxxx"]}]
