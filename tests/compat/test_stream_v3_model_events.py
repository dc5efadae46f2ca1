"""``run.messages`` when a node drives its chat model with ``model.stream_events(version="v3")``.

Such a model's chunks carry no message id; langchain-core names the finished message
``lc_run--<run id>`` and the model's end reports it. The chunks and that finished message are one
message: ``run.messages`` has one stream for it, as LangGraph 1.2.22 has (checked with the import
root swapped), not a second one for the finished message. In an async run the stream is an
``AsyncChatModelStream``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.language_models.chat_model_stream import AsyncChatModelStream

from threadloom.graph import END, START, MessagesState, StateGraph


def _graph(node: Any) -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("call_model", node)
    builder.add_edge(START, "call_model")
    builder.add_edge("call_model", END)
    return builder.compile()


def test_a_models_event_stream_is_one_message_stream() -> None:
    model = GenericFakeChatModel(messages=iter(["hello world"]))

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": model.stream_events(state["messages"], version="v3").output}

    run = _graph(call_model).stream_events({"messages": "hi"}, version="v3")
    streams = list(run.messages)
    assert [s.output.text for s in streams] == ["hello world"]
    assert [s.node for s in streams] == ["call_model"]


def test_its_text_streams_as_deltas() -> None:
    model = GenericFakeChatModel(messages=iter(["one two three"]))

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": model.stream_events(state["messages"], version="v3").output}

    run = _graph(call_model).stream_events({"messages": "go"}, version="v3")
    (stream,) = list(run.messages)
    deltas = list(stream.text)
    assert len(deltas) > 1
    assert "".join(deltas) == "one two three"


def test_two_calls_in_a_row_are_two_streams() -> None:
    model = GenericFakeChatModel(messages=iter(["first", "second"]))

    def call_model(state: MessagesState) -> dict[str, Any]:
        one = model.stream_events(state["messages"], version="v3").output
        two = model.stream_events(state["messages"], version="v3").output
        return {"messages": [one, two]}

    run = _graph(call_model).stream_events({"messages": "go"}, version="v3")
    assert [s.output.text for s in run.messages] == ["first", "second"]


def test_an_async_models_event_stream_is_one_async_stream() -> None:
    model = GenericFakeChatModel(messages=iter(["async answer"]))

    async def call_model(state: MessagesState) -> dict[str, Any]:
        stream = await model.astream_events(state["messages"], version="v3")
        return {"messages": await stream}

    async def collect() -> list[tuple[bool, str]]:
        run = await _graph(call_model).astream_events({"messages": "hi"}, version="v3")
        found = []
        async for stream in run.messages:
            text = "".join([delta async for delta in stream.text])
            found.append((isinstance(stream, AsyncChatModelStream), text))
        return found

    assert asyncio.run(collect()) == [(True, "async answer")]
