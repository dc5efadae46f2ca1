"""``ToolInvocationError``: kept apart from ``threadloom.errors`` because its base class,
langchain-core's ``ToolException``, imports the tracing machinery (about two seconds), which a
program that only opens a saver should not pay. ``threadloom.errors`` re-exports it on first use.
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import ToolException

__all__ = ["ToolInvocationError"]


class ToolInvocationError(ToolException):
    """A tool call's arguments did not validate against the tool's schema (``ToolNode``).

    By default ``ToolNode`` turns it into an error ``ToolMessage`` so the model can retry with
    fixed arguments; with ``handle_tool_errors=False`` it is raised.
    """

    def __init__(
        self, tool_name: str, source: Exception, tool_kwargs: dict[str, Any], detail: str
    ) -> None:
        self.tool_name, self.source, self.tool_kwargs = tool_name, source, tool_kwargs
        super().__init__(
            f"Error invoking tool {tool_name!r} with kwargs {tool_kwargs!r} with error:\n"
            f" {detail}\n Please fix the error and try again."
        )
