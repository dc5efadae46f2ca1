"""Where a ``@task`` call's result is saved: ``InMemorySaver`` takes it straight from the thread
that finished the call (``InMemorySaver.writer_at``, asked once a step), any saver overriding
``put_writes`` gets each call through its override, and ``durability="exit"`` keeps them for the
run's end. Each way must store the same writes, and a resume must reuse them, not rerun."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.types import Command, interrupt


class RecordingSaver(InMemorySaver):
    """Overrides ``put_writes`` (as a saver written for LangGraph may): sees every call."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, Any]]]] = []

    def put_writes(
        self,
        config: Any,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.seen.append((task_id, list(writes)))
        super().put_writes(config, writes, task_id, task_path)


def workflow(saver: InMemorySaver, runs: Counter[int]) -> Any:
    @task
    def square(n: int) -> int:
        runs[n] += 1
        return n * n

    @entrypoint(checkpointer=saver)
    def main(count: int) -> dict[str, Any]:
        squares = [f.result() for f in [square(n) for n in range(count)]]
        answer = interrupt("go on?")
        return {"squares": squares, "answer": answer}

    return main


def saved_returns(saver: InMemorySaver, config: dict[str, Any]) -> list[Any]:
    stored = saver.get_tuple(config)
    assert stored is not None
    return sorted(v for _, channel, v in stored.pending_writes if channel == "__return__")


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("saver_class", [InMemorySaver, RecordingSaver])
def test_call_results_are_saved_once_and_reused_on_resume(
    saver_class: type[InMemorySaver], durability: str
) -> None:
    saver, runs = saver_class(), Counter[int]()
    main = workflow(saver, runs)
    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    paused = main.invoke(4, config, durability=durability)
    assert "__interrupt__" in paused
    assert saved_returns(saver, config) == [0, 1, 4, 9]
    done = main.invoke(Command(resume="yes"), config, durability=durability)
    assert done == {"squares": [0, 1, 4, 9], "answer": "yes"}
    assert runs == Counter({0: 1, 1: 1, 2: 1, 3: 1})  # each call ran once
    if isinstance(saver, RecordingSaver):  # the override saw each call's result
        returned = [w for _, writes in saver.seen for w in writes if w[0] == "__return__"]
        assert sorted(v for _, v in returned) == [0, 1, 4, 9]


def test_a_failed_call_saves_its_error_and_the_others_their_results() -> None:
    saver = InMemorySaver()
    tries = Counter[int]()

    @task
    def check(n: int) -> int:
        tries[n] += 1
        if n == 2 and tries[n] == 1:
            raise ValueError("two, the first time")
        return n

    @entrypoint(checkpointer=saver)
    def main(count: int) -> list[int]:
        futures = [check(n) for n in range(count)]
        return [f.result() for f in futures]

    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ValueError, match="two, the first time"):
        main.invoke(4, config)
    stored = saver.get_tuple(config)
    assert stored is not None
    channels = Counter(channel for _, channel, _ in stored.pending_writes)
    assert channels["__error__"] >= 1 and channels["__return__"] >= 2
    assert main.invoke(None, config) == [0, 1, 2, 3]  # resumed: only the failed call again
    assert tries[0] == 1 and tries[1] == 1 and tries[2] == 2


@pytest.mark.parametrize("saver_class", [InMemorySaver, RecordingSaver])
def test_calls_awaited_in_order_still_run_at_once(saver_class: type[InMemorySaver]) -> None:
    # each call waits until all have started: they pass only if every one runs at the same time,
    # the first one in the waiting caller's thread, the others on workers
    count = 8
    barrier = threading.Barrier(count, timeout=60)

    @task
    def meet(n: int) -> int:
        barrier.wait()
        return n

    saver = saver_class()

    @entrypoint(checkpointer=saver)
    def main(size: int) -> list[int]:
        futures = [meet(n) for n in range(size)]
        return [f.result() for f in futures]

    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    assert main.invoke(count, config) == list(range(count))
    assert not barrier.broken
