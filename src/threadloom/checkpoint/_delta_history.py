"""The walk behind ``BaseCheckpointSaver.get_delta_channel_history`` and its async twin.

For each asked channel, the writes its ancestors received (oldest first) back to the nearest
ancestor storing a value for it (the seed). The walk follows ``parent_config`` from the target's
parent, so on a forked thread only the checkpoints on the target's own path count; the target's
own writes are pending for its next step and are left out. Each ancestor is read once for all
channels, and the walk stops at a checkpoint it has already read (a put that re-used an id can
make the parent links loop).

The walk is a generator that yields the config of the next checkpoint to read and is sent the
tuple read (or None): the sync and async methods only differ in how they read.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from threadloom.checkpoint.base import CheckpointTuple, PendingWrite

__all__ = ["DeltaChannelHistory", "run_async", "run_sync", "walk_delta_history"]


class DeltaChannelHistory(TypedDict):
    """One channel's entry in ``get_delta_channel_history``.

    ``writes``: the ``(task_id, channel, value)`` writes of the target's ancestors to this
    channel, oldest first (always present, maybe empty). ``seed``: the value stored for the
    channel at the nearest ancestor that has one; absent when no ancestor stores one (start
    from empty).
    """

    writes: list[PendingWrite]
    seed: NotRequired[Any]


Walk = Generator["RunnableConfig", "CheckpointTuple | None", dict[str, DeltaChannelHistory]]


def walk_delta_history(config: RunnableConfig, channels: Sequence[str]) -> Walk:
    """Yield the configs to read, target first; return each channel's history."""
    backwards: dict[str, list[PendingWrite]] = {name: [] for name in channels}
    seeds: dict[str, Any] = {}
    open_channels = set(channels)
    target = (yield config) if channels else None
    cursor = target.parent_config if target is not None else None
    seen = {target.checkpoint["id"]} if target is not None else set()
    while cursor is not None and open_channels:
        found = yield cursor
        if found is None or found.checkpoint["id"] in seen:
            break
        seen.add(found.checkpoint["id"])
        for write in reversed(found.pending_writes or ()):
            if write[1] in open_channels:
                backwards[write[1]].append(write)
        values = found.checkpoint["channel_values"]
        for name in [n for n in open_channels if n in values]:
            seeds[name] = values[name]
            open_channels.discard(name)
        cursor = found.parent_config
    history: dict[str, DeltaChannelHistory] = {}
    for name in channels:
        entry: DeltaChannelHistory = {"writes": backwards[name][::-1]}
        if name in seeds:
            entry["seed"] = seeds[name]
        history[name] = entry
    return history


def run_sync(walk: Walk, read: Any) -> Mapping[str, DeltaChannelHistory]:
    """Drive ``walk`` with ``read(config) -> CheckpointTuple | None``."""
    try:
        wanted = next(walk)
        while True:
            wanted = walk.send(read(wanted))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(walk: Walk, read: Any) -> Mapping[str, DeltaChannelHistory]:
    """Drive ``walk`` with ``await read(config)``."""
    try:
        wanted = next(walk)
        while True:
            wanted = walk.send(await read(wanted))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
