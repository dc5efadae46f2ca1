"""A graph node's task with nothing to retry, cache, inject, time or trace runs on the sync
driver's short path, ``sync.run_plain``, and must do exactly what ``run_task`` does.

Each program runs twice, on the short path and with it replaced by ``run_task`` (the general
path), and what a user sees is compared: the result or error, the stream (updates, values,
custom chunks, tasks), the saved history and pending writes, and what a resume after an
interrupt gives. The programs cover ``Send`` fan-outs (the step's tasks on workers), lone tasks
run inline, failures, interrupts, ``Command``s, retries and nodes taking ``config``.
"""

from __future__ import annotations

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
    record_plain_runs,
)

from threadloom.config import get_config
from threadloom.engine import sync
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict, total=False):
    items: list[int]
    results: Annotated[list[Any], operator.add]
    note: str


def _graph(worker: Callable[..., Any], **node: Any) -> Any:
    return fan_graph(State, worker, **node)


def _asks(state: State) -> State:
    n = state["items"][0]
    return {"results": [f"{n}:{interrupt(f'question {n}')}"]}


def _namespace(state: State) -> State:
    ns = str(get_config()["configurable"]["checkpoint_ns"]).split(":")[0]
    return {"results": [f"{ns}/{state['items'][0]}"]}


def _programs() -> dict[str, Callable[[], Any]]:
    return {
        "fan-out": lambda: _graph(double),
        "failure": lambda: _graph(fails_on(2)),
        "interrupt": lambda: _graph(_asks),
        "command": lambda: _graph(commands),
        "config": lambda: _graph(_namespace),
        "retry": lambda: _graph(flaky, retry_policy=RETRY),
    }


def _observe(make: Callable[[], Any]) -> list[Any]:
    """What a user sees of a run, two resumes, and the thread's history and saved writes."""
    ATTEMPTS.clear()
    graph = make()
    config: Any = {"configurable": {"thread_id": "t"}}
    seen: list[Any] = []
    for answer in (None, "yes", "2"):
        payload: Any = {"items": [1, 2, 3], "results": []}
        if answer is not None:
            asked = graph.get_state(config).interrupts  # each answered by its id
            payload = Command(resume={i.id: f"{answer}/{i.value}" for i in asked} or answer)
        try:
            chunks = graph.stream(payload, config, stream_mode=["updates", "values", "custom"])
            seen.append(sorted(map(repr, chunks)))  # the fan-out's tasks finish in any order
        except ValueError as exc:
            seen.append(f"raised {exc} {exc.__notes__}")
    return seen + history(graph, graph.checkpointer, config, results="results")


@pytest.fixture
def plain_tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the tasks that took the short path."""
    yield from record_plain_runs(monkeypatch)


@pytest.mark.parametrize("name", sorted(_programs()))
def test_plain_path_does_what_run_task_does(
    name: str, plain_tasks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make = _programs()[name]
    short = _observe(make)
    assert "prepare" in plain_tasks  # lone tasks run inline take it
    if name == "retry":  # a retry policy takes the general path
        assert "worker" not in plain_tasks
    else:  # so do the fan-out's tasks on the workers
        assert "worker" in plain_tasks
    monkeypatch.setattr(sync, "run_plain", sync.run_task)
    general = _observe(make)
    assert ids_out(short) == ids_out(general)


def test_a_traced_run_and_a_cached_graph_take_the_general_path(
    plain_tasks: list[str],
) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    from threadloom.cache.memory import InMemoryCache
    from threadloom.types import CachePolicy

    traced = {"callbacks": [BaseCallbackHandler()], "configurable": {"thread_id": "t"}}
    _graph(double).invoke({"items": [1]}, traced)
    assert plain_tasks == []
    builder = StateGraph(State)
    builder.add_node("worker", double, cache_policy=CachePolicy())
    builder.add_edge(START, "worker")
    builder.compile(cache=InMemoryCache()).invoke({"items": [1]})
    assert plain_tasks == []
