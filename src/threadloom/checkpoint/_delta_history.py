"""``get_delta_channel_history``: LangGraph 1.2's saver method for its ``DeltaChannel``.

For each channel asked for, the writes made to it along the parent chain of a checkpoint (oldest
first; the checkpoint's own pending writes excluded), back to the nearest ancestor that stores a
value for it (returned as ``seed``; no ``seed`` when none does). threadloom's own
``DeltaChannel`` stores its value and never needs this; it is here for programs and saver
subclasses written against LangGraph's interface. The walk is one core over ``get_tuple``
results, driven by a sync and an async shell.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

__all__ = ["adelta_channel_history", "delta_channel_history"]


def _walk(channels: Sequence[str]) -> Generator[Any, Any, dict[str, dict[str, Any]]]:
    """Send it the target's tuple, then each parent's it asks for (by yielding its config)."""
    writes: dict[str, list[Any]] = {c: [] for c in channels}
    seeds: dict[str, Any] = {}
    remaining = set(channels)
    target = yield None
    parent = target.parent_config if target is not None else None
    while remaining and parent is not None:
        ancestor = yield parent
        if ancestor is None:
            break
        for write in reversed(ancestor.pending_writes or ()):
            if write[1] in remaining:
                writes[write[1]].append(tuple(write))
        values = ancestor.checkpoint["channel_values"]
        for channel in [c for c in remaining if c in values]:
            seeds[channel] = values[channel]
            remaining.discard(channel)
        parent = ancestor.parent_config
    history: dict[str, dict[str, Any]] = {}
    for channel in channels:
        entry: dict[str, Any] = {"writes": list(reversed(writes[channel]))}
        if channel in seeds:
            entry["seed"] = seeds[channel]
        history[channel] = entry
    return history


def delta_channel_history(
    self: Any, *, config: Any, channels: Sequence[str]
) -> Mapping[str, dict[str, Any]]:
    """Per channel: ``{"writes": [...], "seed": value}`` along ``config``'s parent chain."""
    walk = _walk(channels)
    ask = next(walk)
    try:
        while True:
            ask = walk.send(self.get_tuple(config if ask is None else ask))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def adelta_channel_history(
    self: Any, *, config: Any, channels: Sequence[str]
) -> Mapping[str, dict[str, Any]]:
    """Async ``get_delta_channel_history``."""
    walk = _walk(channels)
    ask = next(walk)
    try:
        while True:
            ask = walk.send(await self.aget_tuple(config if ask is None else ask))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
