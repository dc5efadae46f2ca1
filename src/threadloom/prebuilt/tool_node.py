"""``ToolNode`` runs the tool calls of the last AI message; ``tools_condition`` routes to it.

Rules, as LangGraph 1.2 behaves:

- Input: a state dict (or object) whose ``messages_key`` holds the messages, a list of messages,
  or one tool call sent with its state (``create_react_agent(version="v2")`` sends one per call).
  The calls of the last ``AIMessage`` run in parallel; results keep the calls' order.
- Output: ``{messages_key: [ToolMessage, ...]}`` (a list for list input). A tool returning a
  ``Command`` contributes the Command itself, whose update must carry the ``ToolMessage`` of its
  own call; ``Command(graph=PARENT, goto=[Send...])`` hand-offs are merged into one.
- Errors (``handle_tool_errors``): by default only invalid arguments (``ToolInvocationError``)
  become an error ``ToolMessage``; ``True`` catches every error with a standard text, a string is
  the text, an exception class tuple catches those, a callable returns the text and catches the
  exception types its first parameter is annotated with; ``False`` raises. An unknown tool name is
  always answered with an error ``ToolMessage``. Interrupts always pass through.
- Injection: tool parameters annotated ``InjectedState`` (the whole state or one key),
  ``InjectedStore`` (the graph's store) or langchain's ``InjectedToolCallId``, and parameters
  typed ``ToolRuntime`` (``prebuilt/tool_runtime.py``), are filled in here and hidden from the
  model's tool schema.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args, get_origin

from langchain_core.messages import AIMessage, AnyMessage, ToolCall, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import get_executor_for_config
from langchain_core.tools import BaseTool, InjectedToolArg
from langchain_core.tools import tool as create_tool
from pydantic import BaseModel, ValidationError

from threadloom.errors import GraphBubbleUp, ToolCallCommandError
from threadloom.prebuilt._tool_errors import ToolInvocationError
from threadloom.prebuilt.tool_runtime import ToolRuntime, runtime_parameters
from threadloom.types import Command, Send

__all__ = [
    "InjectedState",
    "InjectedStore",
    "ToolNode",
    "tools_condition",
]

ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."
"""The error ``ToolMessage`` text with ``handle_tool_errors=True``."""

INVALID_TOOL_TEMPLATE = "Error: {name} is not a valid tool, try one of [{names}]."
"""The error ``ToolMessage`` text for a call to a tool the node does not have."""

ErrorHandler = bool | str | Callable[..., str] | type[Exception] | tuple[type[Exception], ...]


class InjectedState(InjectedToolArg):
    """Annotate a tool parameter to receive the graph state (or one key of it), hidden from
    the model: ``state: Annotated[dict, InjectedState]``, ``who: Annotated[str,
    InjectedState("user")]``."""

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(InjectedToolArg):
    """Annotate a tool parameter to receive the graph's store, hidden from the model:
    ``store: Annotated[BaseStore, InjectedStore()]``."""


TOOL_CALL_WITH_CONTEXT: typing.Final = "tool_call_with_context"


@dataclass(frozen=True, slots=True)
class _Injections:
    """What one tool's parameters ask for."""

    state: tuple[tuple[str, str | None], ...] = ()
    """``(parameter, state key or None for the whole state)``."""
    store: str | None = None
    runtime: tuple[str, ...] = ()
    """Parameters typed ``ToolRuntime``."""


def _marker(annotation: Any) -> Any:
    if get_origin(annotation) is not typing.Annotated:
        return None
    for item in get_args(annotation)[1:]:
        if isinstance(item, InjectedState | InjectedStore):
            return item
        if isinstance(item, type) and issubclass(item, InjectedState | InjectedStore):
            return item()
    return None


def _injections(tool: BaseTool) -> _Injections:
    schema = tool.get_input_schema()
    hints: dict[str, Any] = {}
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        for cls in reversed(schema.__mro__):
            try:
                hints.update(typing.get_type_hints(cls, include_extras=True))
            except Exception:
                hints.update(getattr(cls, "__annotations__", {}))
    state: list[tuple[str, str | None]] = []
    store = None
    for name, annotation in hints.items():
        marker = _marker(annotation)
        if isinstance(marker, InjectedState):
            state.append((name, marker.field))
        elif isinstance(marker, InjectedStore):
            store = name
    return _Injections(tuple(state), store, runtime_parameters(hints))


def _error_types(handler: Callable[..., str]) -> tuple[type[Exception], ...]:
    """The exception types a handler's first parameter is annotated with (all when unannotated)."""
    try:
        first = next(iter(inspect.signature(handler).parameters.values()))
        annotation = typing.get_type_hints(handler).get(first.name, first.annotation)
    except (StopIteration, TypeError, ValueError, NameError):
        return (Exception,)
    if annotation is inspect.Parameter.empty:
        return (Exception,)
    types = get_args(annotation) if get_origin(annotation) in (typing.Union, _UnionType) else ()
    found = tuple(t for t in (types or (annotation,)) if isinstance(t, type))
    return found or (Exception,)


_UnionType = type(int | str)


def _error_text(handler: ErrorHandler, exc: Exception) -> str | None:
    """The error ToolMessage's text, or None when ``handler`` does not handle ``exc``."""
    match handler:
        case False:
            return None
        case True:
            return ERROR_TEMPLATE.format(error=repr(exc))
        case str():
            return handler
        case type() | tuple():
            return ERROR_TEMPLATE.format(error=repr(exc)) if isinstance(exc, handler) else None
        case _ if callable(handler):
            return str(handler(exc)) if isinstance(exc, _error_types(handler)) else None
    raise ValueError(
        f"handle_tool_errors={handler!r} is not supported: pass a bool, a string, an exception "
        "class or tuple of them, or a callable taking the exception."
    )


def _default_handler(exc: Exception) -> str:
    """Only invalid arguments become an error ToolMessage; other tool errors are raised."""
    return str(exc)


def _invalid_arguments(tool: BaseTool, call: ToolCall, exc: ValidationError) -> ToolInvocationError:
    hidden = {name for name, _ in _injections(tool).state} | {_injections(tool).store}
    lines = [
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors()
        if not err["loc"] or err["loc"][0] not in hidden
    ]
    shown = {k: v for k, v in call["args"].items() if k not in hidden}
    return ToolInvocationError(call["name"], exc, shown, "\n".join(lines))


class ToolNode(Runnable[Any, Any]):
    """A graph node that runs the tool calls of the last AI message (see the module rules)."""

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: ErrorHandler = _default_handler,
        messages_key: str = "messages",
    ) -> None:
        self.name = name
        self.tags = tags
        self.handle_tool_errors = handle_tool_errors
        self.messages_key = messages_key
        self.tools_by_name: dict[str, BaseTool] = {}
        self._injections: dict[str, _Injections] = {}
        for item in tools:
            tool = item if isinstance(item, BaseTool) else create_tool(item)
            self.tools_by_name[tool.name] = tool
            self._injections[tool.name] = _injections(tool)

    # --- the pieces shared by invoke and ainvoke ------------------------------------------------

    def _parse(self, value: Any) -> tuple[list[ToolCall], Literal["dict", "list"], Any]:
        """The calls to run, the output shape, and the state tools may be given."""
        if isinstance(value, dict) and value.get("__type") == TOOL_CALL_WITH_CONTEXT:
            return [value["tool_call"]], "dict", value["state"]
        if isinstance(value, list):
            if value and all(isinstance(v, dict) and "args" in v for v in value):
                return list(value), "list", {self.messages_key: []}
            messages, shape = value, "list"
        elif isinstance(value, dict):
            messages, shape = value.get(self.messages_key, []), "dict"
        elif hasattr(value, self.messages_key):
            messages, shape = getattr(value, self.messages_key), "dict"
        else:
            raise ValueError("No message found in input")
        if not messages:
            raise ValueError("No message found in input")
        last = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        if last is None:
            raise ValueError("No AIMessage found in input")
        return list(last.tool_calls), shape, value  # type: ignore[return-value]

    def _prepared(self, call: ToolCall, state: Any, store: Any, config: RunnableConfig) -> ToolCall:
        """The call with injected arguments added (state, store, runtime), ready for
        ``tool.invoke``."""
        wants = self._injections.get(call["name"])
        args = dict(call["args"])
        if wants is not None:
            for param, key in wants.state:
                if key is None:
                    args[param] = state
                elif isinstance(state, dict):
                    args[param] = state[key]
                else:
                    args[param] = getattr(state, key)
            if wants.store is not None:
                if store is None:
                    raise ValueError(
                        f"Tool {call['name']!r} asks for InjectedStore, but the graph has no "
                        "store: compile it with store=..., or pass store= to create_react_agent."
                    )
                args[wants.store] = store
            for param in wants.runtime:
                args[param] = _tool_runtime(self, call, state, store, config)
        return ToolCall(name=call["name"], args=args, id=call["id"], type="tool_call")

    def _start(
        self, call: ToolCall, state: Any, store: Any, config: RunnableConfig
    ) -> ToolMessage | tuple[BaseTool, ToolCall]:
        """The tool and its call with injected arguments, or an unknown tool's error message."""
        tool = self.tools_by_name.get(call["name"])
        if tool is not None:
            return tool, self._prepared(call, state, store, config)
        names = ", ".join(self.tools_by_name)
        return ToolMessage(
            INVALID_TOOL_TEMPLATE.format(name=call["name"], names=names),
            name=call["name"],
            tool_call_id=call["id"],
            status="error",
        )

    def _on_error(self, call: ToolCall, exc: Exception) -> ToolMessage:
        """The error ToolMessage for ``exc``; re-raises what the handler does not cover."""
        if isinstance(exc, GraphBubbleUp):
            raise exc
        tool = self.tools_by_name[call["name"]]
        if isinstance(exc, ValidationError):
            exc = _invalid_arguments(tool, call, exc)
        handler = self.handle_tool_errors
        if handler is _default_handler:
            text = str(exc) if isinstance(exc, ToolInvocationError) else None
        else:
            text = _error_text(handler, exc)
        if text is None:
            raise exc
        return ToolMessage(text, name=call["name"], tool_call_id=call["id"], status="error")

    def _checked(self, call: ToolCall, output: Any) -> ToolMessage | Command[Any]:
        """A tool's output as this node returns it; a Command must answer its own call."""
        if isinstance(output, Command):
            if output.graph == Command.PARENT:
                return output
            update = output.update
            messages = (
                update.get(self.messages_key, []) if isinstance(update, dict) else update or []
            )
            messages = messages if isinstance(messages, list) else [messages]
            answers = [
                m for m in messages if isinstance(m, ToolMessage) and m.tool_call_id == call["id"]
            ]
            if not answers:
                raise ToolCallCommandError(call["name"], messages)
            for message in answers:
                message.name = message.name or call["name"]
            return output
        if isinstance(output, ToolMessage):
            return output
        return ToolMessage(str(output), name=call["name"], tool_call_id=call["id"])

    def _combined(self, outputs: list[ToolMessage | Command[Any]], shape: str) -> Any:
        """The node's return: messages alone, or Commands with per-call message updates."""
        if not any(isinstance(o, Command) for o in outputs):
            return outputs if shape == "list" else {self.messages_key: outputs}
        combined: list[Any] = []
        handoff: Command[Any] | None = None
        for output in outputs:
            if not isinstance(output, Command):
                combined.append([output] if shape == "list" else {self.messages_key: [output]})
            elif (
                output.graph == Command.PARENT
                and isinstance(output.goto, list)
                and all(isinstance(g, Send) for g in output.goto)
            ):
                goto = [*handoff.goto, *output.goto] if handoff else list(output.goto)  # type: ignore[misc]
                handoff = (
                    replace(handoff, goto=goto)
                    if handoff
                    else Command(graph=Command.PARENT, goto=goto)
                )
            else:
                combined.append(output)
        if handoff is not None:
            combined.append(handoff)
        return combined

    # --- drivers --------------------------------------------------------------------------------

    def _run_one(self, call: ToolCall, state: Any, store: Any, config: RunnableConfig) -> Any:
        started = self._start(call, state, store, config)
        if isinstance(started, ToolMessage):
            return started  # an unknown tool's error message
        try:
            output = started[0].invoke(started[1], config)
        except Exception as exc:
            return self._on_error(call, exc)
        return self._checked(call, output)

    async def _arun_one(
        self, call: ToolCall, state: Any, store: Any, config: RunnableConfig
    ) -> Any:
        started = self._start(call, state, store, config)
        if isinstance(started, ToolMessage):
            return started
        try:
            output = await started[0].ainvoke(started[1], config)
        except Exception as exc:
            return self._on_error(call, exc)
        return self._checked(call, output)

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the calls in parallel threads; the results keep the calls' order."""
        config = config or {}
        calls, shape, state = self._parse(input)
        store = kwargs.get("store") or _running_store()
        if len(calls) == 1:  # the common case: no thread to start
            return self._combined([self._run_one(calls[0], state, store, config)], shape)
        with get_executor_for_config(config) as pool:
            n = len(calls)
            outputs = list(pool.map(self._run_one, calls, [state] * n, [store] * n, [config] * n))
        return self._combined(outputs, shape)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the calls concurrently on the event loop; the results keep the calls' order."""
        config = config or {}
        calls, shape, state = self._parse(input)
        store = kwargs.get("store") or _running_store()
        outputs = await asyncio.gather(*(self._arun_one(c, state, store, config) for c in calls))
        return self._combined(list(outputs), shape)


def _tool_runtime(
    node: ToolNode, call: ToolCall, state: Any, store: Any, config: RunnableConfig
) -> ToolRuntime[Any, Any]:
    """The ``ToolRuntime`` of one call: the run's runtime (a default one outside a run)."""
    from threadloom.runtime import DEFAULT_RUNTIME, Runtime, get_runtime

    runtime: Runtime[Any]
    try:
        runtime = get_runtime()
    except RuntimeError:  # the node called outside a run
        runtime = DEFAULT_RUNTIME
    return ToolRuntime(
        state=state,
        context=runtime.context,
        config=config,
        stream_writer=runtime.stream_writer,
        tool_call_id=call["id"],
        store=store,
        tools=list(node.tools_by_name.values()),
        execution_info=runtime.execution_info,
        server_info=runtime.server_info,
    )


def _running_store() -> Any:
    """The store of the graph run this node is part of (None outside a run or without one)."""
    from threadloom.config import get_store

    try:
        return get_store()
    except RuntimeError:  # called outside a run
        return None


def tools_condition(
    state: list[AnyMessage] | dict[str, Any] | BaseModel, messages_key: str = "messages"
) -> Literal["tools", "__end__"]:
    """``"tools"`` when the last message asks for tool calls, else ``"__end__"``."""
    if isinstance(state, list):
        messages = state
    elif isinstance(state, dict):
        messages = state.get(messages_key, [])
    else:
        messages = getattr(state, messages_key, [])
    if not messages:
        raise ValueError(f"No messages found in input state to tool_edge: {state}")
    last = messages[-1]
    return "tools" if getattr(last, "tool_calls", None) else "__end__"
