"""Cooperative draining: how a ``RunControl`` reaches a run and its subgraphs.

The caller's control travels in the run's config (so a subgraph, or a graph a node invokes, gets
its parent's); a root run given none makes its own, so ``runtime.control`` is always set in a
node. The run checks it before each superstep (``Run.tick``) and, drained, stops there and raises
``GraphDrained`` once its checkpoint is saved (``engine/loop.py``), as LangGraph 1.2 does.
"""

from __future__ import annotations

from typing import Any, Final

from langchain_core.runnables import RunnableConfig

from threadloom.errors import GraphDrained
from threadloom.runtime import RunControl

__all__ = ["CONFIG_KEY_CONTROL", "drained_error", "with_control"]

CONFIG_KEY_CONTROL: Final = "__pregel_control"
"""The run's ``RunControl``, inherited by the graphs run inside its tasks."""


def with_control(config: RunnableConfig | None, control: Any) -> RunnableConfig | None:
    """``config`` carrying the caller's ``control=`` (unchanged when it is None)."""
    if control is None:
        return config
    if not isinstance(control, RunControl):
        raise TypeError(
            f"control must be a threadloom.runtime.RunControl, got {control!r}: create one with "
            "RunControl() and call its request_drain() to stop the run"
        )
    given: dict[str, Any] = dict(config or {})
    given["configurable"] = {**(given.get("configurable") or {}), CONFIG_KEY_CONTROL: control}
    return given  # type: ignore[return-value]


def drained_error(control: RunControl) -> GraphDrained:
    """What a drained run raises once it has saved where it stopped."""
    return GraphDrained(control.drain_reason or "shutdown")
