"""Context accessors for code running inside a node, task or entrypoint.

Each raises ``RuntimeError("Called get_config outside of a runnable context")`` outside a run.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.engine.scratch import current_scratchpad
from threadloom.runtime import get_runtime
from threadloom.types import StreamWriter

__all__ = ["get_config", "get_runtime", "get_store", "get_stream_writer"]


def get_config() -> RunnableConfig:
    """The running task's config (thread id, checkpoint ns, user configurable keys …)."""
    return current_scratchpad("get_config").config


def get_store() -> Any:
    """The store the graph or entrypoint was compiled with (``None`` if none was given)."""
    return current_scratchpad("get_store").runtime.store


def get_stream_writer() -> StreamWriter:
    """A function sending one chunk to the ``custom`` stream mode (a no-op when not streamed)."""
    writer: StreamWriter = current_scratchpad("get_stream_writer").writer
    return writer
