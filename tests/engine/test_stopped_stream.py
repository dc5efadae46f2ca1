"""Stopping a run keeps what its finished tasks wrote (issue 9): the last task of a step has its
writes saved with the step's checkpoint, so a consumer that stops the stream right after that
task's ``updates`` chunk (a ``break``, ``aclose()``, a cancelled task) must not lose them; the
resumed run does not run that task again. Sync and async, memory and SQLite savers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph


class State(TypedDict, total=False):
    trail: list[str]


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
        return
    conn = sqlite3.connect(tmp_path / "stop.sqlite", check_same_thread=False)
    yield SqliteSaver(conn)
    conn.close()


def graph_counting(saver: Any, runs: list[str]) -> Any:
    def node(name: str) -> Any:
        def run(state: State) -> State:
            runs.append(name)
            return {"trail": [*state.get("trail", []), name]}

        return run

    builder = StateGraph(State)
    builder.add_node("a", node("a"))
    builder.add_node("b", node("b"))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=saver)


CONFIG = {"configurable": {"thread_id": "stop"}}


def check_resumed(graph: Any, runs: list[str]) -> None:
    state = graph.get_state(CONFIG)
    assert state.next == ()  # b finished: its writes were saved
    assert state.values == {"trail": ["a", "b"]}
    assert graph.invoke(None, CONFIG) == {"trail": ["a", "b"]}
    assert runs == ["a", "b"]  # the resume ran nothing again


def test_break_after_the_last_task_keeps_its_writes(saver: Any) -> None:
    runs: list[str] = []
    graph = graph_counting(saver, runs)
    for chunk in graph.stream({"trail": []}, CONFIG, stream_mode="updates"):
        if "b" in chunk:
            break
    check_resumed(graph, runs)


def test_async_close_after_the_last_task_keeps_its_writes(saver: Any) -> None:
    runs: list[str] = []
    graph = graph_counting(saver, runs)

    async def consume() -> None:
        stream = graph.astream({"trail": []}, CONFIG, stream_mode="updates")
        async for chunk in stream:
            if "b" in chunk:
                break
        await stream.aclose()

    asyncio.run(consume())
    check_resumed(graph, runs)


def test_async_cancel_after_the_last_task_keeps_its_writes(saver: Any) -> None:
    runs: list[str] = []
    graph = graph_counting(saver, runs)

    async def consume(seen: asyncio.Event) -> None:
        async for chunk in graph.astream({"trail": []}, CONFIG, stream_mode="updates"):
            if "b" in chunk:
                seen.set()
                await asyncio.sleep(3600)  # cancelled here, inside the stream

    async def main() -> None:
        seen = asyncio.Event()
        consumer = asyncio.create_task(consume(seen))
        await seen.wait()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer

    asyncio.run(main())
    check_resumed(graph, runs)


def test_a_run_read_to_its_end_is_unchanged(saver: Any) -> None:
    runs: list[str] = []
    graph = graph_counting(saver, runs)
    chunks = list(graph.stream({"trail": []}, CONFIG, stream_mode="updates"))
    assert chunks == [{"a": {"trail": ["a"]}}, {"b": {"trail": ["a", "b"]}}]
    check_resumed(graph, runs)
