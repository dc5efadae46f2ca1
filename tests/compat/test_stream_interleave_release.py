"""``run.interleave(...)`` gives its channels back when it ends (read to the end, stopped early,
or refused), so they can be read again, as LangGraph 1.2.22's (checked with the import root
swapped): what it read is gone, what it left is still there."""

from __future__ import annotations

from typing import Any

import pytest
from typing_extensions import TypedDict

from threadloom.graph import END, START, StateGraph


class State(TypedDict):
    value: str


def _run() -> Any:
    builder = StateGraph(State)
    builder.add_node("a", lambda state: {"value": state["value"] + "a"})
    builder.add_node("b", lambda state: {"value": state["value"] + "b"})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile().stream_events({"value": ""}, version="v3")


def test_channels_read_to_the_end_can_be_read_again() -> None:
    run = _run()
    names = [name for name, _ in run.interleave("values", "messages")]
    assert names == ["values", "values", "values"]
    assert list(run.values) == []  # all read already, and no "already has a subscriber"
    assert list(run.messages) == []


def test_channels_of_an_interleave_stopped_early_can_be_read_again() -> None:
    run = _run()
    both = run.interleave("values", "messages")
    assert next(both) == ("values", {"value": ""})
    both.close()
    assert list(run.values) == [{"value": "a"}, {"value": "ab"}]


def test_a_refused_interleave_gives_back_what_it_took() -> None:
    run = _run()
    reader = iter(run.messages)  # messages has a reader already
    with pytest.raises(RuntimeError, match="already has a subscriber"):
        list(run.interleave("values", "messages"))
    assert list(run.values) == [{"value": ""}, {"value": "a"}, {"value": "ab"}]
    assert list(reader) == []
