"""The returned tasks of a fan-out that came back together are recorded as one batch
(``Run.record_returned``) when no task outcome streams a chunk, and must be recorded exactly as
one by one (``Run.task_finished``).

Each program runs twice, with the batch path and with it off (``loop.RECORD_BATCHES = False``),
and what a user sees is compared: the result or error, the stream (values, custom chunks), the
saved history and pending writes, and what resumes after an interrupt give. The programs cover
``Send`` fan-outs with a saver and without, failures among returned siblings, interrupts,
``Command``s, retries, untracked values, durability ``"exit"`` and ``max_concurrency``, on the
sync and the async driver; the effects the loop asks for are compared too, with every task
finished together (a fake driver).
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypedDict

import pytest
from plain_paths import (
    ATTEMPTS,
    RETRY,
    commands,
    double,
    fails_on,
    fan_graph,
    flaky,
    history,
    ids_out,
)

from threadloom.channels import UntrackedValue
from threadloom.engine import loop
from threadloom.engine.run import Run
from threadloom.types import Command, interrupt

WIDTH = 40


class State(TypedDict, total=False):
    items: list[int]
    results: Annotated[list[Any], operator.add]
    note: str
    live: Annotated[str, UntrackedValue]


def _graph(worker: Callable[..., Any], saver: bool = True, edge: bool = True, **node: Any) -> Any:
    return fan_graph(State, worker, saver=saver, edge=edge, **node)


async def _adouble(state: State) -> State:
    return {"results": [2 * state["items"][0]]}


def _asks_on_three(state: State) -> State:
    n = state["items"][0]
    if n % 3:
        return {"results": [n]}
    return {"results": [f"{n}:{interrupt(f'question {n}')}"]}


def _untracked(state: State) -> State:
    n = state["items"][0]
    return {"results": [n], "live": "a resource"} if n == 0 else {"results": [n]}


def _writes_nothing(state: State) -> State:
    return {}


def _programs() -> dict[str, Callable[[], Any]]:
    return {
        "fan-out": lambda: _graph(double),
        "no saver": lambda: _graph(double, saver=False),
        "async nodes": lambda: _graph(_adouble),
        "failure": lambda: _graph(fails_on(7)),
        "interrupt": lambda: _graph(_asks_on_three),
        "command": lambda: _graph(commands),
        "untracked": lambda: _graph(_untracked),
        "no writes": lambda: _graph(_writes_nothing, edge=False),
        "retry": lambda: _graph(flaky, retry_policy=RETRY),
    }


_ASYNC_ONLY = ("async nodes", "sync")
"""(an async node in a sync run fails: not a case)"""


def _payloads(graph: Any, config: Any) -> Iterator[Any]:
    yield {"items": list(range(WIDTH)), "results": []}
    for answer in ("yes", "again"):
        if graph.checkpointer is None:
            return
        asked = graph.get_state(config).interrupts
        yield Command(resume={i.id: f"{answer}/{i.value}" for i in asked} or answer)


def _observe(make: Callable[[], Any], run: str, durability: str = "async") -> list[Any]:
    """What a user sees of a run and its resumes, and the thread's history and saved writes."""
    ATTEMPTS.clear()
    graph = make()
    config: Any = {"configurable": {"thread_id": "t"}, "max_concurrency": 8}
    options = {"durability": durability} if graph.checkpointer is not None else {}
    seen: list[Any] = []
    modes = ["values", "custom"]
    for payload in _payloads(graph, config):
        try:
            if run == "async":

                async def chunks(payload: Any = payload) -> list[Any]:
                    stream = graph.astream(payload, config, stream_mode=modes, **options)
                    return [c async for c in stream]

                got = asyncio.run(chunks())
            else:
                got = list(graph.stream(payload, config, stream_mode=modes, **options))
            seen.append(sorted(map(repr, got)))  # the fan-out's tasks finish in any order
        except ValueError as exc:
            seen.append(f"raised {exc} {getattr(exc, '__notes__', None)}")
    if graph.checkpointer is None:
        return seen
    return seen + history(graph, graph.checkpointer, config, results="results")


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many tasks each batch recorded at once held."""
    sizes: list[int] = []
    recorded = Run.record_returned

    def counted(self: Run, tasks: Any, most: int) -> tuple[int, list[Any]]:
        count, effects = recorded(self, tasks, most)
        sizes.append(count)
        return count, effects

    monkeypatch.setattr(Run, "record_returned", counted)
    yield sizes


_CASES = [(n, r) for n in sorted(_programs()) for r in ("sync", "async") if (n, r) != _ASYNC_ONLY]


@pytest.mark.parametrize(("name", "run"), _CASES)
def test_a_batch_is_recorded_as_one_by_one(
    name: str, run: str, batches: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    make = _programs()[name]
    together = _observe(make, run)
    assert batches  # the quiet run took the batch path
    if run == "async" and name == "async nodes":  # all finish on the loop before it looks
        assert max(batches) > 1
    monkeypatch.setattr(loop, "RECORD_BATCHES", False)
    batches.clear()
    one_by_one = _observe(make, run)
    assert batches == []
    assert ids_out(together) == ids_out(one_by_one)


@pytest.mark.parametrize("durability", ["sync", "exit"])
def test_other_durabilities_agree(durability: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("fan-out", "failure", "interrupt"):
        make = _programs()[name]
        together = _observe(make, "sync", durability)
        monkeypatch.setattr(loop, "RECORD_BATCHES", False)
        one_by_one = _observe(make, "sync", durability)
        monkeypatch.setattr(loop, "RECORD_BATCHES", True)
        assert ids_out(together) == ids_out(one_by_one), name


def test_a_run_streaming_updates_records_one_by_one(batches: list[int]) -> None:
    graph = _graph(double)
    config: Any = {"configurable": {"thread_id": "t"}}
    chunks = list(graph.stream({"items": [1, 2, 3], "results": []}, config))
    assert batches == []  # each task's update is a chunk: the general way
    assert sorted(c["worker"]["results"][0] for c in chunks if "worker" in c) == [2, 4, 6]
