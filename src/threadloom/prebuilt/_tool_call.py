"""One tool call as ``ToolNode`` runs it: the request interceptors see, the error texts, and how
a tool's return value becomes message content.

``ToolNode(wrap_tool_call=...)`` (``awrap_tool_call=`` for async runs) hands each call to the
wrapper as a ``ToolCallRequest`` with an ``execute`` callable: the wrapper may change the request
(``request.override(...)``), call ``execute`` any number of times (retries), or answer without
calling it (a cache, a tool the node does not have). Re-exported by ``prebuilt/tool_node.py``.
"""

from __future__ import annotations

import inspect
import json
import typing
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypedDict

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.tools.base import TOOL_MESSAGE_BLOCK_TYPES

from threadloom.prebuilt.tool_runtime import ToolRuntime
from threadloom.types import Command

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "AsyncToolCallWrapper",
    "ToolCallRequest",
    "ToolCallWithContext",
    "ToolCallWrapper",
    "msg_content_output",
]

INVALID_TOOL_NAME_ERROR_TEMPLATE = (
    "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
)
"""The error ``ToolMessage`` text for a call to a tool the node does not have."""
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."
"""The error ``ToolMessage`` text when ``handle_tool_errors`` catches an error without a text."""

ErrorHandler = bool | str | Callable[..., str] | type[Exception] | tuple[type[Exception], ...]


@dataclass
class ToolCallRequest:
    """One tool call as a ``wrap_tool_call`` interceptor sees it.

    ``tool`` is None when the node has no tool of the call's name: the interceptor may answer
    the call itself; ``execute`` then answers with the unknown-tool error message.
    """

    tool_call: ToolCall
    tool: BaseTool | None
    state: Any
    runtime: ToolRuntime[Any, Any]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:
            warnings.warn(
                f"Setting attribute {name!r} on ToolCallRequest is deprecated: use "
                "request.override(...) to make a new request with changed values.",
                DeprecationWarning,
                stacklevel=2,
            )
        object.__setattr__(self, name, value)

    @classmethod
    def _made(cls, tool_call: ToolCall, tool: BaseTool | None, state: Any, runtime: Any) -> Any:
        """A request built without the per-attribute ``__setattr__`` calls (ToolNode's, one per
        tool call)."""
        request = object.__new__(cls)
        request.__dict__.update(tool_call=tool_call, tool=tool, state=state, runtime=runtime)
        return request

    def override(self, **overrides: Any) -> ToolCallRequest:
        """A new request with ``overrides`` (``tool_call``, ``tool``, ``state``) replaced; a new
        ``state`` is also the new request's ``runtime.state``."""
        request = replace(self, **overrides)
        if "state" in overrides and isinstance(request.runtime, ToolRuntime):
            object.__setattr__(request, "runtime", replace(request.runtime, state=request.state))
        return request


ToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], "ToolMessage | Command[Any]"]],
    "ToolMessage | Command[Any]",
]
"""``wrap_tool_call(request, execute)``: runs around each tool call (see the module)."""
AsyncToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], Awaitable["ToolMessage | Command[Any]"]]],
    Awaitable["ToolMessage | Command[Any]"],
]
"""``awrap_tool_call(request, execute)``: the same for async runs (``execute`` is awaited)."""


class ToolCallWithContext(TypedDict):
    """What ``create_react_agent(version="v2")`` sends to ``tools`` for one call: the call and
    the state the tools may be given."""

    __type: Literal["tool_call_with_context"]
    tool_call: ToolCall
    state: Any


def msg_content_output(output: Any) -> str | list[dict[str, Any]]:
    """A tool's output as ``ToolMessage`` content: a string or a list of content blocks as
    they are, anything else as JSON (non-ASCII kept), else ``str()``."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and all(
        isinstance(x, dict) and x.get("type") in TOOL_MESSAGE_BLOCK_TYPES for x in output
    ):
        return output
    try:
        return json.dumps(output, ensure_ascii=False)
    except Exception:
        return str(output)


def handled_types(handler: ErrorHandler) -> tuple[type[Exception], ...]:
    """The exception types ``handle_tool_errors`` catches."""
    if isinstance(handler, type) and issubclass(handler, Exception):
        return (handler,)
    if isinstance(handler, tuple):
        return handler
    if callable(handler) and not isinstance(handler, type):
        return _infer_handled_types(handler)
    return (Exception,)


_UnionType = type(int | str)


def _infer_handled_types(handler: Callable[..., str]) -> tuple[type[Exception], ...]:
    """The exception types a handler's first parameter (after ``self``) is annotated with; all
    exceptions when it is not annotated."""
    params = list(inspect.signature(handler).parameters.values())
    if not params:
        return (Exception,)
    first = params[1] if params[0].name in ("self", "cls") and len(params) == 2 else params[0]
    hints = typing.get_type_hints(handler)
    if first.name not in hints:
        return (Exception,)
    annotation = hints[first.name]
    if typing.get_origin(annotation) in (typing.Union, _UnionType):
        types = typing.get_args(annotation)
        if all(isinstance(t, type) and issubclass(t, Exception) for t in types):
            return types
        raise ValueError(
            "All types in the error handler error annotation must be Exception types, e.g. "
            f"`def custom_handler(e: Union[ValueError, TypeError])`. Got {annotation!r} instead."
        )
    if isinstance(annotation, type) and issubclass(annotation, Exception):
        return (annotation,)
    raise ValueError(
        "Arbitrary types are not supported in the error handler signature: annotate the error "
        "with an Exception type or a union of them, e.g. `def custom_handler(e: ValueError)`. "
        f"Got {annotation!r} instead."
    )


def error_content(handler: ErrorHandler, exc: Exception) -> str:
    """The error ``ToolMessage`` text for an error ``handler`` catches."""
    if isinstance(handler, bool | tuple) or (
        isinstance(handler, type) and issubclass(handler, Exception)
    ):
        return TOOL_CALL_ERROR_TEMPLATE.format(error=repr(exc))
    if isinstance(handler, str):
        return handler
    if callable(handler):
        return typing.cast(str, typing.cast(Callable[..., Any], handler)(exc))
    raise ValueError(
        f"handle_tool_errors={handler!r} is not supported: pass a bool, a string, an exception "
        "class or tuple of them, or a callable taking the exception."
    )


def error_message(handler: ErrorHandler, exc: Exception, call: ToolCall) -> ToolMessage:
    return ToolMessage(
        error_content(handler, exc), name=call["name"], tool_call_id=call["id"], status="error"
    )
