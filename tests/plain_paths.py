"""What the tests of the sync driver's short path (``sync.run_plain``) and of the run loop's
recorded batches share: a record of the tasks that took the short path, a fan-out graph and its
nodes, and observations made comparable across runs (``ids_out``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.config import get_stream_writer
from threadloom.engine import sync
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, RetryPolicy, Send


def record_plain_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the tasks that take the short path (the ``plain_runs`` fixture)."""
    taken: list[str] = []
    short = sync.run_plain

    def counted(t: Any, runner: Any) -> None:
        taken.append(t.name)
        short(t, runner)

    monkeypatch.setattr(sync, "run_plain", counted)
    yield taken


def history(graph: Any, saver: Any, config: Any, results: str | None = None) -> list[Any]:
    """The thread's snapshots (values, next, metadata, task count) and each checkpoint's saved
    writes; the ``results`` key's list sorted (a fan-out's tasks finish in any order)."""
    seen: list[Any] = []
    for snapshot in graph.get_state_history(config):
        values = snapshot.values
        if results is not None:
            values = {k: sorted(map(repr, v)) if k == results else v for k, v in values.items()}
        seen.append((values, snapshot.next, snapshot.metadata, len(snapshot.tasks)))
    for stored in saver.list(config):
        writes = sorted((w[1], repr(w[2])) for w in stored.pending_writes or ())
        seen.append((stored.metadata.get("step"), writes))
    return seen


def ids_out(seen: list[Any]) -> str:
    """The observations with checkpoint, task and interrupt ids and timestamps (fresh each
    run) taken out."""
    text = re.sub(r"\b[0-9a-f]{32}\b", "<hex>", repr(seen))
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<id>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+", "<ts>", text)


def fan(state: Any) -> list[Send]:
    """A ``Send`` to ``worker`` per item."""
    return [Send("worker", {"items": [n]}) for n in state["items"]]


def fan_graph(
    schema: Any, worker: Callable[..., Any], *, saver: bool = True, edge: bool = True, **node: Any
) -> Any:
    """prepare -> a ``worker`` task per item (``fan``) -> finish, on ``schema`` (``items``,
    ``results`` summed, ``note``). ``edge=False``: the worker ends the run (a task writing
    nothing then saves NO_WRITES)."""
    builder = StateGraph(schema)
    builder.add_node("prepare", lambda state: {"note": "prepared"})
    builder.add_node("worker", worker, **node)
    builder.add_node("finish", lambda state: {"note": f"{len(state['results'])} results"})
    builder.add_edge(START, "prepare")
    builder.add_conditional_edges("prepare", fan, ["worker"])
    if edge:
        builder.add_edge("worker", "finish")
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=InMemorySaver() if saver else None)


def double(state: Any) -> Any:
    """A worker streaming its item as a custom chunk and adding it doubled."""
    get_stream_writer()({"custom": state["items"][0]})
    return {"results": [2 * state["items"][0]]}


def commands(state: Any) -> Command[Any]:
    """A worker answering with a ``Command`` (its item, and a goto)."""
    return Command(update={"results": [state["items"][0]]}, goto="finish")


def fails_on(refused: int) -> Callable[[Any], Any]:
    """A worker failing on the item ``refused`` and adding any other."""

    def worker(state: Any) -> Any:
        if state["items"][0] == refused:
            raise ValueError(f"{refused} is refused")
        return {"results": [state["items"][0]]}

    return worker


ATTEMPTS: list[int] = []
"""The items ``flaky`` was called with (cleared by each observation)."""

RETRY = RetryPolicy(max_attempts=2, initial_interval=0.0, jitter=False, retry_on=ValueError)
"""A second attempt, at once, after a ``ValueError``: ``flaky``'s policy."""


def flaky(state: Any) -> Any:
    """A worker whose first attempt at each item fails (retried under ``RETRY``)."""
    ATTEMPTS.append(state["items"][0])
    if ATTEMPTS.count(state["items"][0]) == 1:
        raise ValueError("first attempt fails")
    return {"results": [state["items"][0]]}
