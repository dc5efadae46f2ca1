"""Which checkpoints a prune drops and which stored values stay needed (DECISIONS 5).

Pure rules over plain records, shared by every backend:

- ``strategy="delete"`` drops everything of the thread;
- ``strategy="keep_latest"`` keeps the newest ``keep_last`` checkpoints (default 1) of each
  (thread, namespace), and with ``before=`` drops only checkpoints created before that time;
- a checkpoint paused on an interrupt that was never resumed (it has an ``__interrupt__`` write
  and no child) is always kept, so pruning never loses a pending human-in-the-loop question;
- a stored value is kept while a kept checkpoint uses it, directly or as the base of a delta.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["CheckpointInfo", "checkpoints_to_drop", "live_blobs", "validate_prune_args"]

Version = str | int | float


@dataclass(slots=True, frozen=True)
class CheckpointInfo:
    """What the rules need to know about one checkpoint of one (thread, namespace)."""

    checkpoint_id: str
    parent_id: str | None
    ts: str
    has_interrupt: bool


def validate_prune_args(strategy: str, keep_last: int | None, before: datetime | None) -> None:
    """Reject combinations that do not mean anything, naming the fix."""
    if strategy not in ("keep_latest", "delete"):
        raise ValueError(
            f"prune strategy {strategy!r} is unknown: use 'keep_latest' (optionally with "
            "keep_last=N and/or before=datetime) or 'delete'."
        )
    if strategy == "delete" and (keep_last is not None or before is not None):
        raise ValueError(
            "prune(strategy='delete') removes every checkpoint, so keep_last/before do not "
            "apply: use strategy='keep_latest' with keep_last=/before= to keep some."
        )
    if keep_last is not None and keep_last < 1:
        raise ValueError(
            f"prune keep_last={keep_last!r} must be at least 1: to remove everything use "
            "strategy='delete'."
        )


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def checkpoints_to_drop(
    infos: Sequence[CheckpointInfo],
    *,
    strategy: str = "keep_latest",
    keep_last: int | None = None,
    before: datetime | None = None,
) -> set[str]:
    """Ids to drop among the checkpoints of one (thread, namespace)."""
    if strategy == "delete":
        return {info.checkpoint_id for info in infos}
    newest_first = sorted(infos, key=lambda info: info.checkpoint_id, reverse=True)
    candidates = newest_first[keep_last or 1 :]
    if before is not None:
        limit = _as_utc(before)
        candidates = [c for c in candidates if _as_utc(datetime.fromisoformat(c.ts)) < limit]
    parents = {info.parent_id for info in infos}
    return {
        c.checkpoint_id
        for c in candidates
        if not (c.has_interrupt and c.checkpoint_id not in parents)  # a pending interrupt
    }


def live_blobs(
    used: Iterable[tuple[Any, Version]],
    base_of: Callable[[Any, Version], Version | None],
) -> set[tuple[Any, Version]]:
    """Every (channel key, version) that ``used`` needs, following delta bases."""
    live: set[tuple[Any, Version]] = set()
    stack = list(used)
    while stack:
        item = stack.pop()
        if item in live:
            continue
        live.add(item)
        base = base_of(*item)
        if base is not None:
            stack.append((item[0], base))
    return live
