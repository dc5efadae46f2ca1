"""Memory across threads: what a user asked the agent to remember is recalled in a new thread.

The graph version of the cross-thread persistence guide. The store keeps memories under
``("memories", user_id)`` and finds them by meaning; every thread of a user sees them, no other
user ever does. The embedder here is a tiny deterministic word-hashing function so the example runs
offline; pass any LangChain ``Embeddings`` (or ``"provider:model"``) in real use.

Run: ``python examples/cross_thread_memory.py``.
"""

from __future__ import annotations

import math
import re
import uuid
import zlib

from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, MessagesState, StateGraph
from threadloom.store.base import BaseStore
from threadloom.store.memory import InMemoryStore
from threadloom.testing import FakeMemoryChatModel

DIMS = 64


def embed(texts: list[str]) -> list[list[float]]:
    """Bag of hashed words, normalised: texts sharing words land close together."""
    vectors = []
    for text in texts:
        vector = [0.0] * DIMS
        for word in re.findall(r"\w+", text.lower()):
            vector[zlib.crc32(word.encode()) % DIMS] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        vectors.append([v / norm for v in vector])
    return vectors


model = FakeMemoryChatModel()


def call_model(
    state: MessagesState, config: RunnableConfig, *, store: BaseStore
) -> dict[str, object]:
    user_id = config["configurable"]["user_id"]
    namespace = ("memories", user_id)
    last = state["messages"][-1]
    memories = store.search(namespace, query=str(last.content))
    info = "\n".join(item.value["data"] for item in memories)
    if "remember" in str(last.content).lower():
        store.put(namespace, str(uuid.uuid4()), {"data": "User name is Bob"})
    system = {"role": "system", "content": f"You are a helpful assistant. User info: {info}"}
    return {"messages": model.invoke([system, *state["messages"]])}


def build(store: InMemoryStore) -> object:
    builder = StateGraph(MessagesState)
    builder.add_node("call_model", call_model)
    builder.add_edge(START, "call_model")
    return builder.compile(checkpointer=InMemorySaver(), store=store)


def say(graph: object, thread_id: str, user_id: str, text: str) -> str:
    config = {"configurable": {"thread_id": thread_id, "user_id": user_id}}
    out = graph.invoke({"messages": [("user", text)]}, config)  # type: ignore[attr-defined]
    answer = str(out["messages"][-1].content)
    print(f"[thread {thread_id}, user {user_id}] {text!r} -> {answer!r}")
    return answer


def main() -> None:
    store = InMemoryStore(index={"embed": embed, "dims": DIMS})
    graph = build(store)
    say(graph, "1", "1", "Hi! Remember: my name is Bob")
    say(graph, "2", "1", "what is my name?")  # a new thread of the same user: recalled
    say(graph, "3", "2", "what is my name?")  # another user: nothing to recall
    print("memories of user 1:", [item.value for item in store.search(("memories", "1"))])


if __name__ == "__main__":
    main()
