"""The task running in this context: one context variable, set by the engine around each task.

It lives outside the engine so that the user-facing helpers (``types.interrupt``) reach the
running task without importing the engine; ``engine/scratch.py`` sets it and types what it holds.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = ["current_task", "running_task"]

current_task: ContextVar[Any] = ContextVar("threadloom_task", default=None)
"""The running task's scratchpad (``engine.scratch.TaskScratchpad``), or None outside a run."""


def running_task() -> Any:
    """The running task's scratchpad; outside a run, the contract's RuntimeError."""
    pad = current_task.get()
    if pad is None:
        raise RuntimeError("Called get_config outside of a runnable context")
    return pad
