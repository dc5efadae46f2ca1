"""ToolNode inside a graph gives what LangGraph 1.2.22's ToolNode gives for the same program.

Expected texts and shapes were observed by running each program on LangGraph 1.2.22 side by side
(``benchmarks/setup.sh``); message ids are random there and here, so they are not compared.
"""

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool

from threadloom.errors import LangGraphObjectError, ToolCallCommandError, ToolInvocationError
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.prebuilt import InjectedState, InjectedStore, ToolNode, tools_condition
from threadloom.store.base import BaseStore
from threadloom.store.memory import InMemoryStore
from threadloom.types import Command, Send


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def boom(x: str) -> str:
    """Always fails."""
    raise ValueError(f"bad {x}")


@tool
def handoff(tool_call_id: Annotated[str, InjectedToolCallId]) -> Command:
    """Hand the conversation to another node."""
    return Command(
        goto="other", update={"messages": [ToolMessage("moved", tool_call_id=tool_call_id)]}
    )


@tool
def forgets_message() -> Command:
    """A Command whose update does not answer the call."""
    return Command(update={"x": 1})


@tool
def reads_state(
    q: str,
    state: Annotated[dict, InjectedState],
    who: Annotated[str, InjectedState("who")],
) -> str:
    """Sees the graph state."""
    return f"{q} {len(state['messages'])} {who}"


class State(MessagesState):
    who: str
    x: int


def ai(*calls: tuple[str, dict[str, Any]]) -> AIMessage:
    return AIMessage(
        "",
        tool_calls=[{"name": n, "args": a, "id": f"c{i}"} for i, (n, a) in enumerate(calls)],
    )


def run(node: ToolNode, messages: list[Any], **extra: Any) -> list[dict[str, Any]]:
    builder = StateGraph(State)
    builder.add_node("tools", node)
    builder.add_node("other", lambda s: {})
    builder.add_edge(START, "tools")
    return list(builder.compile().stream({"messages": messages, **extra}, stream_mode="updates"))


def tool_messages(updates: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    update = updates[0]["tools"]
    parts = update if isinstance(update, list) else [update]
    return [
        (m.content, m.name, m.tool_call_id, m.status) for part in parts for m in part["messages"]
    ]


ALL = ToolNode([add, boom, handoff, forgets_message, reads_state])


def test_parallel_calls_answer_in_call_order() -> None:
    out = run(ALL, [ai(("add", {"a": 1, "b": 2}), ("add", {"a": 3, "b": 4}))])
    assert tool_messages(out) == [("3", "add", "c0", "success"), ("7", "add", "c1", "success")]


def test_calls_run_concurrently() -> None:
    gate = threading.Barrier(2, timeout=5)  # both calls must be running at once to pass

    @tool
    def meet(n: int) -> int:
        """Waits for the other call."""
        gate.wait()
        return n

    out = run(ToolNode([meet]), [ai(("meet", {"n": 1}), ("meet", {"n": 2}))])
    assert [m[0] for m in tool_messages(out)] == ["1", "2"]


def test_a_tool_error_is_raised_by_default() -> None:
    with pytest.raises(ValueError, match="bad y"):
        run(ALL, [ai(("boom", {"x": "y"}))])


def test_invalid_arguments_become_an_error_message_by_default() -> None:
    out = run(ALL, [ai(("add", {"a": "zz"}))])
    assert tool_messages(out) == [
        (
            "Error invoking tool 'add' with kwargs {'a': 'zz'} with error:\n a: Input should be a "
            "valid integer, unable to parse string as an integer\nb: Field required\n Please fix "
            "the error and try again.",
            "add",
            "c0",
            "error",
        )
    ]


def test_invalid_arguments_raise_with_handle_tool_errors_false() -> None:
    with pytest.raises(ToolInvocationError, match="Error invoking tool 'add'"):
        run(ToolNode([add], handle_tool_errors=False), [ai(("add", {"a": "zz"}))])


def test_unknown_tool_names_the_tools_there_are() -> None:
    out = run(ALL, [ai(("nope", {}))])
    assert tool_messages(out) == [
        (
            "Error: nope is not a valid tool, try one of "
            "[add, boom, handoff, forgets_message, reads_state].",
            "nope",
            "c0",
            "error",
        )
    ]


def on_value_error(e: ValueError) -> str:
    return f"handled {e}"


def on_key_error(e: KeyError) -> str:
    return f"handled {e}"


TEMPLATE = "Error: ValueError('bad y')\n Please fix your mistakes."


@pytest.mark.parametrize(
    ("handler", "text"),
    [
        (True, TEMPLATE),
        ("oops", "oops"),
        ((ValueError,), TEMPLATE),
        (on_value_error, "handled bad y"),
        ((KeyError,), None),
        (on_key_error, None),
        (False, None),
    ],
)
def test_handle_tool_errors_forms(handler: Any, text: str | None) -> None:
    node = ToolNode([boom], handle_tool_errors=handler)
    if text is None:
        with pytest.raises(ValueError, match="bad y"):
            run(node, [ai(("boom", {"x": "y"}))])
        return
    assert tool_messages(run(node, [ai(("boom", {"x": "y"}))])) == [(text, "boom", "c0", "error")]


def test_a_tool_returning_command_hands_off_and_keeps_other_results() -> None:
    out = run(ALL, [ai(("handoff", {}), ("add", {"a": 1, "b": 2}))])
    assert tool_messages(out) == [
        ("moved", "handoff", "c0", "success"),
        ("3", "add", "c1", "success"),
    ]
    assert out[1] == {"other": None}  # the Command's goto ran


def test_a_command_must_answer_its_own_call() -> None:
    with pytest.raises(ToolCallCommandError, match="matching ToolMessage") as info:
        run(ALL, [ai(("forgets_message", {}))])
    assert isinstance(info.value, ValueError)  # what LangGraph raises


def test_injected_state_is_hidden_from_the_model_and_filled_in() -> None:
    assert set(reads_state.tool_call_schema.model_json_schema()["properties"]) == {"q"}
    out = run(ALL, [ai(("reads_state", {"q": "hi"}))], who="bob")
    assert tool_messages(out) == [("hi 1 bob", "reads_state", "c0", "success")]


def test_injected_store_reaches_the_tool() -> None:
    @tool
    def remember(text: str, store: Annotated[BaseStore, InjectedStore()]) -> str:
        """Saves a memory."""
        store.put(("memories",), "1", {"text": text})
        return "saved"

    store = InMemoryStore()
    builder = StateGraph(MessagesState)
    builder.add_node("tools", ToolNode([remember]))
    builder.add_edge(START, "tools")
    graph = builder.compile(store=store)
    graph.invoke({"messages": [ai(("remember", {"text": "likes tea"}))]})
    item = store.get(("memories",), "1")
    assert item is not None and item.value == {"text": "likes tea"}
    with pytest.raises(ValueError, match="no store"):
        builder.compile().invoke({"messages": [ai(("remember", {"text": "x"}))]})


def test_input_errors_match_langgraph() -> None:
    with pytest.raises(ValueError, match="No message found in input"):
        run(ALL, [])
    with pytest.raises(ValueError, match="No AIMessage found in input"):
        run(ALL, [HumanMessage("x")])


def test_list_input_gives_list_output_and_async_matches_sync() -> None:
    calls = [ai(("add", {"a": 1, "b": 2}), ("add", {"a": 2, "b": 2}))]
    sync = ToolNode([add]).invoke(calls)
    asynced = asyncio.run(ToolNode([add]).ainvoke(calls))
    assert [m.content for m in sync] == [m.content for m in asynced] == ["3", "4"]


def test_messages_key() -> None:
    node = ToolNode([add], messages_key="chat")
    out = node.invoke({"chat": [ai(("add", {"a": 1, "b": 1}))]})
    assert [m.content for m in out["chat"]] == ["2"]


def test_tools_condition() -> None:
    assert tools_condition({"messages": [HumanMessage("x")]}) == "__end__"
    assert tools_condition({"messages": [ai(("add", {}))]}) == "tools"
    assert tools_condition([ai(("add", {}))]) == "tools"
    with pytest.raises(ValueError, match="No messages found in input state to tool_edge"):
        tools_condition({"messages": []})


def test_command_stays_a_value_as_a_tool_output() -> None:
    a = Command(goto="x", update={"a": 1})
    assert a == Command(goto="x", update={"a": 1})
    assert hash(Command(goto="x")) == hash(Command(goto="x"))
    out = handoff.invoke({"name": "handoff", "args": {}, "id": "c9", "type": "tool_call"})
    assert isinstance(out, Command) and out.goto == "other"


@tool
def go(n: int) -> Command:
    """Hands off to the parent graph."""
    return Command(graph=Command.PARENT, goto=[Send("other", {"got": [n]})])


class Parent(TypedDict):
    got: Annotated[list[int], operator.add]
    messages: list[Any]


def test_parent_handoffs_of_parallel_calls_merge_into_one_command() -> None:
    sub = StateGraph(MessagesState)
    sub.add_node("tools", ToolNode([go]))
    sub.add_edge(START, "tools")
    parent = StateGraph(Parent)
    parent.add_node("sub", sub.compile())
    parent.add_node("other", lambda s: {"got": [s["got"][0] * 10]})
    parent.add_edge(START, "sub")
    calls = [ai(("go", {"n": 1}), ("go", {"n": 2}))]
    chunks = list(parent.compile().stream({"messages": calls, "got": []}, stream_mode="updates"))
    assert chunks[0] == {"sub": None}
    assert sorted(c["other"]["got"][0] for c in chunks[1:]) == [10, 20]  # as LangGraph


class LangGraphToolNode:
    """Stands in for ``langgraph.prebuilt.ToolNode`` (LangGraph is not installed in the tests)."""

    __module__ = "langgraph.prebuilt.tool_node"
    __qualname__ = "ToolNode"

    def invoke(self, value: Any, config: Any = None) -> Any:
        raise ValueError("Missing required config key 'N/A' for 'tools'.")  # what LangGraph's does


def test_langgraphs_tool_node_is_refused_with_the_import_to_use() -> None:
    builder = StateGraph(MessagesState)
    with pytest.raises(LangGraphObjectError) as info:
        builder.add_node("tools", LangGraphToolNode())
    assert "Change the import to: from threadloom.prebuilt.tool_node import ToolNode" in str(
        info.value
    )
