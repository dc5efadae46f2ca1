"""The drivers' ``NextDone``: the tasks that finished together come back in one list.

The effect loop of both drivers (``_drive_sync.drive``, ``_drive_async.drive``) is driven here
by a scripted core and a queue of scripted events (what the workers put: ``("done", task)`` and
``("chunk", chunk)``), so the order of what the core receives and what the consumer sees is
exact. A live chunk queued after a finished task is streamed after that task's own effects, as
when each task came back by a ``NextDone`` of its own; then a graph run with live chunks from a
fan-out's tasks shows each task's chunks before its update.
"""

from __future__ import annotations

import asyncio
import operator
from collections import deque
from collections.abc import Generator
from typing import Annotated, Any, TypedDict

from threadloom.engine import _drive_async, _drive_sync
from threadloom.engine.effects import NEXT_DONE, NEXT_READY, NOTHING_READY, Effect, Emit, Flush
from threadloom.graph import START, StateGraph
from threadloom.types import Send, StreamWriter


class ScriptedWorkers:
    """The workers' side of a driver: events already queued, in order."""

    stopped = (GeneratorExit,)

    def __init__(self, *events: tuple[str, Any]) -> None:
        self.events = deque(events)

    def next_event(self) -> tuple[str, Any]:
        return self.events.popleft()

    def ready_event(self) -> tuple[str, Any]:
        return self.events.popleft() if self.events else NOTHING_READY

    def drain(self) -> Generator[Any, None, None]:
        while self.events:
            kind, value = self.events.popleft()
            if kind == "chunk":
                yield value

    def close(self) -> None:
        pass


class AsyncScriptedWorkers(ScriptedWorkers):
    async def next_event(self) -> tuple[str, Any]:  # type: ignore[override]
        return self.events.popleft()

    async def close(self) -> None:  # type: ignore[override]
        pass


def scripted_core(got: list[Any]) -> Generator[Effect, Any, None]:
    """Waits twice, streams an update after each wait, then asks once without waiting."""
    got.append((yield NEXT_DONE))
    yield Emit("updates", "after first wait")
    got.append((yield NEXT_DONE))
    yield Emit("updates", "after second wait")
    got.append((yield NEXT_READY))
    yield Flush()


EVENTS = (
    ("done", "a"),
    ("done", "b"),
    ("chunk", ("custom", "from c")),
    ("done", "c"),
    ("chunk", ("custom", "late")),
)


def test_sync_driver_sends_back_the_tasks_finished_together() -> None:
    got: list[Any] = []
    seen = list(_drive_sync.drive(scripted_core(got), None, ScriptedWorkers(*EVENTS)))
    # a and b in one exchange; the chunk queued after them waits for their update
    assert got == [["a", "b"], ["c"], ()]
    assert seen == [
        ("updates", "after first wait"),
        ("custom", "from c"),
        ("updates", "after second wait"),
        ("custom", "late"),  # met after c, streamed at the Flush
    ]


def test_async_driver_sends_back_the_tasks_finished_together() -> None:
    got: list[Any] = []

    async def consume() -> list[Any]:
        workers = AsyncScriptedWorkers(*EVENTS)
        return [chunk async for chunk in _drive_async.drive(scripted_core(got), None, workers)]

    seen = asyncio.run(consume())
    assert got == [["a", "b"], ["c"], ()]
    assert seen == [
        ("updates", "after first wait"),
        ("custom", "from c"),
        ("updates", "after second wait"),
        ("custom", "late"),
    ]


def test_a_chunk_met_after_the_tasks_is_streamed_before_the_next_wait() -> None:
    got: list[Any] = []
    events = (("done", "a"), ("chunk", ("custom", "x")), ("done", "b"), ("done", "c"))
    seen = list(_drive_sync.drive(scripted_core(got), None, ScriptedWorkers(*events)))
    assert got == [["a"], ["b", "c"], ()]
    assert seen == [
        ("updates", "after first wait"),
        ("custom", "x"),
        ("updates", "after second wait"),
    ]


class State(TypedDict):
    items: Annotated[list[int], operator.add]


def _worker(state: dict[str, int], writer: StreamWriter) -> dict[str, list[int]]:
    writer({"from": state["item"]})
    return {"items": [state["item"]]}


def _graph() -> Any:
    builder = StateGraph(State)
    builder.add_node("worker", _worker)  # type: ignore[call-overload]
    builder.add_conditional_edges(START, lambda _: [Send("worker", {"item": i}) for i in range(40)])
    return builder.compile()


def _check_fan_out(chunks: list[tuple[str, Any]]) -> None:
    # every task's custom chunk before its update; every task once
    custom = [c["from"] for mode, c in chunks if mode == "custom"]
    updates = [c["worker"]["items"][0] for mode, c in chunks if mode == "updates"]
    assert sorted(custom) == sorted(updates) == list(range(40))
    for item in range(40):
        assert chunks.index(("custom", {"from": item})) < chunks.index(
            ("updates", {"worker": {"items": [item]}})
        )


def test_a_fan_out_streams_each_task_s_chunks_before_its_update() -> None:
    graph = _graph()
    for _ in range(5):
        _check_fan_out(list(graph.stream({"items": []}, stream_mode=["custom", "updates"])))
    assert graph.invoke({"items": []})["items"] == list(range(40))


def test_an_async_fan_out_streams_each_task_s_chunks_before_its_update() -> None:
    graph = _graph()

    async def run() -> list[tuple[str, Any]]:
        return [c async for c in graph.astream({"items": []}, stream_mode=["custom", "updates"])]

    for _ in range(5):
        _check_fan_out(asyncio.run(run()))
