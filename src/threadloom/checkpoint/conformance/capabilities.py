"""The capabilities a saver can have, and how the suite detects them (an overridden async
method)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from threadloom.checkpoint.base import BaseCheckpointSaver

__all__ = ["BASE_CAPABILITIES", "Capability", "detect"]


class Capability(StrEnum):
    """In the order the suite runs them; the first five are required of every saver."""

    PUT = "put"
    PUT_WRITES = "put_writes"
    GET_TUPLE = "get_tuple"
    LIST = "list"
    DELETE_THREAD = "delete_thread"
    DELETE_FOR_RUNS = "delete_for_runs"
    COPY_THREAD = "copy_thread"
    PRUNE = "prune"


BASE_CAPABILITIES: Final = frozenset(
    {
        Capability.PUT,
        Capability.PUT_WRITES,
        Capability.GET_TUPLE,
        Capability.LIST,
        Capability.DELETE_THREAD,
    }
)

_METHODS: Final = {capability: "a" + capability.value for capability in Capability}


def detect(saver: BaseCheckpointSaver[object]) -> set[Capability]:  # type: ignore[type-var]
    """Capabilities whose async method the saver's class overrides."""
    cls = type(saver)
    return {
        capability
        for capability, method in _METHODS.items()
        if getattr(cls, method, None) is not getattr(BaseCheckpointSaver, method)
    }
