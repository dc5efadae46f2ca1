"""The ``messages`` stream mode: chat-model tokens and messages with their metadata."""

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.testing import FakeMemoryChatModel


def test_tokens_stream_with_node_metadata() -> None:
    model = GenericFakeChatModel(messages=iter(["hello there friend"]))

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("call_model", call_model)
    graph = graph.add_edge(START, "call_model").compile(checkpointer=InMemorySaver())
    chunks = list(
        graph.stream(
            {"messages": [("user", "hi")]},
            {"configurable": {"thread_id": "1"}},
            stream_mode="messages",
        )
    )
    text = "".join(str(message.content) for message, _ in chunks)
    assert text == "hello there friend"
    assert len(chunks) > 1  # token by token
    _, metadata = chunks[0]
    assert metadata["langgraph_node"] == "call_model"
    assert metadata["langgraph_step"] == 1
    assert metadata["checkpoint_ns"].startswith("call_model:")


def test_non_streaming_model_and_hand_built_messages() -> None:
    model = FakeMemoryChatModel()

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    def footer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("(footer)", id="footer-1")]}

    builder = StateGraph(MessagesState).add_node("call_model", call_model)
    builder.add_node("footer", footer).add_edge(START, "call_model")
    builder.add_edge("call_model", "footer")
    chunks = list(
        builder.compile().stream(
            {"messages": [("user", "hi! I'm bob")]}, stream_mode=["messages", "updates"]
        )
    )
    messages = [payload for mode, payload in chunks if mode == "messages"]
    assert [m.content for m, _ in messages] == ["Hi Bob! Nice to meet you.", "(footer)"]
    assert [meta["langgraph_node"] for _, meta in messages] == ["call_model", "footer"]
    # the user's own input message is never streamed back
    assert all(m.type == "ai" for m, _ in messages)


async def test_async_messages_stream() -> None:
    model = GenericFakeChatModel(messages=iter(["async tokens"]))

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("call_model", call_model)
    graph = graph.add_edge(START, "call_model").compile()
    chunks = [
        c async for c in graph.astream({"messages": [("user", "hi")]}, stream_mode="messages")
    ]
    assert "".join(str(m.content) for m, _ in chunks) == "async tokens"
