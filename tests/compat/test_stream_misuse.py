"""Misusing a v3 run stream's pieces raises LangGraph 1.2.22's exception types, with messages
that say what LangGraph's say (the patterns below match both; checked with the import root
swapped). Ours also name the channel and the fix (the last test: threadloom's own)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from typing_extensions import TypedDict

from threadloom.graph import END, START, StateGraph
from threadloom.stream import StreamChannel, StreamTransformer


class State(TypedDict):
    value: str


def _graph() -> Any:
    builder = StateGraph(State)
    builder.add_node("n", lambda state: {"value": state["value"] + "!"})
    builder.add_edge(START, "n")
    builder.add_edge("n", END)
    return builder.compile()


class Quiet(StreamTransformer):
    def init(self) -> dict[str, Any]:
        return {}

    def process(self, event: Any) -> bool:
        return True


def _bound(is_async: bool) -> StreamChannel[int]:
    channel: StreamChannel[int] = StreamChannel("numbers")
    channel._bind(is_async=is_async)  # what a run does to its transformers' channels
    return channel


def test_a_channel_outside_a_run_cannot_be_read() -> None:
    channel: StreamChannel[int] = StreamChannel("numbers")
    channel.close()
    with pytest.raises(TypeError, match="has not been bound"):
        list(channel)


def test_a_channel_is_read_the_way_its_run_runs() -> None:
    with pytest.raises(TypeError, match=r"bound to sync mode.*for"):
        aiter(_bound(is_async=False))
    with pytest.raises(TypeError, match=r"bound to async mode.*async for"):
        iter(_bound(is_async=True))


def test_a_channel_belongs_to_one_run_and_has_one_reader() -> None:
    channel = _bound(is_async=False)
    with pytest.raises(RuntimeError, match="already bound"):
        channel._bind(is_async=False)
    iter(channel)
    with pytest.raises(RuntimeError, match="already has a subscriber"):
        iter(channel)


def test_nothing_is_pushed_after_the_end() -> None:
    channel = _bound(is_async=False)
    reader = iter(channel)
    channel.push(1)
    channel.fail(ValueError("broken"))
    with pytest.raises(RuntimeError, match="Cannot push to a closed StreamChannel"):
        channel.push(2)
    with pytest.raises(ValueError, match="broken"):
        list(reader)


def test_a_transformer_instance_is_refused_for_its_class() -> None:
    with pytest.raises(TypeError, match=r"pre-built instance.*Quiet"):
        _graph().stream_events({"value": "x"}, version="v3", transformers=[Quiet()])


def test_two_transformers_cannot_own_one_projection_key() -> None:
    class Values(Quiet):
        def init(self) -> dict[str, Any]:
            return {"values": StreamChannel()}

    with pytest.raises(ValueError, match=r"conflict.*'values'.*ValuesTransformer"):
        _graph().stream_events({"value": "x"}, version="v3", transformers=[Values])


def test_schedule_needs_a_running_event_loop() -> None:
    async def nothing() -> None:
        return None

    work = nothing()
    with pytest.raises(RuntimeError, match="requires a running event loop"):
        Quiet().schedule(work)
    work.close()

    async def inside() -> None:
        await Quiet().schedule(nothing())

    asyncio.run(inside())


def test_threadloom_messages_name_the_channel_and_the_fix() -> None:
    channel: StreamChannel[int] = StreamChannel("numbers")
    with pytest.raises(TypeError, match=r"'numbers' has not been bound to a run: read the"):
        iter(channel)
    with pytest.raises(TypeError, match=r"'numbers' is bound to sync mode.*with `for`"):
        aiter(_bound(is_async=False))
    reader = _bound(is_async=False)
    iter(reader)
    with pytest.raises(RuntimeError, match=r"use \.tee\(n\) / \.atee\(n\)"):
        iter(reader)
    with pytest.raises(TypeError, match=r"pass its class \(Quiet\) or a factory"):
        _graph().stream_events({"value": "x"}, version="v3", transformers=[Quiet()])

    async def nothing() -> None:
        return None

    work = nothing()
    with pytest.raises(RuntimeError):
        Quiet().schedule(work)
    assert work.cr_frame is None  # closed for the caller: no "never awaited" warning
