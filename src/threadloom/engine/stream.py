"""Payloads of the ``checkpoints``, ``tasks`` and ``debug`` stream modes.

``values``, ``updates``, ``custom`` and ``messages`` chunks are built where their data is; these
three describe the run itself (which checkpoint a step starts from, which tasks start and what they
produced), so they are built here from the run's records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from threadloom.checkpoint.base import EXCLUDED_METADATA_KEYS
from threadloom.constants import RETURN

__all__ = [
    "checkpoint_payload",
    "debug",
    "fold_writes",
    "public_config",
    "task_metadata",
    "task_result",
    "task_start",
]


def public_config(
    config: Mapping[str, Any], checkpoint_ns: str, checkpoint_id: str
) -> dict[str, Any]:
    """A run config as shown in a stream, pointing at one checkpoint: only its configurable
    keys, internal ones removed (LangGraph shows no tags, metadata or limits there either)."""
    configurable = {
        k: v for k, v in (config.get("configurable") or {}).items() if not k.startswith("__")
    }
    configurable.update(checkpoint_ns=checkpoint_ns, checkpoint_id=checkpoint_id)
    return {"configurable": configurable}


def checkpoint_payload(
    config: Mapping[str, Any],
    ns: str,
    checkpoint_id: str,
    parent_id: str | None,
    values: Any,
    metadata: Mapping[str, Any],
    tasks: Iterable[Any],
    outcomes: Mapping[str, tuple[Any, Sequence[Any], Any]] | None = None,
) -> dict[str, Any]:
    """What the ``checkpoints`` mode shows for the checkpoint a step starts from.

    ``outcomes`` gives ``(error, interrupts, result)`` of the tasks the checkpoint's saved writes
    tell about (a resumed step's), shown as LangGraph shows them."""
    tasks = list(tasks)
    return {
        "config": public_config(config, ns, checkpoint_id),
        "parent_config": public_config(config, ns, parent_id) if parent_id else None,
        "values": values,
        "metadata": dict(metadata),
        "next": [t.name for t in tasks],
        "tasks": [
            _checkpoint_task(t, outcomes.get(t.id) if outcomes else None, config) for t in tasks
        ],
    }


def _checkpoint_task(
    task: Any, outcome: tuple[Any, Sequence[Any], Any] | None, config: Mapping[str, Any]
) -> dict[str, Any]:
    state = None
    node = getattr(task, "node", None)
    if node is not None and node.subgraph is not None:  # where its subgraph's checkpoints are
        thread_id = config.get("configurable", {}).get("thread_id")
        state = {"configurable": {"thread_id": thread_id, "checkpoint_ns": task.ns}}
    if outcome is None:
        return {"id": task.id, "name": task.name, "interrupts": (), "state": state}
    error, interrupts, result = outcome
    if error:
        return {"id": task.id, "name": task.name, "error": error, "state": state}
    shown: dict[str, Any] = {"id": task.id, "name": task.name}
    if result:
        shown["result"] = result
    shown["interrupts"] = tuple(dataclasses.asdict(i) for i in interrupts)
    shown["state"] = state
    return shown


def task_start(task: Any) -> dict[str, Any]:
    """The ``tasks`` chunk when a task starts; with ``metadata`` when the task has some of its own
    (see ``task_metadata``)."""
    payload = {"id": task.id, "name": task.name, "input": task.input, "triggers": task.triggers}
    node = getattr(task, "node", None)  # LangGraph's debug helpers take tasks without one
    metadata = task_metadata(task.config, getattr(node, "metadata", None))
    if metadata:
        payload["metadata"] = metadata
    return payload


def task_metadata(
    config: Mapping[str, Any] | None, node_metadata: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a task-start chunk shows of the task's metadata, as LangGraph does: the run's and the
    node's own keys (``lc_agent_name``, a user's keys...) without the framework's bookkeeping
    (``langgraph_*``, ``thread_id``, ``checkpoint_*``), and the config's tags but LangChain's
    ``seq:step:*`` under ``tags``. A new dict: changing the config later does not change it."""
    if not config:
        return {}
    shown = {
        k: v for k, v in (config.get("metadata") or {}).items() if k not in EXCLUDED_METADATA_KEYS
    }
    if node_metadata:
        shown.update(node_metadata)
    tags = [tag for tag in config.get("tags") or () if not tag.startswith("seq:step")]
    if tags:
        shown["tags"] = tags
    return shown


def task_result(task: Any, keys: str | Sequence[str]) -> dict[str, Any]:
    """The ``tasks`` chunk when a task ends: its error, its writes to streamed keys, interrupts."""
    return {
        "id": task.id,
        "name": task.name,
        "error": task.error,
        "result": fold_writes(task.writes, keys),
        "interrupts": [dataclasses.asdict(i) for i in task.interrupts],
    }


def fold_writes(
    writes: Iterable[tuple[str, Any]], keys: str | Sequence[str] | None = None
) -> dict[str, Any]:
    """``{channel: value}`` of ``writes`` (those to ``keys`` and the return value; every one when
    ``keys`` is None), a channel written more than once as ``{"$writes": [v1, v2, ...]}``."""
    selected: dict[str, Any] = {}
    for chan, value in writes:
        if (
            keys is None
            or chan == RETURN
            or (chan == keys if isinstance(keys, str) else chan in keys)
        ):
            if chan in selected:
                previous = selected[chan]
                if isinstance(previous, dict) and "$writes" in previous:
                    previous["$writes"].append(value)
                else:
                    selected[chan] = {"$writes": [previous, value]}
            else:
                selected[chan] = value
    return selected


def debug(kind: str, step: int, payload: Any) -> dict[str, Any]:
    """A ``debug`` chunk: a checkpoint or task event with its step and time."""
    return {
        "step": step,
        "timestamp": datetime.now(UTC).isoformat(),
        "type": kind,
        "payload": payload,
    }
