"""One module of checks per capability; ``SUITES`` maps each capability to its checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from threadloom.checkpoint.conformance.capabilities import Capability
from threadloom.checkpoint.conformance.suites import (
    copy_thread,
    delete_for_runs,
    delete_thread,
    get_tuple,
    list_,
    prune,
    put,
    put_writes,
)

__all__ = ["SUITES", "Check"]

Check = Callable[[Any], Awaitable[None]]

SUITES: Final[dict[Capability, list[Check]]] = {
    Capability.PUT: put.CHECKS,
    Capability.PUT_WRITES: put_writes.CHECKS,
    Capability.GET_TUPLE: get_tuple.CHECKS,
    Capability.LIST: list_.CHECKS,
    Capability.DELETE_THREAD: delete_thread.CHECKS,
    Capability.DELETE_FOR_RUNS: delete_for_runs.CHECKS,
    Capability.COPY_THREAD: copy_thread.CHECKS,
    Capability.PRUNE: prune.CHECKS,
}
