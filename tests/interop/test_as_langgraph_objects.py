"""The value conversion between LangGraph and threadloom (``interop/_objects.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph import types as lg

from threadloom import types as tl
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.interop._objects import (
    checkpoint_to_langgraph,
    checkpoint_to_threadloom,
    pending_writes_to_langgraph,
    to_langgraph,
    to_threadloom,
    writes_to_threadloom,
)

LANGGRAPH_VALUES: list[Any] = [
    lg.Send("work", {"x": 1}),
    lg.Send("work", {"x": 1}, timeout=5.0),
    lg.Interrupt(value={"question": "ok?"}, id="abc"),
    lg.Interrupt(value="x", id="i", response_schema={"type": "string"}),
    lg.Overwrite(["a", "b"]),
    lg.Command(update={"x": 1}, goto=[lg.Send("n", 1), "m"], resume={"abc": "yes"}),
    lg.Command(graph=lg.Command.PARENT, goto="n"),
]


def _same(left: Any, right: Any) -> None:
    """Equal and of the very same types, at every level (LangGraph's records compare by fields
    but not across libraries, so a missed conversion shows up as a type difference)."""
    assert type(left) is type(right)
    if isinstance(left, dict):
        assert left.keys() == right.keys()
        for key in left:
            _same(left[key], right[key])
    elif isinstance(left, list | tuple):
        assert len(left) == len(right)
        for a, b in zip(left, right, strict=True):
            _same(a, b)
    else:
        assert left == right


@pytest.mark.parametrize("value", LANGGRAPH_VALUES, ids=repr)
def test_each_record_becomes_threadloom_s_and_comes_back(value: Any) -> None:
    converted = to_threadloom(value)
    assert type(converted).__module__ == "threadloom.types"
    assert type(converted).__name__ == type(value).__name__
    back = to_langgraph(converted)
    assert type(back) is type(value)
    assert back == value


def test_records_inside_containers_are_converted_at_any_depth() -> None:
    value = {
        "sends": [lg.Send("a", {"inner": (lg.Interrupt("v", id="1"),)})],
        "set": frozenset({lg.Send("b", 2)}),
        "plain": [1, "two", {"three": 3}],
    }
    converted = to_threadloom(value)
    send = converted["sends"][0]
    assert type(send) is tl.Send
    assert type(send.arg["inner"]) is tuple
    assert type(send.arg["inner"][0]) is tl.Interrupt
    assert {type(s) for s in converted["set"]} == {tl.Send}
    assert type(converted["set"]) is frozenset
    assert converted["plain"] is value["plain"]  # untouched branches are shared, not copied
    _same(to_langgraph(converted), value)


def test_a_value_without_records_is_returned_as_the_same_object() -> None:
    messages = [HumanMessage("hi", id="1"), AIMessage("hello", id="2")]
    values = {"messages": messages, "n": 3, "tags": ("a", "b"), "seen": {1, 2}}
    assert to_threadloom(values) is values
    assert to_langgraph(values) is values


def test_a_send_timeout_policy_crosses_both_ways_with_its_idle_rule() -> None:
    policy = lg.TimeoutPolicy(run_timeout=2.5, idle_timeout=3, refresh_on="heartbeat")
    ours = to_threadloom(lg.Send("n", 1, timeout=policy)).timeout
    assert ours == tl.TimeoutPolicy(run_timeout=2.5, idle_timeout=3.0, refresh_on="heartbeat")
    back = to_langgraph(tl.Send("n", 1, timeout=ours)).timeout
    assert (back.run_timeout, back.idle_timeout, back.refresh_on) == (2.5, 3.0, "heartbeat")


def test_a_send_timeout_in_seconds_becomes_a_run_timeout() -> None:
    assert to_threadloom(lg.Send("n", 1, timeout=5)).timeout == tl.TimeoutPolicy(run_timeout=5.0)


def _checkpoint(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "v": 4,
        "id": "1f0",
        "ts": "2026-01-01T00:00:00+00:00",
        "channel_values": values,
        "channel_versions": {"x": "1"},
        "versions_seen": {"n": {"x": "1"}},
        "updated_channels": ["x"],
    }


def test_checkpoint_values_are_converted_and_other_keys_kept() -> None:
    checkpoint = _checkpoint({"__pregel_tasks": [lg.Send("work", {"x": 1})], "x": 1})
    converted = checkpoint_to_threadloom(checkpoint)
    assert type(converted["channel_values"]["__pregel_tasks"][0]) is tl.Send
    assert {k: v for k, v in converted.items() if k != "channel_values"} == {
        k: v for k, v in checkpoint.items() if k != "channel_values"
    }
    assert type(checkpoint["channel_values"]["__pregel_tasks"][0]) is lg.Send  # not changed
    _same(checkpoint_to_langgraph(converted), checkpoint)


def test_legacy_pending_sends_are_converted_too() -> None:
    checkpoint = {**_checkpoint({}), "v": 1, "pending_sends": [lg.Send("a", 1)]}
    converted = checkpoint_to_threadloom(checkpoint)
    assert type(converted["pending_sends"][0]) is tl.Send


def test_a_checkpoint_without_records_is_returned_as_is() -> None:
    checkpoint = _checkpoint({"messages": [HumanMessage("hi")]})
    assert checkpoint_to_threadloom(checkpoint) is checkpoint


def test_writes_cross_threadloom_s_serializer_and_come_back_as_langgraph_s() -> None:
    serde = JsonPlusSerializer()
    writes = [
        ("__interrupt__", [lg.Interrupt({"q": 1}, id="i1")]),
        ("items", lg.Overwrite([1, 2])),
        ("__pregel_tasks", lg.Send("n", {"k": "v"})),
    ]
    stored = [(c, serde.dumps_typed(v)) for c, v in writes_to_threadloom(writes)]
    read = pending_writes_to_langgraph([("t", c, serde.loads_typed(b)) for c, b in stored])
    assert read is not None
    _same([(c, v) for _, c, v in read], writes)


def test_langgraph_records_unconverted_are_refused_by_threadloom_s_serializer() -> None:
    # what the bridge exists for: without the conversion the strict serializer says no
    with pytest.raises(TypeError):
        JsonPlusSerializer().dumps_typed(lg.Interrupt("v", id="i"))


def test_pending_writes_none_stays_none() -> None:
    assert pending_writes_to_langgraph(None) is None
