"""``ToolNode`` as langgraph-prebuilt 1.1.3's own tests use it: ``wrap_tool_call`` /
``awrap_tool_call`` interceptors, ``ToolCallRequest``, bare tool-call input, argument injection
that drops what the model sent for hidden parameters, list returns, and the error objects.

Each expectation was checked on LangGraph 1.2.22 (langgraph-prebuilt 1.1.3) with the import root
swapped (``benchmarks/setup.sh``'s ``.bench-venv``); there a ``ToolNode`` invoked outside a graph
needs a runtime in its config (``CONFIG``), which threadloom reads too.
"""

import asyncio
import warnings
from typing import Annotated, Any, NotRequired

import pytest
from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool
from typing_extensions import TypedDict

from threadloom.graph import START, StateGraph
from threadloom.graph.message import add_messages
from threadloom.prebuilt import InjectedState, ToolNode
from threadloom.prebuilt.tool_node import (
    TOOL_CALL_ERROR_TEMPLATE,
    ToolCallRequest,
    ToolInvocationError,
    ToolRuntime,
)
from threadloom.runtime import Runtime
from threadloom.types import Command, Send

# LangGraph's ToolNode, invoked outside a graph, needs a runtime under this config key.
CONFIG: Any = {"configurable": {"__pregel_runtime": Runtime()}}


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def call(name: str, args: dict[str, Any], id: str = "c1") -> ToolCall:
    return ToolCall(name=name, args=args, id=id, type="tool_call")


def ai(*calls: ToolCall) -> dict[str, Any]:
    return {"messages": [AIMessage("", tool_calls=list(calls))]}


def test_a_wrapper_can_change_the_call_and_run_it_again() -> None:
    seen: list[int] = []

    def twice(request: ToolCallRequest, execute: Any) -> Any:
        first = execute(request)
        seen.append(int(first.content))
        doubled = {**request.tool_call, "args": {"a": 10, "b": 20}}
        return execute(request.override(tool_call=doubled))

    out = ToolNode([add], wrap_tool_call=twice).invoke(ai(call("add", {"a": 1, "b": 2})), CONFIG)
    assert seen == [3]
    assert [m.content for m in out["messages"]] == ["30"]


def test_a_wrapper_answers_a_call_to_a_tool_the_node_lacks() -> None:
    def answer(request: ToolCallRequest, execute: Any) -> Any:
        if request.tool is None:
            return ToolMessage("handled", tool_call_id=request.tool_call["id"], name="x")
        return execute(request)

    node = ToolNode([add], wrap_tool_call=answer)
    out = node.invoke(ai(call("missing", {}), call("add", {"a": 1, "b": 1}, id="c2")), CONFIG)
    assert [m.content for m in out["messages"]] == ["handled", "2"]
    passthrough = ToolNode([add], wrap_tool_call=lambda r, execute: execute(r))
    (unknown,) = passthrough.invoke(ai(call("missing", {})), CONFIG)["messages"]
    assert unknown.status == "error"
    assert unknown.content == "Error: missing is not a valid tool, try one of [add]."


def test_a_wrappers_error_follows_handle_tool_errors() -> None:
    def fails(request: ToolCallRequest, execute: Any) -> Any:
        raise ValueError("wrapper broke")

    node = ToolNode([add], wrap_tool_call=fails, handle_tool_errors=True)
    (message,) = node.invoke(ai(call("add", {"a": 1, "b": 2})), CONFIG)["messages"]
    assert message.status == "error"
    assert message.content == TOOL_CALL_ERROR_TEMPLATE.format(
        error=repr(ValueError("wrapper broke"))
    )
    with pytest.raises(ValueError, match="wrapper broke"):
        ToolNode([add], wrap_tool_call=fails).invoke(ai(call("add", {"a": 1, "b": 2})), CONFIG)


def test_async_runs_use_the_async_wrapper_else_the_sync_one() -> None:
    async def awrap(request: ToolCallRequest, execute: Any) -> Any:
        result = await execute(request)
        result.content = f"async {result.content}"
        return result

    def wrap(request: ToolCallRequest, execute: Any) -> Any:
        result = execute(request)
        result.content = f"sync {result.content}"
        return result

    both = ToolNode([add], wrap_tool_call=wrap, awrap_tool_call=awrap)
    only_sync = ToolNode([add], wrap_tool_call=wrap)
    payload = ai(call("add", {"a": 2, "b": 2}))
    assert asyncio.run(both.ainvoke(payload, CONFIG))["messages"][0].content == "async 4"
    assert asyncio.run(only_sync.ainvoke(payload, CONFIG))["messages"][0].content == "sync 4"
    assert both.invoke(payload, CONFIG)["messages"][0].content == "sync 4"


def test_a_request_is_changed_through_override() -> None:
    captured: list[ToolCallRequest] = []

    def keep(request: ToolCallRequest, execute: Any) -> Any:
        captured.append(request)
        return execute(request)

    ToolNode([add], wrap_tool_call=keep).invoke(ai(call("add", {"a": 1, "b": 2})), CONFIG)
    request = captured[0]
    assert isinstance(request.runtime, ToolRuntime)
    changed = request.override(state={"messages": [], "x": 1})
    assert changed.runtime.state == {"messages": [], "x": 1}
    assert request.state != changed.state
    with pytest.warns(DeprecationWarning, match="Setting attribute 'state' on ToolCallRequest"):
        request.state = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ToolCallRequest(tool_call=call("add", {}), tool=None, state={}, runtime=request.runtime)


def test_bare_tool_calls_give_a_messages_update() -> None:
    out = ToolNode([add]).invoke([call("add", {"a": 1, "b": 2})], CONFIG)
    assert out == {"messages": [ToolMessage("3", name="add", tool_call_id="c1")]}


def test_values_the_model_sends_for_hidden_parameters_are_dropped() -> None:
    @tool
    def whoami(q: str, role: Annotated[str, InjectedState("role")]) -> str:
        """Says the caller's role."""
        return f"{q}:{role}"

    forged = call("whoami", {"q": "x", "role": "ADMIN_SECRET"})
    out = ToolNode([whoami]).invoke({**ai(forged), "role": "user"}, CONFIG)
    assert out["messages"][0].content == "x:user"


def test_an_optional_injected_state_key_is_none_when_the_state_lacks_it() -> None:
    class State(TypedDict):
        messages: Annotated[list[Any], add_messages]
        city: NotRequired[str]

    @tool
    def weather(city: Annotated[str | None, InjectedState("city")] = None) -> str:
        """The weather where the user is."""
        return f"city={city}"

    graph = StateGraph(State)
    graph.add_node("tools", ToolNode([weather]))
    graph.add_edge(START, "tools")
    out = graph.compile().invoke(ai(call("weather", {})))
    assert out["messages"][-1].content == "city=None"


def test_non_text_output_is_json_with_its_characters_kept() -> None:
    @tool
    def days() -> list[str]:
        """Week days."""
        return ["星期一", "Friday"]

    (message,) = ToolNode([days]).invoke(ai(call("days", {})), CONFIG)["messages"]
    assert message.content == '["星期一", "Friday"]'


def test_a_tool_may_return_commands_and_messages_answering_once() -> None:
    @tool
    def split(tool_call_id: Annotated[str, InjectedToolCallId]) -> list[Any]:
        """Answers and updates another key."""
        return [Command(update={"other": 1}), ToolMessage("done", tool_call_id=tool_call_id)]

    @tool
    def silent() -> list[Any]:
        """Never answers its call."""
        return [Command(update={"other": 1})]

    out = ToolNode([split]).invoke(ai(call("split", {})), CONFIG)
    assert out[0] == Command(update={"other": 1})
    assert out[1] == {"messages": [ToolMessage("done", tool_call_id="c1")]}
    with pytest.raises(ValueError, match="0 messages bound to tool_call_id"):
        ToolNode([silent], handle_tool_errors=False).invoke(ai(call("silent", {})), CONFIG)


def test_invalid_arguments_name_only_the_models_own_errors() -> None:
    @tool
    def greet(name: int, state: Annotated[dict, InjectedState]) -> str:
        """Greets."""
        return "hi"

    with pytest.raises(ToolInvocationError) as info:
        ToolNode([greet], handle_tool_errors=False).invoke(
            ai(call("greet", {"name": "bob"})), CONFIG
        )
    assert [e["loc"] for e in info.value.filtered_errors or []] == [("name",)]
    assert info.value.message == str(info.value)
    assert info.value.message.startswith("Error invoking tool 'greet' with kwargs {'name': 'bob'}")


class FooState(TypedDict):
    messages: Annotated[list[Any], add_messages]
    foo: str


def test_bare_calls_sent_to_the_node_see_the_state_an_edge_gives() -> None:
    """(With a pydantic or dataclass state threadloom gives that type, as an edge does;
    LangGraph 1.2.22 gives the raw values: docs/differences.md 49.)"""
    seen: list[Any] = []

    @tool
    def record(runtime: ToolRuntime, state: Annotated[Any, InjectedState]) -> str:
        """Records the state it is given."""
        seen.append((runtime.state, state))
        return "ok"

    ask = call("record", {})

    def agent(state: Any) -> dict[str, Any]:
        return {"messages": [AIMessage("", tool_calls=[ask], id="1")]}

    graph = StateGraph(FooState).add_node("agent", agent).add_node("tools", ToolNode([record]))
    graph.add_edge(START, "agent").add_conditional_edges("agent", lambda _: [Send("tools", [ask])])
    graph.compile().invoke({"messages": [], "foo": "bar"})
    ((from_runtime, injected),) = seen
    assert (
        from_runtime
        == injected
        == {"messages": [AIMessage("", tool_calls=[ask], id="1")], "foo": "bar"}
    )


def test_bare_calls_run_inside_a_node_see_that_nodes_graph_state() -> None:
    seen: list[Any] = []

    @tool
    def record(runtime: ToolRuntime) -> str:
        """Records the state it is given."""
        seen.append(runtime.state)
        return "ok"

    class Value(TypedDict):
        value: str

    def call_tools(state: Value) -> dict[str, Any]:
        ToolNode([record]).invoke([call("record", {})])
        return {}

    inner = StateGraph(Value).add_node(call_tools).add_edge(START, "call_tools").compile()
    outer = StateGraph(Value).add_node("inner", inner)
    outer.add_conditional_edges(START, lambda _: [Send("inner", {"value": "inner"})], ["inner"])
    outer.compile().invoke({"value": "outer"})
    assert seen == [{"value": "inner"}]
