"""Node timeouts (``TimeoutPolicy``): which nodes may have one, and how an attempt is bounded.

As in LangGraph, only an async node can be timed out (a thread running Python cannot be stopped),
so a sync node with a timeout is refused when the graph is compiled. An attempt is awaited as an
asyncio task under a watch: past ``run_timeout`` seconds in all, or ``idle_timeout`` seconds since
its last sign of progress, the task is cancelled (its writes are lost) and ``NodeTimeoutError`` is
raised, which retry policies then see like any error of the node. Progress is a chunk the node
streams or a ``runtime.heartbeat()`` (``refresh_on="auto"``), or a heartbeat alone
(``refresh_on="heartbeat"``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from langchain_core.callbacks import BaseCallbackHandler

from threadloom.errors import NodeTimeoutError
from threadloom.types import TimeoutPolicy

__all__ = ["AttemptClock", "ProgressCallbacks", "async_capable", "bounded", "require_async"]

T = TypeVar("T")

_SYNC_REFUSED = (
    "Node timeouts are only supported for async nodes because sync Python execution cannot be "
    "safely cancelled in-process."
)


def require_async(
    name: str, is_async: bool, timeout: TimeoutPolicy | None, kind: str = "Node"
) -> None:
    """Refuse a timeout on a sync node or task (LangGraph's rule and message, with the fix)."""
    if timeout is not None and not is_async:
        raise ValueError(
            f"{_SYNC_REFUSED} {kind} {name!r} is sync: make it an `async def` (and run the graph "
            "with ainvoke/astream), or drop its timeout."
        )


def async_capable(target: Any) -> bool:
    """Whether ``target`` runs as a whole on the event loop, so a timeout can cancel it: an
    ``async def``, a runnable whose every part is async (a ``RunnableLambda`` of an ``async def``,
    a binding, sequence or parallel of such), another runnable or a compiled graph."""
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004
    ):
        return True
    if inspect.isfunction(target) or inspect.ismethod(target):
        return False
    from langchain_core.runnables import (
        RunnableBinding,
        RunnableLambda,
        RunnableParallel,
        RunnableSequence,
    )

    if isinstance(target, RunnableBinding):
        return async_capable(target.bound)
    if isinstance(target, RunnableLambda):
        return getattr(target, "afunc", None) is not None
    if isinstance(target, RunnableParallel):
        return all(async_capable(step) for step in target.steps__.values())
    if isinstance(target, RunnableSequence):
        return all(async_capable(step) for step in target.steps)
    return callable(getattr(target, "ainvoke", None))  # a runnable, a compiled graph


@dataclass(slots=True)
class AttemptClock:
    """When one attempt started and when it last showed progress (monotonic seconds)."""

    policy: TimeoutPolicy
    started: float = field(default_factory=time.monotonic)
    last_progress: float = 0.0

    def __post_init__(self) -> None:
        self.last_progress = self.started

    def touch(self) -> None:
        """Progress was made: the idle timeout starts again."""
        self.last_progress = time.monotonic()

    def streamed(self) -> None:
        """The node streamed a chunk: progress unless only heartbeats count."""
        if self.policy.refresh_on == "auto":
            self.last_progress = time.monotonic()

    def expired(self, now: float) -> tuple[str, float] | None:
        """``(kind, seconds until it fires)`` of the nearest limit, or None with no limit."""
        limits: list[tuple[float, str]] = []
        run, idle = _seconds(self.policy.run_timeout), _seconds(self.policy.idle_timeout)
        if run is not None:
            limits.append((self.started + run - now, "run"))
        if idle is not None:
            limits.append((self.last_progress + idle - now, "idle"))
        if not limits:
            return None
        left, kind = min(limits)
        return kind, left

    def error(self, node: str, kind: str) -> NodeTimeoutError:
        """The error of ``kind``'s limit passing."""
        return NodeTimeoutError(
            node,
            time.monotonic() - self.started,
            kind=kind,
            idle_timeout=_seconds(self.policy.idle_timeout),
            run_timeout=_seconds(self.policy.run_timeout),
        )


def _seconds(value: float | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ProgressCallbacks(BaseCallbackHandler):
    """Counts every callback event inside an attempt (a model's tokens, a tool's start and end,
    a nested runnable) as progress, for ``TimeoutPolicy(refresh_on="auto")``."""

    run_inline = True  # called where the event happens, not on an executor

    def __init__(self, clock: AttemptClock) -> None:
        self.clock = clock

    def _progress(self, *args: Any, **kwargs: Any) -> None:
        self.clock.touch()

    on_llm_start = on_chat_model_start = on_llm_new_token = on_llm_end = _progress
    on_chain_start = on_chain_end = on_tool_start = on_tool_end = _progress
    on_retriever_start = on_retriever_end = on_custom_event = on_text = _progress


async def bounded(call: Awaitable[T], clock: AttemptClock, node: str) -> T:
    """Await ``call`` until it finishes or one of ``clock``'s limits passes."""
    attempt = asyncio.ensure_future(call)
    try:
        while True:
            found = clock.expired(time.monotonic())
            if found is None:
                return await attempt
            kind, left = found
            if left <= 0:
                break
            done, _ = await asyncio.wait({attempt}, timeout=left)
            if done:
                return attempt.result()
    except asyncio.CancelledError:
        attempt.cancel()
        raise
    error = clock.error(node, kind)
    attempt.cancel()  # whatever the attempt does when cancelled (even return), it timed out
    await asyncio.wait({attempt})
    raise error
