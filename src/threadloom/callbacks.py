"""Graph lifecycle callbacks: a handler told when a run pauses on interrupts and when it resumes.

Subclass ``GraphCallbackHandler`` and pass it in ``config["callbacks"]`` with any other LangChain
handlers. ``on_interrupt`` receives a ``GraphInterruptEvent`` when a run stops for ``interrupt()``
(status ``"pending"``) or for ``interrupt_before`` / ``interrupt_after``; ``on_resume`` receives a
``GraphResumeEvent`` when a run continues a thread from its checkpoint (``Command(resume=...)`` or
``None`` as input), for the graph and for each subgraph that resumes. Only handlers of this class
receive them. A handler that raises is logged and skipped, unless its ``raise_error`` is true:
then the run raises its error. This is LangGraph's ``langgraph.callbacks``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager
from langchain_core.callbacks.manager import ahandle_event, handle_event

from threadloom.types import Interrupt

__all__ = [
    "GraphCallbackHandler",
    "GraphInterruptEvent",
    "GraphLifecycleEvent",
    "GraphLifecycleStatus",
    "GraphResumeEvent",
]

GraphLifecycleStatus: TypeAlias = Literal[
    "input", "pending", "done", "interrupt_before", "interrupt_after", "out_of_steps"
]
"""Where the run stood when the event was taken."""


@dataclass(frozen=True)
class GraphInterruptEvent:
    """A run paused: on ``interrupt()`` calls (``interrupts``) or before/after a node."""

    run_id: UUID | None
    """The graph run's id in the callback tree."""
    status: GraphLifecycleStatus
    checkpoint_id: str
    """The checkpoint a resume continues from."""
    checkpoint_ns: tuple[str, ...]
    """The graph's namespace: ``()`` for the root graph."""
    interrupts: tuple[Interrupt, ...]


@dataclass(frozen=True)
class GraphResumeEvent:
    """A run continues a thread from a saved checkpoint."""

    run_id: UUID | None
    status: GraphLifecycleStatus
    checkpoint_id: str
    """The checkpoint the run resumed from."""
    checkpoint_ns: tuple[str, ...]


GraphLifecycleEvent: TypeAlias = GraphInterruptEvent | GraphResumeEvent


class GraphCallbackHandler(BaseCallbackHandler):
    """Base class of handlers that observe graph lifecycle events (methods may be async)."""

    def on_interrupt(self, event: GraphInterruptEvent) -> Any:
        """The run paused for interrupts."""

    def on_resume(self, event: GraphResumeEvent) -> Any:
        """The run resumed from a checkpoint."""


def _graph_handlers(handlers: Sequence[BaseCallbackHandler]) -> list[BaseCallbackHandler]:
    return [h for h in handlers if isinstance(h, GraphCallbackHandler)]


class _GraphCallbackManager(BaseCallbackManager):
    """Dispatches lifecycle events to the ``GraphCallbackHandler`` among its handlers (others,
    added by instrumentation libraries, are kept and skipped)."""

    def __init__(
        self,
        handlers: Sequence[BaseCallbackHandler] | None = None,
        inheritable_handlers: Sequence[BaseCallbackHandler] | None = None,
        parent_run_id: UUID | None = None,
        *,
        run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            list(handlers or ()), list(inheritable_handlers or ()), parent_run_id, **kwargs
        )
        self.run_id = run_id

    def on_interrupt(self, event: GraphInterruptEvent) -> None:
        """Tell the graph handlers the run paused."""
        handle_event(_graph_handlers(self.handlers), "on_interrupt", None, event)

    def on_resume(self, event: GraphResumeEvent) -> None:
        """Tell the graph handlers the run resumed."""
        handle_event(_graph_handlers(self.handlers), "on_resume", None, event)

    async def aon_interrupt(self, event: GraphInterruptEvent) -> None:
        """``on_interrupt`` from async code: async handlers are awaited."""
        await ahandle_event(_graph_handlers(self.handlers), "on_interrupt", None, event)
