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

from threadloom.constants import ERROR, INTERRUPT, RETURN

__all__ = ["checkpoint_payload", "debug", "public_config", "task_result", "task_start"]


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
) -> dict[str, Any]:
    """What the ``checkpoints`` mode shows for the checkpoint a step starts from."""
    tasks = list(tasks)
    return {
        "config": public_config(config, ns, checkpoint_id),
        "parent_config": public_config(config, ns, parent_id) if parent_id else None,
        "values": values,
        "metadata": dict(metadata),
        "next": [t.name for t in tasks],
        "tasks": [{"id": t.id, "name": t.name, "interrupts": (), "state": None} for t in tasks],
    }


def task_start(task: Any) -> dict[str, Any]:
    """The ``tasks`` chunk when a task starts."""
    return {"id": task.id, "name": task.name, "input": task.input, "triggers": task.triggers}


def task_result(task: Any, keys: str | Sequence[str]) -> dict[str, Any]:
    """The ``tasks`` chunk when a task ends: its error, its writes to streamed keys, interrupts."""
    selected: dict[str, Any] = {}
    for chan, value in task.writes:
        if chan in (ERROR, INTERRUPT):
            continue
        if chan == RETURN or (chan == keys if isinstance(keys, str) else chan in keys):
            if chan in selected:
                previous = selected[chan]
                if isinstance(previous, dict) and "$writes" in previous:
                    previous["$writes"].append(value)
                else:
                    selected[chan] = {"$writes": [previous, value]}
            else:
                selected[chan] = value
    return {
        "id": task.id,
        "name": task.name,
        "error": task.error,
        "result": selected,
        "interrupts": [dataclasses.asdict(i) for i in task.interrupts],
    }


def debug(kind: str, step: int, payload: Any) -> dict[str, Any]:
    """A ``debug`` chunk: a checkpoint or task event with its step and time."""
    return {
        "step": step,
        "timestamp": datetime.now(UTC).isoformat(),
        "type": kind,
        "payload": payload,
    }
