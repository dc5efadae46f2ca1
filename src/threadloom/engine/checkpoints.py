"""A run's checkpoints as the engine makes them: the next one from the channels (its id, its
timestamp, the values that changed), the channels from a saved one, and a run's own copy.

Pure like ``core``: no waiting, no saver. ``core`` decides what a superstep's tasks are and what
their writes do; this module turns the channels they leave into the checkpoint a saver keeps
(``engine/saves.py`` decides when it is saved), and back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from threadloom.checkpoint.base import Checkpoint
from threadloom.checkpoint.id import uuid6_str
from threadloom.engine.channels import MISSING, Channel
from threadloom.engine.plan import Plan

__all__ = [
    "channels_from_checkpoint",
    "copy_checkpoint_for_run",
    "next_checkpoint",
    "null_version",
]


def null_version(versions: Mapping[str, Any]) -> Any:
    """The version every real version is greater than: ``""`` for string versions, else 0."""
    for value in versions.values():
        return type(value)()
    return 0


def channels_from_checkpoint(plan: Plan, checkpoint: Checkpoint) -> dict[str, Channel]:
    """Fresh channels holding the checkpoint's values."""
    values = checkpoint["channel_values"]
    return {
        name: proto.from_checkpoint(values.get(name, MISSING))
        for name, proto in plan.channels.items()
    }


def next_checkpoint(
    checkpoint: Checkpoint,
    channels: Mapping[str, Channel],
    step: int,
    updated: Iterable[str],
    *,
    changed: Iterable[str] | None = None,
    kept: bool = True,
) -> Checkpoint:
    """A new checkpoint of the channels' values, with a fresh time-ordered id.

    With ``changed`` (the channels given a new version since ``checkpoint``), only those values
    are read again; the version dicts are taken over as they are, not copied. ``kept=False``:
    no saver keeps it and no chunk shows it (a run without a checkpointer), so it gets no
    timestamp (``""``) and no ``updated_channels`` (None): only its id and versions are read.
    """
    versions = checkpoint["channel_versions"]
    if changed is None:
        values: dict[str, Any] = {}
        for name in versions:
            channel = channels.get(name)
            if channel is not None and (stored := channel.checkpoint()) is not MISSING:
                values[name] = stored
        versions = dict(versions)
        seen = {k: dict(v) for k, v in checkpoint["versions_seen"].items()}
    else:
        values = dict(checkpoint["channel_values"])
        for name in changed:  # (channels a write bumped: every one is in ``channels``)
            channel = channels[name]
            stored = channel.value if channel.stores_value else channel.checkpoint()
            if stored is MISSING:
                values.pop(name, None)
            else:
                values[name] = stored
        seen = checkpoint["versions_seen"]
    now = time.time_ns()  # one clock read for the id and the timestamp
    return {
        "v": 4,
        "id": uuid6_str(step, now),
        "ts": _now_iso(now) if kept else "",
        "channel_values": values,
        "channel_versions": versions,
        "versions_seen": seen,
        "updated_channels": sorted(updated) if kept else None,
    }


_second: tuple[int, str] = (-1, "")
"""The last whole second ``_now_iso`` formatted, as ``(epoch second, "YYYY-MM-DDTHH:MM:SS")``."""


def _now_iso(now_ns: int | None = None) -> str:
    """``datetime.now(UTC).isoformat()`` (of ``now_ns`` when given), a third of the cost: one
    checkpoint per step asks, and within a second only the microseconds change."""
    global _second
    second, micros = divmod((time.time_ns() if now_ns is None else now_ns) // 1000, 1_000_000)
    cached = _second  # one tuple, read and replaced whole: safe across threads
    if cached[0] != second:
        cached = _second = (second, datetime.fromtimestamp(second, UTC).isoformat()[:19])
    # isoformat leaves the fraction out at a whole second; so does this
    # (printf-style: an f-string's ``:06d`` takes the general format-spec machinery)
    return "%s.%06d+00:00" % (cached[1], micros) if micros else cached[1] + "+00:00"  # noqa: UP031


def copy_checkpoint_for_run(checkpoint: Checkpoint) -> Checkpoint:
    """A copy whose version dicts a run may change (a saver's own dicts are never touched)."""
    return {
        **checkpoint,
        "channel_values": dict(checkpoint["channel_values"]),
        "channel_versions": dict(checkpoint["channel_versions"]),
        "versions_seen": {k: dict(v) for k, v in checkpoint["versions_seen"].items()},
    }
