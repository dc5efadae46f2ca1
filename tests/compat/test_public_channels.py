"""``threadloom.channels``: LangGraph's channel classes, alone and as state keys of a graph.

Behaviour checked against LangGraph 1.2.22 by running the same programs on both: the constructors,
``update``/``get``/``checkpoint``/``from_checkpoint``, the errors (ours, from
``threadloom.errors``), and what a node sees when a state key is annotated with a channel.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from threadloom.channels import (
    AnyValue,
    BaseChannel,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    NamedBarrierValue,
    Topic,
    UntrackedValue,
)
from threadloom.channels.delta import DeltaChannel
from threadloom.channels.last_value import LastValue as LastValueByPath
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine.channels import MISSING
from threadloom.errors import EmptyChannelError, InvalidUpdateError
from threadloom.graph import START, StateGraph
from threadloom.graph.message import _messages_delta_reducer
from threadloom.types import Overwrite


def test_the_submodule_paths_give_the_same_classes() -> None:
    assert LastValueByPath is LastValue


def test_last_value_keeps_one_value_and_refuses_two() -> None:
    channel = LastValue(int).from_checkpoint(MISSING)
    assert (channel.ValueType, channel.UpdateType) == (int, int)
    with pytest.raises(EmptyChannelError):
        channel.get()
    with pytest.raises(InvalidUpdateError, match="only one value per step"):
        channel.update([5, 6])
    assert not channel.update([])
    assert channel.update([3]) and channel.get() == 3
    restored = LastValue(int).from_checkpoint(channel.checkpoint())
    assert restored.get() == 3


def test_topic_empties_each_step_and_flattens_lists() -> None:
    channel = Topic(str).from_checkpoint(MISSING)
    assert channel.ValueType == Sequence[str]
    assert channel.UpdateType == str | list[str]
    assert channel.update(["a", "b"]) and channel.get() == ["a", "b"]
    assert channel.update([["c", "d"], "d"]) and channel.get() == ["c", "d", "d"]
    assert channel.update([])  # emptied: a change
    with pytest.raises(EmptyChannelError):
        channel.get()
    assert not channel.update([])  # already empty
    channel.update(["e"])
    copy = Topic(str).from_checkpoint(channel.checkpoint())
    copy.update(["f"])
    assert (copy.get(), channel.get()) == (["f"], ["e"])


def test_topic_accumulate_keeps_values_across_steps() -> None:
    channel = Topic(str, accumulate=True).from_checkpoint(MISSING)
    assert channel.update(["a", "b"])
    assert channel.update(["b", ["c", "d"]])
    assert not channel.update([])
    assert channel.get() == ["a", "b", "b", "c", "d"]
    restored = Topic(str, accumulate=True).from_checkpoint(channel.checkpoint())
    restored.update(["e"])
    assert restored.get() == ["a", "b", "b", "c", "d", "e"]


def test_a_restored_topic_keeps_its_configuration_and_a_subclass_its_own_init() -> None:
    """``Topic.from_checkpoint`` sets a ``Topic``'s slots directly (every run restores one); a
    subclass still goes through its own ``__init__`` (``_empty``)."""

    class Tagged(Topic):
        __slots__ = ("tag",)

        def __init__(self, typ: Any = Any, accumulate: bool = False, *, key: str = "") -> None:
            super().__init__(typ, accumulate, key=key)
            self.tag = "made by __init__"

    for proto in (Topic(int, accumulate=True, key="k"), Topic(str, key="j")):
        for stored in (MISSING, [1, 2], ([0], [1, 2])):  # a tuple: LangGraph < 0.2's form
            restored = proto.from_checkpoint(stored)
            assert type(restored) is Topic
            assert (restored.typ, restored.key, restored.accumulate) == (
                proto.typ, proto.key, proto.accumulate,
            )  # fmt: skip
            assert restored.checkpoint() == (MISSING if stored is MISSING else [1, 2])
    tagged = Tagged(int, key="t").from_checkpoint([3])
    assert type(tagged) is Tagged and tagged.tag == "made by __init__" and tagged.get() == [3]


def test_binary_operator_aggregate_starts_from_the_type() -> None:
    channel = BinaryOperatorAggregate(int, operator.add).from_checkpoint(MISSING)
    assert channel.get() == 0
    channel.update([1, 2, 3])
    channel.update([4])
    assert channel.get() == 10
    assert channel.operator is operator.add
    assert BinaryOperatorAggregate(int, operator.add).from_checkpoint(10).get() == 10


def test_untracked_value_is_never_checkpointed() -> None:
    channel = UntrackedValue(dict).from_checkpoint(MISSING)
    channel.update([{"session": 1}])
    assert channel.get() == {"session": 1}
    assert channel.checkpoint() is MISSING
    with pytest.raises(EmptyChannelError):
        UntrackedValue(dict).from_checkpoint({"session": 1}).get()
    with pytest.raises(InvalidUpdateError, match="guard=False"):
        channel.update([1, 2])
    relaxed = UntrackedValue(int, guard=False)
    relaxed.update([1, 2])
    assert relaxed.get() == 2


def test_ephemeral_and_any_value_empty_on_a_step_without_writes() -> None:
    for channel in (EphemeralValue(int), AnyValue(int)):
        assert channel.update([1]) and channel.get() == 1
        assert channel.update([])
        assert not channel.is_available()
        assert not channel.update([])
    with pytest.raises(InvalidUpdateError, match="EphemeralValue"):
        EphemeralValue(int).update([1, 2])
    loose = AnyValue(int)
    loose.update([1, 1])
    assert loose.get() == 1


def test_named_barrier_waits_for_every_name() -> None:
    channel = NamedBarrierValue(str, {"a", "b"})
    channel.update(["a"])
    assert not channel.is_available()
    channel.update(["b"])
    assert channel.is_available() and channel.get() is None
    assert channel.consume() and not channel.is_available()
    with pytest.raises(InvalidUpdateError, match="'c'"):
        channel.update(["c"])


class State(TypedDict):
    log: Annotated[list[int], Topic(int, accumulate=True)]
    flash: Annotated[int, EphemeralValue]
    scratch: Annotated[str, UntrackedValue(str)]
    n: int


def _graph() -> Any:
    seen: list[dict[str, Any]] = []

    def first(state: State) -> dict[str, Any]:
        seen.append(dict(state))
        return {"log": [1, 2], "flash": 5, "scratch": "tmp", "n": 1}

    def second(state: State) -> dict[str, Any]:
        seen.append(dict(state))
        return {"log": 3, "n": 2}

    def third(state: State) -> dict[str, Any]:
        seen.append(dict(state))
        return {"n": 3}

    builder = StateGraph(State).add_sequence([first, second, third])
    builder.add_edge(START, "first")
    return builder.compile(checkpointer=InMemorySaver()), seen


def test_channels_as_state_keys_behave_as_in_langgraph() -> None:
    graph, seen = _graph()
    config = {"configurable": {"thread_id": "1"}}
    graph.invoke({"log": [0], "n": 0}, config)
    assert seen == [
        {"log": [0], "n": 0},
        {"log": [0, 1, 2], "flash": 5, "scratch": "tmp", "n": 1},
        {"log": [0, 1, 2, 3], "scratch": "tmp", "n": 2},  # flash lasted one step
    ]
    stored = graph.checkpointer.get_tuple(config).checkpoint["channel_values"]
    assert "scratch" not in stored  # untracked: the run saw it, the saver never did
    assert graph.get_state(config).values == {"log": [0, 1, 2, 3], "n": 3}
    seen.clear()
    graph.invoke({"n": 5}, config)
    assert seen[0] == {"log": [0, 1, 2, 3], "n": 5}  # the topic accumulated across runs


class Counter(BaseChannel):
    """A channel of our own: counts the writes it was given."""

    __slots__ = ("count",)

    def __init__(self, typ: Any = int, key: str = "") -> None:
        super().__init__(typ, key)
        self.count = 0

    def from_checkpoint(self, checkpoint: Any) -> Counter:
        channel = Counter(self.typ, self.key)
        channel.count = 0 if checkpoint is MISSING else checkpoint
        return channel

    def update(self, values: Sequence[Any]) -> bool:
        self.count += len(values)
        return bool(values)

    def get(self) -> int:
        if not self.count:
            raise EmptyChannelError()
        return self.count


def test_a_user_channel_class_runs_in_a_graph() -> None:
    class Counted(TypedDict):
        hits: Annotated[int, Counter()]

    def hit(state: Counted) -> dict[str, Any]:
        return {"hits": "x"}

    builder = StateGraph(Counted).add_sequence([("a", hit), ("b", hit)])
    builder.add_edge(START, "a")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "c"}}
    assert graph.invoke({"hits": "start"}, config) == {"hits": 3}
    assert graph.invoke({"hits": "again"}, config) == {"hits": 6}  # restored from its checkpoint


class _Gated(LastValue):
    """Available only once it holds "open": a subclass changes what a write makes available."""

    __slots__ = ()

    def is_available(self) -> bool:
        return self.value == "open"

    def get(self) -> Any:
        if not self.is_available():
            raise EmptyChannelError(self.key)
        return self.value


def test_a_subclass_of_a_built_in_channel_decides_when_it_is_available() -> None:
    # the engine skips is_available() after a write only for the built-in kinds themselves: a
    # write leaving the gate shut makes no values chunk (as in LangGraph)
    assert LastValue.holds_written and not _Gated.holds_written

    class Gate(TypedDict, total=False):
        gate: Annotated[str, _Gated(str)]
        n: int

    builder = StateGraph(Gate).add_sequence(
        [("a", lambda _: {"gate": "shut"}), ("b", lambda _: {"n": 1})]
    )
    builder.add_edge(START, "a")
    chunks = list(builder.compile().stream({"n": 0}, stream_mode="values"))
    assert chunks == [{"n": 0}, {"n": 1}]


def _extend(state: list[Any], writes: Sequence[Any]) -> list[Any]:
    return [*state, *(x for w in writes for x in (w if isinstance(w, list) else [w]))]


def test_delta_channel_folds_a_step_s_writes_in_one_call() -> None:
    calls: list[list[Any]] = []

    def reducer(state: list[Any], writes: Sequence[Any]) -> list[Any]:
        calls.append(list(writes))
        return _extend(state, writes)

    channel = DeltaChannel(reducer).from_checkpoint(MISSING)
    assert channel.get() == []  # starts from its type
    channel.update(["a", ["b", "c"]])
    assert channel.get() == ["a", "b", "c"] and calls == [["a", ["b", "c"]]]
    channel.update([Overwrite(["fresh"])])
    assert channel.get() == ["fresh"]
    with pytest.raises(InvalidUpdateError, match="one Overwrite"):
        channel.update([Overwrite([1]), Overwrite([2])])
    replayed = DeltaChannel(_extend).from_checkpoint(MISSING)
    replayed.replay_writes([("t0", "k", "x"), ("t1", "k", Overwrite(["o"])), ("t2", "k", "y")])
    assert replayed.get() == ["o", "y"]
    with pytest.raises(ValueError, match="snapshot_frequency"):
        DeltaChannel(_extend, snapshot_frequency=0)


def _merge(state: dict[str, Any], writes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {**state, **{k: v for w in writes for k, v in w.items()}}


class Deltas(TypedDict):
    items: Annotated[list[str], DeltaChannel(_extend)]
    found: Annotated[dict[str, int], DeltaChannel(_merge, snapshot_frequency=2)]


def test_delta_channel_state_keys_take_the_key_s_type() -> None:
    builder = StateGraph(Deltas)
    builder.add_node("a", lambda s: {"items": ["a"], "found": {"a": 1}})
    builder.add_node("b", lambda s: {"items": ["b"], "found": {"b": 2}})
    builder.add_node("reset", lambda s: {"items": Overwrite(["reset"])})
    builder.add_edge(START, "a").add_edge(START, "b").add_edge(["a", "b"], "reset")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "d"}}
    assert graph.invoke({"items": ["x"], "found": {}}, config) == {
        "items": ["reset"],
        "found": {"a": 1, "b": 2},
    }
    graph.update_state(config, {"items": ["u"]})
    assert graph.get_state(config).values["items"] == ["reset", "u"]
    history = [s.values["items"] for s in graph.get_state_history(config)]
    assert history[:3] == [["reset", "u"], ["reset"], ["x", "a", "b"]]


class Chat(TypedDict):
    messages: Annotated[list[Any], DeltaChannel(_messages_delta_reducer)]


def test_the_messages_delta_reducer_keeps_a_chat_like_add_messages() -> None:
    from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage

    def reply(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage("hello", id="a1")]}

    builder = StateGraph(Chat).add_node("reply", reply).add_edge(START, "reply")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "chat"}}
    out = graph.invoke({"messages": [("user", "hi")]}, config)
    assert [type(m).__name__ for m in out["messages"]] == ["HumanMessage", "AIMessage"]
    first_id = out["messages"][0].id
    assert first_id  # a message without an id got one
    graph.update_state(config, {"messages": [RemoveMessage(id=first_id)]})
    graph.update_state(config, {"messages": [AIMessage("edited", id="a1")]})
    assert [m.content for m in graph.get_state(config).values["messages"]] == ["edited"]
    # two batches give what one batch gives
    one = _messages_delta_reducer([], [HumanMessage("a", id="1"), HumanMessage("b", id="2")])
    two = _messages_delta_reducer(
        _messages_delta_reducer([], [HumanMessage("a", id="1")]), [HumanMessage("b", id="2")]
    )
    assert one == two


class Tally(TypedDict):
    a: int


async def test_get_delta_channel_history_walks_the_parent_chain() -> None:
    def bump(state: Tally) -> dict[str, Any]:
        return {"a": state["a"] + 1}

    graph = (
        StateGraph(Tally)
        .add_node("bump", bump)
        .add_edge(START, "bump")
        .compile(checkpointer=InMemorySaver())
    )
    config = {"configurable": {"thread_id": "h"}}
    graph.invoke({"a": 1}, config)
    graph.invoke({"a": 5}, config)
    head = graph.get_state(config).config
    saver = graph.checkpointer
    history = saver.get_delta_channel_history(config=head, channels=["a", "missing"])
    assert [w[1:] for w in history["a"]["writes"]] == [("a", 6)]  # what made the head's value
    assert history["a"]["seed"] == 5  # the parent's stored value
    assert history["missing"] == {"writes": []}  # nothing stored anywhere: no seed
    assert await saver.aget_delta_channel_history(config=head, channels=["a"]) == {
        "a": history["a"]
    }
