"""``ToolNode`` runs the tool calls of the last AI message; ``tools_condition`` routes to it.

Rules, as LangGraph 1.2 (langgraph-prebuilt 1.1.3) behaves:

- Input: a state dict (or object) whose ``messages_key`` holds the messages, a list of messages,
  a list of tool calls, or one tool call sent with its state (``create_react_agent(version="v2")``
  sends one per call). The calls of the last ``AIMessage`` run in parallel; results keep the
  calls' order. Output: ``{messages_key: [ToolMessage, ...]}`` (a list for a list of messages).
- A tool returning a ``Command`` contributes the Command itself, whose update must carry the
  ``ToolMessage`` of its own call; a tool may also return a list of Commands and ToolMessages
  holding exactly one such message. ``Command(graph=PARENT, goto=[Send...])`` hand-offs are
  merged into one.
- Errors (``handle_tool_errors``): by default only invalid arguments (``ToolInvocationError``)
  become an error ``ToolMessage``; ``True`` catches every error with a standard text, a string is
  the text, an exception class tuple catches those, a callable returns the text and catches the
  exception types its first parameter is annotated with; ``False`` raises. An unknown tool name is
  answered with an error ``ToolMessage``. Interrupts always pass through.
- ``wrap_tool_call`` / ``awrap_tool_call`` intercept each call (``prebuilt/_tool_call.py``).
- Injection: tool parameters annotated ``InjectedState`` (the whole state or one key),
  ``InjectedStore`` (the graph's store), a parameter typed ``ToolRuntime`` or named ``runtime``
  (``prebuilt/tool_runtime.py``), and langchain's ``InjectedToolCallId``, are filled in here and
  hidden from the model's tool schema; values the model sent for them are dropped.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Callable, Sequence
from copy import copy, deepcopy
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args, get_origin

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    RemoveMessage,
    ToolCall,
    ToolMessage,
    convert_to_messages,
)
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import get_config_list, get_executor_for_config
from langchain_core.tools import BaseTool, InjectedToolArg
from langchain_core.tools import tool as create_tool
from langchain_core.tools.base import _is_injected_arg_type, get_all_basemodel_annotations
from pydantic import BaseModel, ValidationError

from threadloom.errors import GraphBubbleUp, ToolCallCommandError, is_invalid_resume
from threadloom.graph.message import REMOVE_ALL_MESSAGES
from threadloom.prebuilt._tool_call import (
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    TOOL_CALL_ERROR_TEMPLATE,
    AsyncToolCallWrapper,
    ErrorHandler,
    ToolCallRequest,
    ToolCallWithContext,
    ToolCallWrapper,
    error_content,
    error_message,
    handled_types,
    msg_content_output,
)
from threadloom.prebuilt._tool_call import _infer_handled_types as _infer_handled_types
from threadloom.prebuilt._tool_errors import ToolInvocationError
from threadloom.prebuilt.tool_runtime import ToolRuntime
from threadloom.types import Command, Send

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "AsyncToolCallWrapper",
    "InjectedState",
    "InjectedStore",
    "ToolCallRequest",
    "ToolCallWithContext",
    "ToolCallWrapper",
    "ToolInvocationError",
    "ToolNode",
    "ToolRuntime",
    "msg_content_output",
    "tools_condition",
]

TOOL_CALL_WITH_CONTEXT: typing.Final = "tool_call_with_context"

_InputType = Literal["list", "dict", "tool_calls"]


class InjectedState(InjectedToolArg):
    """Annotate a tool parameter to receive the graph state (or one key of it), hidden from
    the model: ``state: Annotated[dict, InjectedState]``, ``who: Annotated[str,
    InjectedState("user")]``."""

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(InjectedToolArg):
    """Annotate a tool parameter to receive the graph's store, hidden from the model:
    ``store: Annotated[BaseStore, InjectedStore()]``."""


@dataclass(frozen=True, slots=True)
class _Injections:
    """What one tool's parameters ask for."""

    state: dict[str, str | None]
    """parameter -> state key, or None for the whole state."""
    store: str | None
    runtime: str | None
    keys: frozenset[str]
    """Every injected parameter (the model's values for them are dropped)."""
    optional: frozenset[str]
    """State-key parameters with a default: None when the state lacks the key."""


def _is_injection(annotation: Any, kind: type) -> bool:
    if isinstance(annotation, kind) or (
        isinstance(annotation, type) and issubclass(annotation, kind)
    ):
        return True
    origin = get_origin(annotation)
    if origin is typing.Union or origin is typing.Annotated:
        return any(_is_injection(arg, kind) for arg in get_args(annotation))
    return origin is not None and isinstance(origin, type) and issubclass(origin, kind)


def _injection(annotation: Any, kind: type) -> Any:
    """The marker of ``kind`` in an annotation (True for a bare one), or None."""
    found = [arg for arg in get_args(annotation) if _is_injection(arg, kind)]
    if len(found) > 1:
        raise ValueError(
            f"A tool argument should not be annotated with {kind.__name__} more than once. "
            f"Found: {found}"
        )
    if found:
        return found[0]
    return True if _is_injection(annotation, kind) else None


def _injections(tool: BaseTool) -> _Injections:
    schema = tool.get_input_schema()
    func = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    hints = typing.get_type_hints(func, include_extras=True) if func else {}
    hints.update(get_all_basemodel_annotations(schema))
    state: dict[str, str | None] = {}
    store = runtime = None
    keys: set[str] = set()
    optional: set[str] = set()
    fields = getattr(schema, "model_fields", {})
    for name, annotation in hints.items():
        if _is_injected_arg_type(annotation):
            keys.add(name)
        if name == "runtime" or _injection(annotation, ToolRuntime):
            runtime = name
        if marker := _injection(annotation, InjectedState):
            field = marker.field if isinstance(marker, InjectedState) else None
            state[name] = field
            if field and name in fields and not fields[name].is_required():
                optional.add(name)
        if _injection(annotation, InjectedStore):
            store = name
    return _Injections(state, store, runtime, frozenset(keys), frozenset(optional))


def _model_errors(exc: ValidationError, injected: _Injections | None) -> list[Any]:
    """The validation errors of the arguments the model gave, injected values left out."""
    hidden: set[str | None] = set()
    if injected:
        hidden = {*injected.state, injected.store, injected.runtime}
    kept: list[Any] = []
    for error in exc.errors():
        if error["loc"] and error["loc"][0] not in hidden:
            copied: dict[str, Any] = {**error}
            if isinstance(copied.get("input"), dict):
                copied["input"] = {k: v for k, v in copied["input"].items() if k not in hidden}
            kept.append(copied)
    return kept


def _default_handle_tool_errors(e: Exception) -> str:
    """Only invalid arguments become an error ToolMessage; other tool errors are raised."""
    if isinstance(e, ToolInvocationError):
        return e.message
    raise e


class ToolNode(Runnable[Any, Any]):
    """A graph node that runs the tool calls of the last AI message (see the module rules)."""

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: list[str] | None = None,
        handle_tool_errors: ErrorHandler = _default_handle_tool_errors,
        messages_key: str = "messages",
        wrap_tool_call: ToolCallWrapper | None = None,
        awrap_tool_call: AsyncToolCallWrapper | None = None,
    ) -> None:
        self.name = name
        self.tags = tags
        self.handle_tool_errors = handle_tool_errors
        self.messages_key = messages_key
        self._wrap_tool_call = wrap_tool_call
        self._awrap_tool_call = awrap_tool_call
        self.tools_by_name: dict[str, BaseTool] = {}
        self._injected: dict[str, _Injections] = {}
        for item in tools:
            tool = item if isinstance(item, BaseTool) else create_tool(item)
            self.tools_by_name[tool.name] = tool
            self._injected[tool.name] = _injections(tool)

    # --- the pieces shared by invoke and ainvoke ------------------------------------------------

    def _parse_input(self, value: Any) -> tuple[list[ToolCall], _InputType]:
        if isinstance(value, list):
            if value and isinstance(value[-1], dict) and value[-1].get("type") == "tool_call":
                return list(value), "tool_calls"
            messages, shape = value, "list"
        elif isinstance(value, dict) and value.get("__type") == TOOL_CALL_WITH_CONTEXT:
            return [value["tool_call"]], "tool_calls"
        elif (isinstance(value, dict) and (messages := value.get(self.messages_key, []))) or (
            messages := getattr(value, self.messages_key, [])
        ):
            shape = "dict"
        else:
            raise ValueError("No message found in input")
        last = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        if last is None:
            raise ValueError("No AIMessage found in input")
        return list(last.tool_calls), shape  # type: ignore[return-value]

    def _state(self, value: Any) -> Any:
        """The state tools are given: the one sent with the call, else the input itself."""
        if isinstance(value, dict) and value.get("__type") == TOOL_CALL_WITH_CONTEXT:
            return value["state"]
        if value and isinstance(value, list) and isinstance(value[-1], dict):
            return _running_state()  # bare tool calls: the state an edge would give
        return value

    def _runtimes(
        self, value: Any, calls: list[ToolCall], config: RunnableConfig, store: Any
    ) -> list[ToolRuntime[Any, Any]]:
        """Each call's ``ToolRuntime``, from the run (or the config's runtime outside one)."""
        runtime = _graph_runtime(config)
        store = store if store is not None else runtime.store
        tools = list(self.tools_by_name.values())
        return [
            ToolRuntime(
                state=self._state(value),
                context=runtime.context,
                config=cfg,
                stream_writer=runtime.stream_writer,
                tool_call_id=call["id"],
                store=store,
                tools=tools,
                execution_info=runtime.execution_info,
                server_info=runtime.server_info,
            )
            for call, cfg in zip(calls, _configs(config, len(calls)), strict=True)
        ]

    def _unknown(self, call: ToolCall) -> ToolMessage:
        names = ", ".join(self.tools_by_name)
        text = INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
            requested_tool=call["name"], available_tools=names
        )
        return ToolMessage(text, name=call["name"], tool_call_id=call["id"], status="error")

    def _inject(self, call: ToolCall, runtime: ToolRuntime[Any, Any], tool: BaseTool) -> ToolCall:
        """The call with its injected arguments (state, store, runtime) set."""
        injected = self._injected.get(call["name"]) or _injections(tool)
        if not (injected.state or injected.store or injected.runtime or injected.keys):
            return call
        args: dict[str, Any] = {}
        if injected.state:
            state = runtime.state
            if isinstance(state, list):
                fields = list(injected.state.values())
                if fields[0] is None or fields == [self.messages_key]:
                    state = {self.messages_key: state}
                else:
                    named = ", ".join(f for f in fields if f)
                    raise ValueError(
                        f"Invalid input to ToolNode. Tool {call['name']} requires graph state "
                        f"dict as input."
                        + (f" State should contain fields {named}." if named else "")
                    )
            is_dict = isinstance(state, dict)
            for param, key in injected.state.items():
                if not key:
                    args[param] = state
                elif key in state if is_dict else hasattr(state, key):
                    args[param] = state[key] if is_dict else getattr(state, key)
                elif param not in injected.optional:
                    raise KeyError(key) if is_dict else AttributeError(key)
        if injected.store:
            if runtime.store is None:
                raise ValueError(
                    f"Tool {call['name']!r} asks for InjectedStore, but the graph has no "
                    "store: compile it with store=..., or pass store= to create_react_agent."
                )
            args[injected.store] = runtime.store
        if injected.runtime:
            args[injected.runtime] = runtime
        given = {k: v for k, v in call["args"].items() if k not in injected.keys}
        injected_call = copy(call)
        injected_call["args"] = {**given, **args}
        return injected_call

    def _start(self, request: ToolCallRequest) -> ToolMessage | tuple[BaseTool, dict[str, Any]]:
        """The tool and its input (injected arguments set), or an unknown tool's message."""
        if request.tool is None:
            return self._unknown(request.tool_call)
        call = self._inject(request.tool_call, request.runtime, request.tool)
        return request.tool, {**call, "type": "tool_call"}

    def _invalid(self, call: ToolCall, exc: ValidationError) -> ToolInvocationError:
        errors = _model_errors(exc, self._injected.get(call["name"]))
        return ToolInvocationError(call["name"], exc, call["args"], errors)

    def _on_error(self, exc: Exception, call: ToolCall) -> ToolMessage | None:
        """The error ToolMessage for a tool's error; None to raise it."""
        handler = self.handle_tool_errors
        if is_invalid_resume(exc) or not handler or not isinstance(exc, handled_types(handler)):
            return None
        return error_message(handler, exc, call)

    def _on_wrapper_error(self, exc: Exception, request: ToolCallRequest) -> ToolMessage | None:
        """The error ToolMessage for an interceptor's error; None to raise it."""
        if isinstance(exc, GraphBubbleUp) or not self.handle_tool_errors or is_invalid_resume(exc):
            return None
        call = request.tool_call
        text = error_content(self.handle_tool_errors, exc)
        return ToolMessage(text, name=call["name"], tool_call_id=call["id"], status="error")

    def _normalized(self, response: Any, call: ToolCall, input_type: _InputType) -> Any:
        """A tool's output as this node returns it (Commands checked, content made text)."""
        if isinstance(response, Command):
            return self._checked_command(response, call, input_type)
        if isinstance(response, ToolMessage):
            response.content = msg_content_output(response.content)  # type: ignore[assignment]
            return response
        if isinstance(response, list):
            if all(isinstance(r, Command | ToolMessage) for r in response):
                return self._checked_list(response, call, input_type)
            raise TypeError(
                f"Tool {call['name']} returned a list with invalid element types: expected all "
                "Command or ToolMessage"
            )
        raise TypeError(f"Tool {call['name']} returned unexpected type: {type(response)}")

    def _checked_list(self, response: list[Any], call: ToolCall, input_type: _InputType) -> Any:
        """A list of Commands and ToolMessages must answer the call exactly once."""
        answers = 0
        for item in response:
            if isinstance(item, ToolMessage):
                answers += item.tool_call_id == call["id"]
            elif isinstance(item, Command) and isinstance(item.update, dict):
                answers += sum(
                    isinstance(m, ToolMessage) and m.tool_call_id == call["id"]
                    for m in item.update.get(self.messages_key, [])
                )
        if answers != 1:
            raise ValueError(
                f"Tool {call['name']} returned a list with {answers} messages bound to "
                f"tool_call_id {call['id']!r}; expected exactly one terminating ToolMessage."
            )
        checked = []
        for item in response:
            if isinstance(item, Command):
                checked.append(self._checked_command(item, call, input_type, terminated=False))
            else:
                item.content = msg_content_output(item.content)
                checked.append(item)
        return checked

    def _checked_command(
        self, command: Command[Any], call: ToolCall, input_type: _InputType, terminated: bool = True
    ) -> Command[Any]:
        """A tool's Command (a copy), whose update must answer the call when it goes to this
        graph; its update's shape must fit the node's input."""
        if isinstance(command.update, dict):
            if input_type not in ("dict", "tool_calls"):
                raise ValueError(
                    "Tools can provide a dict in Command.update only when using dict with "
                    f"'{self.messages_key}' key as ToolNode input, got: {command.update} for "
                    f"tool '{call['name']}'"
                )
            command = deepcopy(command)
            messages = command.update.get(self.messages_key, [])  # type: ignore[union-attr]
        elif isinstance(command.update, list):
            if input_type != "list":
                raise ValueError(
                    "Tools can provide a list of messages in Command.update only when using "
                    f"list of messages as ToolNode input, got: {command.update} for tool "
                    f"'{call['name']}'"
                )
            command = deepcopy(command)
            messages = command.update
        else:
            return command
        messages = convert_to_messages(messages)
        if messages == [RemoveMessage(id=REMOVE_ALL_MESSAGES)]:
            return command
        answered = False
        for message in messages:
            if isinstance(message, ToolMessage) and message.tool_call_id == call["id"]:
                message.name = call["name"]
                answered = True
        if terminated and command.graph is None and not answered:
            raise ToolCallCommandError(call["name"], messages)
        return command

    def _combined(self, outputs: list[Any], input_type: _InputType) -> Any:
        """The node's return: messages alone, or Commands with per-call message updates."""
        flat: list[Any] = []
        for output in outputs:
            flat.extend(output) if isinstance(output, list) else flat.append(output)
        if not any(isinstance(o, Command) for o in flat):
            return flat if input_type == "list" else {self.messages_key: flat}
        combined: list[Any] = []
        handoff: Command[Any] | None = None
        for output in flat:
            if not isinstance(output, Command):
                combined.append([output] if input_type == "list" else {self.messages_key: [output]})
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

    def _failed(self, exc: Exception, call: ToolCall, *, invoking: bool = False) -> ToolMessage:
        """The error ToolMessage for a tool's error (invalid arguments, when ``invoking``,
        become a ``ToolInvocationError``); raises what the handler does not cover."""
        if invoking and isinstance(exc, ValidationError) and not is_invalid_resume(exc):
            invalid = self._invalid(call, exc)
            invalid.__cause__ = exc
            exc = invalid
        if isinstance(exc, GraphBubbleUp) or (message := self._on_error(exc, call)) is None:
            raise exc
        return message

    def _finished(self, response: Any, call: ToolCall, input_type: _InputType) -> Any:
        try:
            return self._normalized(response, call, input_type)
        except Exception as exc:
            return self._failed(exc, call)

    def _execute(self, request: ToolCallRequest, input_type: _InputType) -> Any:
        started = self._start(request)
        if isinstance(started, ToolMessage):
            return started  # an unknown tool's error message
        try:
            response = started[0].invoke(started[1], request.runtime.config)
        except Exception as exc:
            return self._failed(exc, request.tool_call, invoking=True)
        return self._finished(response, request.tool_call, input_type)

    async def _aexecute(self, request: ToolCallRequest, input_type: _InputType) -> Any:
        started = self._start(request)
        if isinstance(started, ToolMessage):
            return started
        try:
            response = await started[0].ainvoke(started[1], request.runtime.config)
        except Exception as exc:
            return self._failed(exc, request.tool_call, invoking=True)
        return self._finished(response, request.tool_call, input_type)

    def _request(self, call: ToolCall, runtime: ToolRuntime[Any, Any]) -> ToolCallRequest:
        tool = self.tools_by_name.get(call["name"])
        return ToolCallRequest._made(call, tool, runtime.state, runtime)  # type: ignore[no-any-return]

    def _run_one(
        self, call: ToolCall, input_type: _InputType, runtime: ToolRuntime[Any, Any]
    ) -> Any:
        request = self._request(call, runtime)
        if self._wrap_tool_call is None:
            return self._execute(request, input_type)
        try:
            return self._wrap_tool_call(request, lambda req: self._execute(req, input_type))
        except Exception as exc:
            if (message := self._on_wrapper_error(exc, request)) is None:
                raise
            return message

    async def _arun_one(
        self, call: ToolCall, input_type: _InputType, runtime: ToolRuntime[Any, Any]
    ) -> Any:
        request = self._request(call, runtime)
        if self._awrap_tool_call is None and self._wrap_tool_call is None:
            return await self._aexecute(request, input_type)

        async def execute(req: ToolCallRequest) -> Any:
            return await self._aexecute(req, input_type)

        try:
            if self._awrap_tool_call is not None:
                return await self._awrap_tool_call(request, execute)
            return self._wrap_tool_call(request, lambda req: self._execute(req, input_type))  # type: ignore[misc]
        except Exception as exc:
            if (message := self._on_wrapper_error(exc, request)) is None:
                raise
            return message

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the calls in parallel threads; the results keep the calls' order."""
        config = config or {}
        calls, input_type = self._parse_input(input)
        runtimes = self._runtimes(input, calls, config, kwargs.get("store"))
        if len(calls) == 1:  # the common case: no thread to start
            return self._combined([self._run_one(calls[0], input_type, runtimes[0])], input_type)
        with get_executor_for_config(config) as pool:
            outputs = list(pool.map(self._run_one, calls, [input_type] * len(calls), runtimes))
        return self._combined(outputs, input_type)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the calls concurrently on the event loop; the results keep the calls' order."""
        config = config or {}
        calls, input_type = self._parse_input(input)
        runtimes = self._runtimes(input, calls, config, kwargs.get("store"))
        outputs = await asyncio.gather(
            *(self._arun_one(c, input_type, r) for c, r in zip(calls, runtimes, strict=True))
        )
        return self._combined(list(outputs), input_type)


def _configs(config: RunnableConfig, n: int) -> list[RunnableConfig]:
    """Each call's config: the node's for one call (the common case, no copy), else
    langchain-core's split (copies; the run id only on the first)."""
    return [config] if n == 1 else get_config_list(config, n)


_CONFIG_KEY_RUNTIME = "__pregel_runtime"
"""Where LangGraph's config carries a node's runtime; a ``ToolNode`` invoked outside a run takes
its store and context from a runtime given there."""


def _graph_runtime(config: RunnableConfig) -> Any:
    """The run's runtime; outside a run, the config's (else a default one)."""
    from threadloom.runtime import DEFAULT_RUNTIME, get_runtime

    try:
        return get_runtime()
    except RuntimeError:  # the node called outside a run
        given = config.get("configurable", {}).get(_CONFIG_KEY_RUNTIME)
        return given if given is not None else DEFAULT_RUNTIME


def _running_state() -> Any:
    """The state of the graph this node runs in, read as an edge would give it to the running
    task's node (its input schema's keys and type); {} outside a run."""
    from threadloom._running import current_task

    pad = current_task.get()
    node = getattr(getattr(pad, "task", None), "node", None)
    channels = getattr(getattr(pad, "runner", None), "channels", None)
    if node is None or channels is None:
        return {}
    return node.read(channels)


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
