"""A checkpoint's ``ts`` is ``datetime.now(UTC).isoformat()``, made from a per-second cache,
and only for a checkpoint a saver keeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine import checkpoints
from threadloom.graph import END, START, MessagesState, StateGraph


@pytest.mark.parametrize(
    "ns",
    [
        1_765_000_000_123_456_789,  # microseconds 123456 (nanoseconds dropped, as datetime does)
        1_765_000_000_000_000_000,  # a whole second: isoformat leaves the fraction out
        1_765_000_000_000_001_000,  # one microsecond past it
        1_765_000_001_999_999_999,  # the next second, at its last microsecond
    ],
)
def test_matches_isoformat(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: ns)
    expected = datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=ns // 1000 % 1_000_000
    )
    assert checkpoints._now_iso() == expected.isoformat()


def test_follows_the_clock_across_seconds() -> None:
    first = checkpoints._now_iso()
    assert datetime.fromisoformat(first) <= datetime.now(UTC)
    assert datetime.fromisoformat(first).tzinfo is not None


def _counting_now_iso(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = checkpoints._now_iso

    def counted(now_ns: int | None = None) -> str:
        calls.append(1)
        return real(now_ns)

    monkeypatch.setattr(checkpoints, "_now_iso", counted)
    return calls


def _chain(checkpointer: InMemorySaver | None) -> Any:
    builder: StateGraph[Any] = StateGraph(MessagesState)
    builder.add_node("a", lambda state: {"messages": [("ai", "a")]})
    builder.add_node("b", lambda state: {"messages": [("ai", "b")]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=checkpointer)


def test_a_run_without_a_saver_stamps_no_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing keeps or shows a checkpoint of a run without a checkpointer: making one per step
    formats no timestamp (nor sorts its updated channels), and the run's result is the same."""
    calls = _counting_now_iso(monkeypatch)
    out = _chain(None).invoke({"messages": [("user", "hi")]})
    assert [m.content for m in out["messages"]] == ["hi", "a", "b"]
    assert calls == []


def test_a_saved_checkpoint_keeps_its_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting_now_iso(monkeypatch)
    graph = _chain(InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    graph.invoke({"messages": [("user", "hi")]}, config)
    history = list(graph.get_state_history(config))
    assert [h.metadata["step"] for h in history if h.metadata] == [2, 1, 0, -1]
    assert len(calls) == len(history)  # one timestamp per checkpoint saved
    for snapshot in history:
        assert snapshot.created_at and datetime.fromisoformat(snapshot.created_at).tzinfo
    saved = graph.checkpointer.get_tuple(config)
    assert saved.checkpoint["updated_channels"] == ["messages"]
