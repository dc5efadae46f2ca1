"""``ToolRuntime``: what ``ToolNode`` hands a tool that has a parameter of that type.

A tool declares ``runtime: ToolRuntime`` (or ``ToolRuntime[Context, State]``) and ``ToolNode``
fills it in for each call, hidden from the model's tool schema (no ``Annotated`` needed): the
graph state, the run's context, config, store and stream writer, the call's id, the node's tools,
and ``emit_output_delta`` to stream partial output as ``tool-output-delta`` events of the
``tools`` stream mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langchain_core.tools.base import _DirectlyInjectedToolArg
from typing_extensions import TypeVar

from threadloom.engine.tool_events import emit_output_delta
from threadloom.runtime import ExecutionInfo, ServerInfo

__all__ = ["ToolRuntime"]

ContextT = TypeVar("ContextT")
StateT = TypeVar("StateT", default=Any)
"""(A default, so ``ToolRuntime[Context]`` names the context alone; ``Any`` rather than LangGraph's
``dict`` and ``None`` defaults, with which pydantic warns when a tool's traced input holds a
runtime whose context or state is of another type.)"""


@dataclass
class ToolRuntime(_DirectlyInjectedToolArg, Generic[ContextT, StateT]):
    """The run as one tool call sees it (injected by ``ToolNode``; hidden from the model)."""

    state: StateT
    """The graph state the node received."""
    context: ContextT
    """The run's context (``context=`` of the call), as ``Runtime.context``."""
    config: RunnableConfig
    """The config the tool runs with."""
    stream_writer: Any
    """The ``custom`` stream writer, as ``Runtime.stream_writer``."""
    tool_call_id: str | None
    """The id of the model's tool call this run answers."""
    store: Any
    """The graph's store, or None."""
    tools: list[BaseTool] = field(default_factory=list)
    """Every tool of the ``ToolNode``."""
    execution_info: ExecutionInfo | None = None
    """Where the node's task sits (thread, checkpoint, attempt), as ``Runtime.execution_info``."""
    server_info: ServerInfo | None = None
    """The server's assistant and user, when the run is served; None otherwise."""

    def emit_output_delta(self, delta: Any) -> None:
        """Stream ``delta`` as a ``tool-output-delta`` event of this call on the ``tools``
        stream mode; does nothing when the run does not stream ``tools``."""
        emit_output_delta(delta)
