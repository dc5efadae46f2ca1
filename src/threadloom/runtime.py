"""``Runtime``: what a node, task or entrypoint may ask for besides its input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

__all__ = ["DEFAULT_RUNTIME", "ExecutionInfo", "Runtime", "get_runtime"]

ContextT = TypeVar("ContextT")


def _no_op_writer(_: Any) -> None:
    """The stream writer when the ``custom`` mode is not being streamed."""


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
    control: Any = None
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
