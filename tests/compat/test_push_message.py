"""``push_message``: a node streams a message as it runs, as LangGraph 1.2.22 does.

Expected values were observed by running the same programs on LangGraph 1.2.22 (ids aside).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from threadloom.errors import MessageIdRequiredError
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.graph.message import push_message


def _one_node(node: Any) -> Any:
    return StateGraph(MessagesState).add_node(node).add_edge(START, node.__name__).compile()


def test_pushed_messages_stream_at_once_and_join_the_state() -> None:
    def chat(state: MessagesState) -> dict[str, Any]:
        push_message(AIMessage(content="First", id="1"))
        push_message(HumanMessage(content="Second", id="2"))
        # returned again (replacing "1") or new: each message id streams once
        return {"messages": [AIMessage(content="Third", id="3"), AIMessage(content="Four", id="1")]}

    streamed, values = [], None
    for mode, chunk in _one_node(chat).stream({"messages": []}, stream_mode=["messages", "values"]):
        if mode == "messages":
            message, metadata = chunk
            streamed.append((message.content, metadata["langgraph_node"]))
        else:
            values = chunk
    assert streamed == [("First", "chat"), ("Second", "chat"), ("Third", "chat")]
    assert values is not None
    assert [m.content for m in values["messages"]] == ["Four", "Second", "Third"]


def test_a_message_pushed_with_no_state_key_is_only_streamed() -> None:
    def chat(state: MessagesState) -> dict[str, Any]:
        pushed = push_message(AIMessage(content="hi", id="p"), state_key=None)
        assert pushed.id == "p"
        return {}

    parts = list(_one_node(chat).stream({"messages": []}, stream_mode=["messages", "values"]))

    # the state is untouched: no values chunk after the step
    assert [(mode, c[0].content if mode == "messages" else c) for mode, c in parts] == [
        ("values", {"messages": []}),
        ("messages", "hi"),
    ]


def test_a_pushed_message_needs_an_id_and_a_running_task() -> None:
    def chat(state: MessagesState) -> dict[str, Any]:
        with pytest.raises(MessageIdRequiredError, match="Message ID is required"):
            push_message(AIMessage(content="no id"))
        return {}

    assert _one_node(chat).invoke({"messages": []}) == {"messages": []}
    with pytest.raises(RuntimeError, match="outside of a runnable context"):
        push_message(AIMessage(content="x", id="x"))


def _push(state: MessagesState) -> dict[str, Any]:
    push_message(AIMessage(id="pushed", content="hi"), state_key=None)
    return {}


def _namespaces(graph: Any, subgraphs: bool) -> list[tuple[str, ...]]:
    parts = graph.stream(
        {"messages": []}, stream_mode="messages", subgraphs=subgraphs, version="v2"
    )
    return [tuple(s.split(":")[0] for s in part["ns"]) for part in parts]


def test_a_pushed_message_streams_under_the_namespace_of_its_graph() -> None:
    parent = StateGraph(MessagesState).add_node("sub", _one_node(_push)).add_edge(START, "sub")

    assert _namespaces(parent.compile(), subgraphs=False) == []
    assert _namespaces(parent.compile(), subgraphs=True) == [("sub",)]


@pytest.mark.parametrize("subgraphs", [False, True])
def test_a_pushed_message_reaches_the_node_streaming_its_graph(subgraphs: bool) -> None:
    pushing, received = _one_node(_push), []

    def node(state: MessagesState) -> dict[str, Any]:
        for message, _ in pushing.stream({"messages": []}, stream_mode="messages"):
            received.append(message.id)
        return {}

    assert _namespaces(_one_node(node), subgraphs) == ([("node",)] if subgraphs else [])
    assert received == ["pushed"]
