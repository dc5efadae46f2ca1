"""The callback handlers a run streams through from inside its tasks, and who else sees them.

``messages`` and ``tools`` chunks come from LangChain callbacks (a chat model's tokens, a tool's
start and end), so a run streaming either mode adds its handler to the callbacks of its config,
which every task's config inherits. A subgraph, or a graph a node runs as the task's child, streams
through handlers of its own (its chunks reach the parent with its namespace): it drops the
parent's. A graph a node runs on a thread of its own is a root run and has no namespace below the
parent's; LangGraph still shows its messages and tool events in a parent stream that asked for
subgraphs (at the root namespace), so that graph keeps such a parent's handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threadloom.constants import CONFIG_KEY_STREAM
from threadloom.engine.messages import StreamMessagesHandler, attach
from threadloom.engine.projection import Projection
from threadloom.engine.tool_events import StreamToolsHandler

__all__ = [
    "attach_stream_handlers",
    "is_stream_handler",
    "is_stream_handler_class",
    "kept_by_child",
]

StreamHandler = StreamMessagesHandler | StreamToolsHandler


def attach_stream_handlers(
    config: dict[str, Any],
    out: Projection,
    runner: Any,
    put: Callable[[tuple[str, Any]], None],
    relay: Any,
) -> None:
    """Add the handlers of the streamed modes to the run's ``config`` (the messages one is also
    the ``runner``'s: it sees each node's input and output)."""
    wants_messages, wants_tools = out.wants("token"), out.wants("tool")
    if not (wants_messages or wants_tools):
        return
    relay = relay or config.get("configurable", {}).get(CONFIG_KEY_STREAM)
    subgraphs = relay is not None

    def emit(mode: str, payload: Any) -> None:
        put((mode, payload))

    if wants_messages:
        seen = relay.messages_seen if subgraphs else None
        runner.messages = StreamMessagesHandler(emit, subgraphs=subgraphs, seen=seen)
        attach(config, runner.messages)
    if wants_tools:
        attach(config, StreamToolsHandler(emit, subgraphs=subgraphs))


def is_stream_handler(handler: Any) -> bool:
    """A run's own ``messages`` or ``tools`` handler (a child graph streams through its own)."""
    return isinstance(handler, StreamHandler)


def is_stream_handler_class(cls: type) -> bool:
    """``is_stream_handler`` for a class."""
    return issubclass(cls, StreamHandler)


def kept_by_child(handler: Any) -> bool:
    """Whether a graph run on a thread of its own inside a task keeps this handler of the run
    calling it: any but a stream handler of a run that does not stream subgraphs."""
    return not isinstance(handler, StreamHandler) or handler.subgraphs
