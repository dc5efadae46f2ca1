"""The payloads of the ``tasks`` and ``debug`` stream modes, as functions of tasks
(``langgraph.pregel.debug``).

These are the functions the engine itself builds those chunks with (``engine/stream.py``), so
what they return is what a run streams::

    from threadloom.pregel.debug import map_debug_tasks

    [payload] = map_debug_tasks([task])  # {"id", "name", "input", "triggers"[, "metadata"]}

A task is any object with ``id``, ``name``, ``input``, ``triggers`` and ``config``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from threadloom.constants import ERROR, INTERRUPT, TAG_HIDDEN
from threadloom.engine.stream import fold_writes, task_start

__all__ = [
    "map_debug_task_results",
    "map_debug_tasks",
    "map_task_result_writes",
]


def map_debug_tasks(tasks: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The task-start payload of each task not tagged hidden (``langsmith:hidden``).

    ``metadata`` is there when the task has some of its own: its config's metadata without the
    framework's keys (``langgraph_*``, ``thread_id``, ``checkpoint_*``), with the config's tags
    (LangChain's ``seq:step:*`` left out) under ``tags``. It is a copy of the config's.
    """
    for task in tasks:
        config = task.config
        if config is not None and TAG_HIDDEN in (config.get("tags") or ()):
            continue
        yield task_start(task)


def map_task_result_writes(writes: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """``{channel: value}`` of ``writes``; a channel written more than once maps to
    ``{"$writes": [value1, value2, ...]}``."""
    return fold_writes(writes)


def map_debug_task_results(
    task_tup: tuple[Any, Sequence[tuple[str, Any]]], stream_keys: str | Sequence[str]
) -> Iterator[dict[str, Any]]:
    """The task-result payload of ``(task, writes)``: the error it wrote, its writes to
    ``stream_keys`` (and its return value), and the interrupts it raised."""
    task, writes = task_tup
    interrupts: list[dict[str, Any]] = []
    for chan, value in writes:
        if chan == INTERRUPT:
            raised = value if isinstance(value, Sequence) else [value]
            interrupts.extend(dataclasses.asdict(i) for i in raised)
    yield {
        "id": task.id,
        "name": task.name,
        "error": next((value for chan, value in writes if chan == ERROR), None),
        "result": fold_writes(writes, stream_keys),
        "interrupts": interrupts,
    }
