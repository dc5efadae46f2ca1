"""``stream_mode="messages"`` with a pydantic model or dataclass state: the messages a node
gets in its input are known, so they are not streamed again when a node returns them, as with
a dict state and as in LangGraph. Seen on a resume: a subgraph that paused after writing a
message streamed it again when it finished (its node's input, a model, was not read)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.graph.message import add_messages
from threadloom.types import Command, interrupt


class ModelChat(BaseModel):
    messages: Annotated[list[AnyMessage], add_messages] = []


@dataclass
class DataChat:
    messages: Annotated[list[AnyMessage], add_messages] = field(default_factory=list)


def draft(state: Any) -> dict[str, Any]:
    return {"messages": [AIMessage(content="a draft", id="draft-1")]}


def review(state: Any) -> dict[str, Any]:
    verdict = interrupt("approve the draft?")
    return {"messages": [HumanMessage(content=verdict, id=f"verdict-{verdict}")]}


def finish(state: Any) -> dict[str, Any]:
    return {"messages": [AIMessage(content="done", id="done-1")]}


@pytest.mark.parametrize("schema", [ModelChat, DataChat], ids=["pydantic", "dataclass"])
def test_a_resumed_subgraph_does_not_stream_known_messages_again(schema: Any) -> None:
    inner = StateGraph(schema)
    inner.add_node("draft", draft)
    inner.add_node("review", review)
    inner.add_edge(START, "draft")
    inner.add_edge("draft", "review")
    outer = StateGraph(schema)
    outer.add_node("write", inner.compile())
    outer.add_node("finish", finish)
    outer.add_edge(START, "write")
    outer.add_edge("write", "finish")
    graph = outer.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}

    def streamed_ids(run_input: Any) -> list[str]:
        chunks = graph.stream(run_input, config, stream_mode="messages", subgraphs=True)
        return [message.id for _ns, (message, _meta) in chunks]

    first = streamed_ids({"messages": [HumanMessage(content="write", id="ask-1")]})
    assert first == ["draft-1"]
    second = streamed_ids(Command(resume="yes"))
    assert "draft-1" not in second
    assert second[-1] == "done-1" and "verdict-yes" in second
