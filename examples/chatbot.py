"""Thread-level memory: a chatbot that remembers within a thread and starts fresh in a new one.

The graph version of the persistence guide's chatbot, written exactly as with LangGraph except the
import root. The model is threadloom's offline ``FakeMemoryChatModel``, whose answer depends only on
the messages it is shown, so the run needs no API key and shows what a checkpointer adds.

Run: ``python examples/chatbot.py``.
"""

from __future__ import annotations

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.testing import FakeMemoryChatModel

model = FakeMemoryChatModel()


def call_model(state: MessagesState) -> dict[str, object]:
    response = model.invoke(state["messages"])
    return {"messages": response}


def build_graph(checkpointer: object) -> object:
    builder = StateGraph(MessagesState)
    builder.add_node("call_model", call_model)
    builder.add_edge(START, "call_model")
    return builder.compile(checkpointer=checkpointer)


def chat(graph: object, thread_id: str, text: str) -> str:
    """Send one user message on a thread; print and return the model's answer."""
    config = {"configurable": {"thread_id": thread_id}}
    answer = ""
    for chunk in graph.stream(  # type: ignore[attr-defined]
        {"messages": [{"role": "user", "content": text}]}, config, stream_mode="values"
    ):
        message = chunk["messages"][-1]
        message.pretty_print()
        answer = str(message.content)
    return answer


def main() -> None:
    graph = build_graph(InMemorySaver())
    print("--- thread 1 ---")
    chat(graph, "1", "hi! I'm bob")
    chat(graph, "1", "what's my name?")
    print("--- thread 2 (a new conversation: the memory is per thread) ---")
    chat(graph, "2", "what's my name?")


if __name__ == "__main__":
    main()
