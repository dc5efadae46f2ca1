"""``Runtime``: what a node, task or entrypoint may ask for besides its input."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

__all__ = [
    "DEFAULT_RUNTIME",
    "ExecutionInfo",
    "RunControl",
    "Runtime",
    "ServerInfo",
    "get_runtime",
    "server_info_of",
]

ContextT = TypeVar("ContextT")


def _no_op_writer(_: Any) -> None:
    """The stream writer when the ``custom`` mode is not being streamed."""


def _no_op_heartbeat() -> None:
    """The heartbeat of a runtime made outside a task with an idle timeout."""


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

    def patch(self, **changes: Any) -> ExecutionInfo:
        """A copy with some fields replaced (this one is frozen)."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Who runs the graph when a LangGraph-compatible server does: its assistant, its graph id
    and the authenticated user. ``Runtime.server_info`` is one when the run's
    ``config["configurable"]`` names an ``assistant_id``, a ``graph_id`` or a
    ``langgraph_auth_user`` (what such a server puts there), else None."""

    assistant_id: str
    graph_id: str
    user: Any = None
    """The authenticated user (an object with an ``identity``, read by attribute or key)."""


def server_info_of(configurable: Mapping[str, Any]) -> ServerInfo | None:
    """The ``ServerInfo`` a run's ``configurable`` describes (None when it names none of its
    keys). A user is kept only if it has an ``identity`` attribute, as LangGraph keeps it."""
    assistant_id = configurable.get("assistant_id")
    graph_id = configurable.get("graph_id")
    user = configurable.get("langgraph_auth_user")
    if user is not None and not hasattr(user, "identity"):
        user = None
    if assistant_id is None and graph_id is None and user is None:
        return None
    return ServerInfo(
        assistant_id=str(assistant_id) if assistant_id else "",
        graph_id=str(graph_id) if graph_id else "",
        user=user,
    )


@dataclass(frozen=True, slots=True)
class Runtime(Generic[ContextT]):
    """The run's context, store, stream writer and (functional API) previous value."""

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = field(default=_no_op_writer)
    previous: Any = None
    execution_info: ExecutionInfo | None = None
    """Where the running task sits; None on a ``Runtime`` made outside a run (as LangGraph's:
    code can tell it is not under a graph). Every task of a run gets its own."""
    server_info: ServerInfo | None = None
    """Set when the run's config names a server's assistant, graph or user (``ServerInfo``)."""
    control: RunControl | None = None
    """The run's ``RunControl`` (a drain request stops the run before its next step)."""
    heartbeat: Callable[[], None] = field(default=_no_op_heartbeat)
    """Tells a node's ``TimeoutPolicy(idle_timeout=...)`` the node is making progress."""

    def override(self, **changes: Any) -> Runtime[ContextT]:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """``other`` over this runtime: each field ``other`` leaves empty (None, falsy, or the
        do-nothing writer and heartbeat) is taken from this one."""
        return Runtime(
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=self.stream_writer
            if other.stream_writer is _no_op_writer
            else other.stream_writer,
            previous=self.previous if other.previous is None else other.previous,
            execution_info=self.execution_info
            if other.execution_info is None
            else other.execution_info,
            server_info=other.server_info or self.server_info,
            control=other.control or self.control,
            heartbeat=self.heartbeat if other.heartbeat is _no_op_heartbeat else other.heartbeat,
        )

    def patch_execution_info(self, **changes: Any) -> Runtime[ContextT]:
        """A copy whose ``execution_info`` has some fields replaced (raises
        ``ExecutionInfoNotSetError`` when it has none: there is nothing to patch)."""
        if self.execution_info is None:
            from threadloom.errors import ExecutionInfoNotSetError

            raise ExecutionInfoNotSetError(sorted(changes))
        return replace(self, execution_info=self.execution_info.patch(**changes))

    @property
    def drain_requested(self) -> bool:
        """Whether the run's ``control`` was asked to drain (False without one)."""
        return self.control is not None and self.control.drain_requested

    @property
    def drain_reason(self) -> str | None:
        """The reason given to the run's ``control`` (None without one or before a request)."""
        return None if self.control is None else self.control.drain_reason


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The running task's ``Runtime``; raises RuntimeError outside a run."""
    from threadloom.engine.scratch import current_scratchpad

    runtime: Runtime[ContextT] = current_scratchpad("get_runtime").runtime
    return runtime


DEFAULT_RUNTIME: Runtime[Any] = Runtime()
"""The runtime of code running outside any task: no context, no store, writer and heartbeat
that do nothing."""
