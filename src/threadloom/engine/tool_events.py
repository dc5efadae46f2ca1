"""The ``tools`` stream mode: the lifecycle of each tool call made inside the graph's tasks.

A LangChain callback handler rides on every task's config while ``tools`` is streamed (as the
``messages`` handler does). A LangChain tool called in a node, a ``ToolNode`` or a ``@task`` reports
its start, end and error to it, and each becomes one chunk, a dict keyed by ``event``:

- ``{"event": "tool-started", "tool_call_id", "tool_name", "input"}``
- ``{"event": "tool-finished", "tool_call_id", "output"}``
- ``{"event": "tool-error", "tool_call_id", "message"}``

``tool_call_id`` is the id of the model's tool call the tool answers (a tool invoked with a
``ToolCall``), else the tool run's id, so a client pairs the events of one call. A tool stopped by
an ``interrupt()`` is paused, not failed: it reports no error (it starts again on resume).
Subgraphs stream their tools through handlers of their own, whose chunks reach the parent's
stream with the subgraph's namespace (``subgraphs=True``).

While a tool runs, its ``ToolRuntime.emit_output_delta(delta)`` streams
``{"event": "tool-output-delta", "tool_call_id", "delta"}``: the handler's ``on_tool_start`` puts a
writer bound to the call in a context variable the tool's body runs under (langchain copies the
context after ``on_tool_start``), and its end or error takes it away.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from threadloom.constants import TAG_NOSTREAM
from threadloom.errors import GraphDrained, GraphInterrupt

__all__ = ["StreamToolsHandler", "emit_output_delta"]

_delta_writer: ContextVar[Callable[[Any], None] | None] = ContextVar(
    "threadloom_tool_delta_writer", default=None
)
"""The running tool call's ``tool-output-delta`` writer (None: ``tools`` is not streamed)."""


def emit_output_delta(delta: Any) -> None:
    """Stream ``delta`` for the tool call running in this context, if ``tools`` is streamed."""
    writer = _delta_writer.get()
    if writer is not None:
        writer(delta)


class StreamToolsHandler(BaseCallbackHandler):
    """Turns tool callbacks into ``tools`` chunks."""

    run_inline = True
    """Called on the thread that runs the tool, so a call's events keep their order."""

    def __init__(self, emit: Callable[[str, Any], None], *, subgraphs: bool = False) -> None:
        self.emit = emit
        self.subgraphs = subgraphs
        """The run streams with ``subgraphs=True``: a graph a node runs on a thread of its own
        (a root run) reports to this handler too, as LangGraph's does."""
        self.calls: dict[UUID, tuple[str, Token[Callable[[Any], None] | None]]] = {}
        """Tool run id → the tool call id its events carry (end and error get only the run id)
        and the token that takes its delta writer away."""

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if not metadata or "langgraph_node" not in metadata or TAG_NOSTREAM in (tags or ()):
            return  # not run by one of the graph's tasks, or opted out
        call_id = kwargs.get("tool_call_id") or str(run_id)

        def write_delta(delta: Any) -> None:
            self.emit(
                "tools", {"event": "tool-output-delta", "tool_call_id": call_id, "delta": delta}
            )

        self.calls[run_id] = (call_id, _delta_writer.set(write_delta))
        name = (serialized or {}).get("name") or kwargs.get("name") or ""
        event: dict[str, Any] = {
            "event": "tool-started",
            "tool_call_id": call_id,
            "tool_name": name,
        }
        if inputs is not None:
            event["input"] = inputs
        self.emit("tools", event)

    def _ended(self, run_id: UUID) -> str | None:
        """The call id of a tool run that ended, its delta writer taken away; None if the run
        was not reported."""
        started = self.calls.pop(run_id, None)
        if started is None:
            return None
        call_id, token = started
        # (a tool ending in another context than it started: that context ends with it)
        with contextlib.suppress(ValueError):
            _delta_writer.reset(token)
        return call_id

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> Any:
        call_id = self._ended(run_id)
        if call_id is not None:
            self.emit(
                "tools", {"event": "tool-finished", "tool_call_id": call_id, "output": output}
            )

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> Any:
        call_id = self._ended(run_id)
        # an interrupted or drained tool is paused, not failed: it runs again on resume
        if call_id is not None and not isinstance(error, GraphInterrupt | GraphDrained):
            event = {"event": "tool-error", "tool_call_id": call_id, "message": str(error)}
            self.emit("tools", event)
