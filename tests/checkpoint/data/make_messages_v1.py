"""Writes ``messages_v1.sqlite``: a chat whose messages are stored as generic pydantic records,
as threadloom wrote them before messages had their own record (``EXT_MESSAGE``).

Run on the old code (``python make_messages_v1.py OUT.sqlite``); ``test_serde_messages`` reads
the file with today's code and compares with ``history()``.
"""

from __future__ import annotations

import sys
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

THREAD = {"configurable": {"thread_id": "chat"}}


def history() -> list[BaseMessage]:
    """Every message of the chat, with fixed ids, in order."""
    return [
        SystemMessage("be brief", id="s1"),
        HumanMessage("weather in Paris?", id="h1", name="ann", additional_kwargs={"k": [1]}),
        AIMessage(
            "",
            id="a1",
            tool_calls=[{"name": "weather", "args": {"city": "Paris"}, "id": "c1"}],
            invalid_tool_calls=[{"name": "w", "args": "{", "id": "c2", "error": "bad json"}],
            usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
            response_metadata={"model": "m", "finish_reason": "tool_calls"},
        ),
        ToolMessage("18C", tool_call_id="c1", id="t1", artifact={"raw": [18]}, status="success"),
        AIMessage([{"type": "text", "text": "18C"}], id="a2", lang="en"),
    ]


def build(saver: Any) -> Any:
    from threadloom.graph import END, START, MessagesState, StateGraph

    def answer(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": history()[2:]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile(checkpointer=saver)


if __name__ == "__main__":
    from threadloom.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(sys.argv[1]) as saver:
        build(saver).invoke({"messages": history()[:2]}, THREAD)
