"""What of a task's writes a checkpoint keeps: nothing written to an ``UntrackedValue`` channel.

An ``UntrackedValue`` may hold a live resource (a client, a lock) that no serializer takes, so
LangGraph never saves its writes: not as pending writes, not inside a ``Send`` argument saved in
the checkpoint's packets. The run saves ``saved_writes`` of each task's writes; the live writes
still reach the channels.
"""

from __future__ import annotations

from typing import Any

from threadloom.constants import TASKS
from threadloom.engine.channels import MISSING, Topic
from threadloom.types import Send

__all__ = ["SendTopic", "saved_writes"]


def saved_writes(writes: list[tuple[str, Any]], untracked: frozenset[str]) -> list[tuple[str, Any]]:
    """``writes`` as a checkpoint keeps them, as LangGraph does: none to an ``UntrackedValue``
    channel, and a ``Send`` whose argument is a dict without its keys that name one (only the
    top level: a nested dict may use the same key for data of its own)."""
    kept: list[tuple[str, Any]] = []
    for chan, value in writes:
        if chan in untracked:
            continue
        if chan == TASKS:
            value = _saved_send(value, untracked)
        kept.append((chan, value))
    return kept


def _saved_send(value: Any, untracked: frozenset[str]) -> Any:
    if (
        isinstance(value, Send)
        and isinstance(value.arg, dict)
        and untracked.intersection(value.arg)
    ):
        return Send(value.node, {k: v for k, v in value.arg.items() if k not in untracked})
    return value


class SendTopic(Topic):
    """The ``Send`` packets channel of a graph with ``UntrackedValue`` channels: its checkpoint
    keeps each packet without the untracked keys of its argument (the live packet keeps them,
    so the node sent to still gets them), as LangGraph saves it."""

    __slots__ = ("untracked",)

    def __init__(self, untracked: frozenset[str], *, key: str = "") -> None:
        super().__init__(key=key)
        self.untracked = untracked

    def _empty(self) -> Any:
        return SendTopic(self.untracked, key=self.key)

    def checkpoint(self) -> Any:
        stored = super().checkpoint()
        if stored is MISSING:
            return stored
        return [_saved_send(packet, self.untracked) for packet in stored]
