"""``create_react_agent``: a graph in which a chat model calls tools until it can answer.

The graph, as LangGraph 1.2 builds it: ``[pre_model_hook] → agent → [post_model_hook]``, then
``tools`` when the model asked for tool calls (back to the start of the loop afterwards, or to the
end when every called tool has ``return_direct``), else ``[generate_structured_response] → END``.
With ``version="v2"`` (the default) each tool call is its own ``tools`` task (a ``Send``); with
``"v1"`` one ``tools`` task runs all calls of the message.

The agent stops before the recursion limit: when the model asks for tools that there are no steps
left to run (``remaining_steps``, a managed key of ``AgentState``), the agent answers
"Sorry, need more steps to process this request." instead.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, NotRequired

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableConfig,
    RunnableLambda,
    RunnableSequence,
)
from langchain_core.tools import BaseTool
from pydantic import BaseModel
from typing_extensions import TypedDict  # (pydantic builds JSON schemas of it on 3.11)

from threadloom.constants import END, START
from threadloom.engine.inject import injections_for
from threadloom.errors import InvalidChatHistoryError
from threadloom.graph import StateGraph
from threadloom.graph.message import add_messages
from threadloom.managed import RemainingSteps
from threadloom.prebuilt._steps import Step
from threadloom.prebuilt.tool_node import TOOL_CALL_WITH_CONTEXT, ToolNode
from threadloom.types import Send
from threadloom.warnings import LangGraphDeprecatedSinceV10, warn_renamed

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "StructuredResponse",
    "StructuredResponseSchema",
    "create_react_agent",
]

StructuredResponse = dict | BaseModel  # type: ignore[type-arg]
"""What ``generate_structured_response`` stores: a dict or a model instance."""
StructuredResponseSchema = dict | type[BaseModel]  # type: ignore[type-arg]
"""What ``response_format`` takes: a JSON schema dict or a model class."""

NOT_ENOUGH_STEPS = "Sorry, need more steps to process this request."
"""The agent's answer when the recursion limit leaves no step to run the tools it asked for."""


class AgentState(TypedDict):
    """The agent's state: the conversation and the steps left before the recursion limit."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: NotRequired[RemainingSteps]


class AgentStatePydantic(BaseModel):
    """``AgentState`` as a pydantic model."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: RemainingSteps = 25


class AgentStateWithStructuredResponse(AgentState):
    """``AgentState`` with the answer shaped by ``response_format``."""

    structured_response: StructuredResponse


class AgentStateWithStructuredResponsePydantic(AgentStatePydantic):
    """``AgentStatePydantic`` with the answer shaped by ``response_format``."""

    structured_response: StructuredResponse


class _ModelInput(AgentState):
    """The agent node's input when a ``pre_model_hook`` may leave messages meant for the model."""

    llm_input_messages: list[BaseMessage]


def _get(state: Any, key: str, default: Any = None) -> Any:
    return state.get(key, default) if isinstance(state, dict) else getattr(state, key, default)


def _prompt_runnable(prompt: Any) -> Runnable[Any, Any]:
    """The runnable turning the state into the model's input, for each accepted prompt form."""
    if prompt is None:
        return Step(lambda state: _get(state, "messages"), name="Prompt")
    if isinstance(prompt, str):
        system = SystemMessage(content=prompt)
        return Step(lambda state: [system, *_get(state, "messages")], name="Prompt")
    if isinstance(prompt, SystemMessage):
        return Step(lambda state: [prompt, *_get(state, "messages")], name="Prompt")
    if isinstance(prompt, Runnable):
        return prompt
    if callable(prompt):
        return _callable_prompt(prompt)
    raise ValueError(
        f"prompt={prompt!r} is not supported: pass a string, a SystemMessage, a function of the "
        "state returning the model's messages, or a Runnable."
    )


def _callable_prompt(prompt: Callable[..., Any]) -> Runnable[Any, Any]:
    """A prompt function as a runnable; it is given the ``store``, ``writer``, ``runtime`` or
    ``config`` it asks for by name, as a node is."""
    wanted = {injection.name for injection in injections_for(prompt)} - {"previous"}
    if not wanted - {"config"}:  # RunnableLambda passes a config parameter itself
        return RunnableLambda(prompt, name="Prompt")

    def injected(config: RunnableConfig) -> dict[str, Any]:
        from threadloom.runtime import get_runtime

        runtime: Any = get_runtime()
        values = {"store": runtime.store, "writer": runtime.stream_writer, "runtime": runtime}
        return {k: config if k == "config" else values[k] for k in wanted}

    if inspect.iscoroutinefunction(prompt):

        async def acall(state: Any, config: RunnableConfig) -> Any:
            return await prompt(state, **injected(config))

        return RunnableLambda(acall, name="Prompt")

    def call(state: Any, config: RunnableConfig) -> Any:
        return prompt(state, **injected(config))

    return Step(call, name="Prompt", takes_config=True)


def _should_bind_tools(model: Any, tools: Sequence[BaseTool], num_builtin: int = 0) -> bool:
    """Whether ``model`` (a chat model, a bound one, or a sequence starting with either) still
    needs ``tools`` bound; a model bound already must have been bound to exactly these tools
    (and ``num_builtin`` provider tools)."""
    if isinstance(model, RunnableSequence):
        model = next(
            (s for s in model.steps if isinstance(s, RunnableBinding | BaseChatModel)), model
        )
    if not isinstance(model, RunnableBinding) or "tools" not in model.kwargs:
        return True
    bound = model.kwargs["tools"]
    if len(tools) != len(bound) - num_builtin:
        raise ValueError(
            "Number of tools in the model.bind_tools() and tools passed to create_react_agent "
            f"must match Got {len(tools)} tools, expected {len(bound) - num_builtin}"
        )
    bound_names = {_tool_name(t) for t in bound}
    if missing := {t.name for t in tools} - bound_names:
        raise ValueError(f"Missing tools '{missing}' in the model.bind_tools()")
    return False


def _bound_model(
    model: Any, tools: Sequence[BaseTool], provider_tools: Sequence[dict[str, Any]]
) -> Runnable[Any, Any]:
    """The model with the tools bound, unless it was bound to them already."""
    if isinstance(model, str):
        raise ValueError(
            f"model={model!r}: threadloom does not resolve model names (that needs the "
            "`langchain` package): pass a chat model instance, e.g. ChatOpenAI(model=...)."
        )
    if not _should_bind_tools(model, tools, len(provider_tools)) or not (tools or provider_tools):
        return model  # type: ignore[no-any-return]
    if not isinstance(model, BaseChatModel) and not hasattr(model, "bind_tools"):
        raise ValueError(f"model={model!r} has no bind_tools(): pass a chat model.")
    return model.bind_tools([*tools, *provider_tools])  # type: ignore[no-any-return]


def _tool_name(tool: Any) -> str | None:
    """A bound tool's name (OpenAI's and Anthropic's forms); None for other forms."""
    if isinstance(tool, dict):
        named = tool["function"] if tool.get("type") == "function" else tool
        return named.get("name")
    return getattr(tool, "name", None)


def _validate_chat_history(messages: Sequence[BaseMessage]) -> None:
    """Every tool call in the history must have its ToolMessage before the model is called."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    unanswered = [
        call
        for m in messages
        if isinstance(m, AIMessage)
        for call in m.tool_calls
        if call["id"] not in answered
    ]
    if unanswered:
        raise InvalidChatHistoryError(unanswered)


def _more_steps_needed(state: Any, response: BaseMessage, direct: set[str]) -> bool:
    """Whether the model asked for tools the recursion limit leaves no step to run."""
    calls = response.tool_calls if isinstance(response, AIMessage) else []
    remaining = _get(state, "remaining_steps")
    if remaining is None:
        return bool(_get(state, "is_last_step", False) and calls)
    all_direct = bool(calls) and all(c["name"] in direct for c in calls)
    return (remaining < 1 and all_direct) or (remaining < 2 and bool(calls))


def create_react_agent(
    model: Any,
    tools: Sequence[BaseTool | Callable[..., Any] | dict[str, Any]] | ToolNode,
    *,
    prompt: Any = None,
    response_format: Any = None,
    pre_model_hook: Any = None,
    post_model_hook: Any = None,
    state_schema: Any = None,
    context_schema: Any = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
    **deprecated_kwargs: Any,
) -> Any:
    """A compiled graph in which ``model`` calls ``tools`` until it answers (see the module)."""
    if "config_schema" in deprecated_kwargs:
        warn_renamed("config_schema", "context_schema", LangGraphDeprecatedSinceV10)
        config_schema = deprecated_kwargs.pop("config_schema")
        context_schema = context_schema if context_schema is not None else config_schema
    if deprecated_kwargs:
        raise TypeError(
            f"create_react_agent() got unexpected keyword arguments: {deprecated_kwargs}"
        )
    if version not in ("v1", "v2"):
        raise ValueError(f"Invalid version {version!r}, must be 'v1' or 'v2'.")
    if state_schema is not None:
        _check_state_schema(state_schema, response_format)
    # provider-side tools given as dicts are bound to the model but never run here
    provider_tools = (
        [] if isinstance(tools, ToolNode) else [t for t in tools if isinstance(t, dict)]
    )
    if isinstance(tools, ToolNode):
        tool_node = tools
    else:
        tool_node = ToolNode([t for t in tools if not isinstance(t, dict)])
    tool_list = list(tool_node.tools_by_name.values())
    direct = {t.name for t in tool_list if t.return_direct}
    if state_schema is None:
        state_schema = AgentStateWithStructuredResponse if response_format else AgentState
    prompt_runnable = _prompt_runnable(prompt)
    dynamic = callable(model) and not isinstance(model, Runnable)
    if not dynamic:
        static_runnable = prompt_runnable | _bound_model(model, tool_list, provider_tools)

    def model_for(state: Any) -> Runnable[Any, Any]:
        """The model to call: a dynamic ``model(state, runtime)`` is chosen for each call."""
        if not dynamic:
            return static_runnable
        from threadloom.runtime import get_runtime

        chosen = model(state, get_runtime())
        return prompt_runnable | _bound_model(chosen, tool_list, provider_tools)

    def model_state(state: Any) -> Any:
        """The state the prompt sees: messages replaced by a pre-hook's llm_input_messages."""
        llm_messages = _get(state, "llm_input_messages") if pre_model_hook else None
        if not llm_messages:
            return state
        if isinstance(state, dict):
            return {**state, "messages": llm_messages}
        return state.model_copy(update={"messages": llm_messages})

    def answer(state: Any, response: BaseMessage) -> dict[str, Any]:
        response.name = name
        if _more_steps_needed(state, response, direct):
            return {"messages": [AIMessage(id=response.id, content=NOT_ENOUGH_STEPS)]}
        return {"messages": [response]}

    def call_model(state: Any, config: RunnableConfig) -> dict[str, Any]:
        _validate_chat_history(_get(state, "messages"))
        return answer(state, model_for(state).invoke(model_state(state), config))

    async def acall_model(state: Any, config: RunnableConfig) -> dict[str, Any]:
        _validate_chat_history(_get(state, "messages"))
        return answer(state, await model_for(state).ainvoke(model_state(state), config))

    builder: StateGraph[Any] = StateGraph(state_schema, context_schema=context_schema)
    builder.add_node(
        "agent",
        Step(call_model, acall_model, name="call_model", takes_config=True),
        input_schema=_ModelInput if pre_model_hook else None,
    )
    entry = "agent"
    if pre_model_hook is not None:
        builder.add_node("pre_model_hook", pre_model_hook)
        builder.add_edge("pre_model_hook", "agent")
        entry = "pre_model_hook"
    builder.add_edge(START, entry)
    if tool_list:
        builder.add_node("tools", tool_node)
    if post_model_hook is not None:
        builder.add_node("post_model_hook", post_model_hook)
        builder.add_edge("agent", "post_model_hook")
    if response_format is not None:
        responder = _structured_responder(model_for, response_format)
        builder.add_node("generate_structured_response", responder)
    compile_args = (checkpointer, store, interrupt_before, interrupt_after, debug, name)
    if not tool_list:
        if response_format is not None:
            last = "post_model_hook" if post_model_hook is not None else "agent"
            builder.add_edge(last, "generate_structured_response")
        return _compile(builder, *compile_args)
    _route_tools(builder, version, entry, direct, post_model_hook, response_format)
    return _compile(builder, *compile_args)


def _calls_sent(state: Any, calls: list[Any]) -> list[Send]:
    return [
        Send("tools", {"__type": TOOL_CALL_WITH_CONTEXT, "tool_call": call, "state": state})
        for call in calls
    ]


def _route_tools(
    builder: StateGraph[Any],
    version: str,
    entry: str,
    direct: set[str],
    post_model_hook: Any,
    response_format: Any,
) -> None:
    """The agent's edges when it has tools (LangGraph's routing, for each optional node)."""
    answered = "generate_structured_response" if response_format is not None else END

    def should_continue(state: Any) -> Any:
        last = _get(state, "messages")[-1]
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return "post_model_hook" if post_model_hook is not None else answered
        if version == "v1":
            return "tools"
        if post_model_hook is not None:
            return "post_model_hook"
        return _calls_sent(state, last.tool_calls)

    agent_paths = ["post_model_hook"] if post_model_hook is not None else ["tools", answered]
    if post_model_hook is not None:

        def after_post_model_hook(state: Any) -> Any:
            """Pending tool calls go to ``tools``; after tool messages back to the start;
            else the answer."""
            messages = _get(state, "messages")
            done = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
            last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
            pending = [c for c in last_ai.tool_calls if c["id"] not in done]
            if pending:
                return _calls_sent(state, pending)
            if isinstance(messages[-1], ToolMessage):
                return entry
            return answered

        post_paths = [entry, "tools", answered]
        builder.add_conditional_edges("post_model_hook", after_post_model_hook, post_paths)
    builder.add_conditional_edges("agent", should_continue, path_map=agent_paths)
    if not direct:
        builder.add_edge("tools", entry)
        return

    def after_tools(state: Any) -> str:
        message = None
        for message in reversed(_get(state, "messages")):
            if not isinstance(message, ToolMessage):
                break
            if message.name in direct:
                return END
        # parallel calls: the return_direct tool may have run in another Send
        if isinstance(message, AIMessage) and any(c["name"] in direct for c in message.tool_calls):
            return END
        return entry

    builder.add_conditional_edges("tools", after_tools, path_map=[entry, END])


def _get_model(model: Any) -> BaseChatModel:
    """The chat model inside ``model`` (a bound model, or a prompt piped into one)."""
    if isinstance(model, RunnableSequence):
        model = next(
            (s for s in model.steps if isinstance(s, RunnableBinding | BaseChatModel)), model
        )
    if isinstance(model, RunnableBinding):
        model = model.bound
    if not isinstance(model, BaseChatModel):
        raise TypeError(
            "Expected `model` to be a ChatModel or RunnableBinding (e.g. model.bind_tools(...)), "
            f"got {type(model)}"
        )
    return model


def _structured_responder(
    model_for: Callable[[Any], Runnable[Any, Any]], response_format: Any
) -> Runnable[Any, Any]:
    """The node asking the model (the one the agent calls) for the answer shaped as
    ``response_format``."""
    system: str | None = None
    schema = response_format
    if isinstance(response_format, tuple):
        system, schema = response_format

    def structured(state: Any) -> Runnable[Any, Any]:
        return _get_model(model_for(state)).with_structured_output(schema)

    def messages_for(state: Any) -> list[BaseMessage]:
        messages = list(_get(state, "messages"))
        return [SystemMessage(content=system), *messages] if system else messages

    def generate(state: Any, config: RunnableConfig) -> dict[str, Any]:
        return {"structured_response": structured(state).invoke(messages_for(state), config)}

    async def agenerate(state: Any, config: RunnableConfig) -> dict[str, Any]:
        response = await structured(state).ainvoke(messages_for(state), config)
        return {"structured_response": response}

    return Step(generate, agenerate, name="generate_structured_response", takes_config=True)


def _check_state_schema(state_schema: Any, response_format: Any) -> None:
    required = {"messages", "remaining_steps"}
    if response_format is not None:
        required.add("structured_response")
    if missing := required - set(typing.get_type_hints(state_schema)):
        raise ValueError(f"Missing required key(s) {missing} in state_schema")


def _compile(
    builder: StateGraph[Any],
    checkpointer: Any,
    store: Any,
    interrupt_before: list[str] | None,
    interrupt_after: list[str] | None,
    debug: bool,
    name: str | None,
) -> Any:
    return builder.compile(
        checkpointer=checkpointer,
        store=store,
        interrupt_before=interrupt_before,
        interrupt_after=interrupt_after,
        debug=debug,
        name=name or "LangGraph",
    )
