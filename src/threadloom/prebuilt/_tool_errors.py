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
    fixed arguments; with ``handle_tool_errors=False`` it is raised. ``filtered_errors`` are
    the validation errors of the arguments the model gave (injected ones left out).
    """

    def __init__(
        self,
        tool_name: str,
        source: Exception,
        tool_kwargs: dict[str, Any],
        filtered_errors: list[Any] | None = None,
    ) -> None:
        if filtered_errors is None:
            detail = str(source)
        else:
            detail = "\n".join(
                f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'Unknown error')}"
                for err in filtered_errors
            )
        self.tool_name, self.source, self.tool_kwargs = tool_name, source, tool_kwargs
        self.filtered_errors = filtered_errors
        self.message = (
            f"Error invoking tool {tool_name!r} with kwargs {tool_kwargs!r} with error:\n"
            f" {detail}\n Please fix the error and try again."
        )
        super().__init__(self.message)
