"""``Runtime``: what a node, task or entrypoint may ask for besides its input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

__all__ = ["DEFAULT_RUNTIME", "ExecutionInfo", "RunControl", "Runtime", "get_runtime"]

ContextT = TypeVar("ContextT")


def _no_op_writer(_: Any) -> None:
    """The stream writer when the ``custom`` mode is not being streamed."""


class RunControl:
    """Asks a running graph to stop cleanly: ``request_drain(reason)`` (from any thread, e.g. a
    signal handler) makes the run stop before its next superstep, save its checkpoint and raise
    ``GraphDrained(reason)``; invoking the thread again with ``None`` goes on from there.

    One per run: pass it as ``invoke(..., control=...)`` (or ``stream``, ``stream_events``); a
    node reads it as ``runtime.control``. A drained control stays drained.
    """

    __slots__ = ("_reason",)

    def __init__(self) -> None:
        self._reason: str | None = None

    def request_drain(self, reason: str = "shutdown") -> None:
        """Ask the run to stop before its next superstep (one attribute write: thread-safe)."""
        self._reason = reason

    @property
    def drain_requested(self) -> bool:
        """Whether ``request_drain`` was called."""
        return self._reason is not None

    @property
    def drain_reason(self) -> str | None:
        """The reason given to ``request_drain`` (None before it is called)."""
        return self._reason

    def __repr__(self) -> str:
        return f"RunControl(drain_reason={self._reason!r})"


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where the running task sits: thread, checkpoint, task id and attempt."""

    checkpoint_id: str | None = None
    checkpoint_ns: str = ""
    task_id: str = ""
    thread_id: str | None = None
    run_id: str | None = None
    node_attempt: int = 1
    node_first_attempt_time: float | None = None


@dataclass(frozen=True, slots=True)
class Runtime(Generic[ContextT]):
    """The run's context, store, stream writer and (functional API) previous value."""

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = field(default=_no_op_writer)
    previous: Any = None
    execution_info: ExecutionInfo = field(default_factory=ExecutionInfo)
    server_info: Any = None
    control: RunControl | None = None
    """The run's ``RunControl`` (a drain request stops the run before its next step)."""
    heartbeat: Callable[[], None] = field(default=lambda: None)
    """Tells a node's ``TimeoutPolicy(idle_timeout=...)`` the node is making progress."""

    def override(self, **changes: Any) -> Runtime[ContextT]:
        """A copy with some fields replaced."""
        return replace(self, **changes)


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The running task's ``Runtime``; raises RuntimeError outside a run."""
    from threadloom.engine.scratch import current_scratchpad

    runtime: Runtime[ContextT] = current_scratchpad("get_runtime").runtime
    return runtime


DEFAULT_RUNTIME: Runtime[Any] = Runtime()
"""The runtime of code running outside any task: no context, no store, writer and heartbeat
that do nothing."""
