"""The persistence guides (shared/seeds) run with only the import root changed.

Each test keeps the guide's code as written, with ``langgraph`` replaced by ``threadloom`` and the
hosted models replaced by offline ones: ``FakeMemoryChatModel`` (answers from what it is shown) and
a deterministic hashing embedder. They assert what the guides show: a thread remembers, a new
thread does not, and one user's memories never reach another user. The cross-thread examples run
twice: in memory as the guides write them, and on ``PostgresSaver`` + ``PostgresStore`` (a real
server), as a team deploys them.
"""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.memory import MemorySaver
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.func import entrypoint, task
from threadloom.graph import START, MessagesState, StateGraph, add_messages
from threadloom.store.base import BaseStore
from threadloom.store.memory import InMemoryStore
from threadloom.store.postgres import PostgresStore
from threadloom.testing import FakeMemoryChatModel

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
from fake_embed import FakeEmbeddings

sys.path.insert(0, str(Path(__file__).parents[2] / "examples"))
import chatbot

model = FakeMemoryChatModel()


def last_content(chunks: list[Any]) -> str:
    last = chunks[-1]
    message = last["messages"][-1] if isinstance(last, dict) else last
    return str(message.content)


def test_thread_memory_chatbot_as_a_graph(capsys: pytest.CaptureFixture[str]) -> None:
    graph = chatbot.build_graph(MemorySaver())
    assert chatbot.chat(graph, "1", "hi! I'm bob") == "Hi Bob! Nice to meet you."
    assert chatbot.chat(graph, "1", "what's my name?") == "Your name is Bob."
    assert "know your name" in chatbot.chat(graph, "2", "what's my name?")
    assert "Human Message" in capsys.readouterr().out
    # the thread keeps the whole conversation
    state = graph.get_state({"configurable": {"thread_id": "1"}})  # type: ignore[attr-defined]
    assert [m.type for m in state.values["messages"]] == ["human", "ai", "human", "ai"]


def test_thread_memory_functional_api() -> None:
    @task
    def call_model(messages: list[BaseMessage]):  # type: ignore[no-untyped-def]
        response = model.invoke(messages)
        return response

    checkpointer = MemorySaver()

    @entrypoint(checkpointer=checkpointer)
    def workflow(inputs: list[BaseMessage], *, previous: list[BaseMessage]):  # type: ignore[no-untyped-def]
        if previous:
            inputs = add_messages(previous, inputs)

        response = call_model(inputs).result()
        return entrypoint.final(value=response, save=add_messages(inputs, response))

    config = {"configurable": {"thread_id": "1"}}
    input_message = {"role": "user", "content": "hi! I'm bob"}
    chunks = list(workflow.stream([input_message], config, stream_mode="values"))
    for chunk in chunks:
        chunk.pretty_print()
    assert last_content(chunks) == "Hi Bob! Nice to meet you."

    input_message = {"role": "user", "content": "what's my name?"}
    chunks = list(workflow.stream([input_message], config, stream_mode="values"))
    assert last_content(chunks) == "Your name is Bob."

    input_message = {"role": "user", "content": "what's my name?"}
    chunks = list(
        workflow.stream([input_message], {"configurable": {"thread_id": "2"}}, stream_mode="values")
    )
    assert "know your name" in last_content(chunks)
    # previous holds the whole conversation of thread 1; the return value is only the answer
    state = workflow.get_state(config)
    assert state.values.content == "Your name is Bob."


def make_store() -> InMemoryStore:
    return InMemoryStore(index={"embed": FakeEmbeddings(dims=256), "dims": 256})


@pytest.fixture(params=["memory", "postgres"])
def persistence(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    """(checkpointer, store) of the guide: in memory, or PostgresSaver + PostgresStore."""
    if request.param == "memory":
        yield MemorySaver(), make_store()
        return
    dsn = request.getfixturevalue("pg_dsn")
    index = {"embed": FakeEmbeddings(dims=256), "dims": 256}
    with (
        PostgresSaver.from_conn_string(dsn) as checkpointer,
        PostgresStore.from_conn_string(dsn, index=index) as store,  # type: ignore[arg-type]
    ):
        checkpointer.setup()
        store.setup()
        yield checkpointer, store


def test_cross_thread_memory_graph(persistence: tuple[Any, Any]) -> None:
    checkpointer, in_memory_store = persistence

    def call_model(state: MessagesState, config: RunnableConfig, *, store: BaseStore):  # type: ignore[no-untyped-def]
        user_id = config["configurable"]["user_id"]
        namespace = ("memories", user_id)
        memories = store.search(namespace, query=str(state["messages"][-1].content))
        info = "\n".join([d.value["data"] for d in memories])
        system_msg = f"You are a helpful assistant talking to the user. User info: {info}"

        # Store new memories if the user asks the model to remember
        last_message = state["messages"][-1]
        if "remember" in last_message.content.lower():
            memory = "User name is Bob"
            store.put(namespace, str(uuid.uuid4()), {"data": memory})

        response = model.invoke([{"role": "system", "content": system_msg}] + state["messages"])
        return {"messages": response}

    builder = StateGraph(MessagesState)
    builder.add_node("call_model", call_model)
    builder.add_edge(START, "call_model")
    graph = builder.compile(checkpointer=checkpointer, store=in_memory_store)

    def say(thread_id: str, user_id: str, text: str) -> str:
        config = {"configurable": {"thread_id": thread_id, "user_id": user_id}}
        input_message = {"role": "user", "content": text}
        chunks = list(graph.stream({"messages": [input_message]}, config, stream_mode="values"))
        for chunk in chunks:
            chunk["messages"][-1].pretty_print()
        return last_content(chunks)

    assert "Bob" in say("1", "1", "Hi! Remember: my name is Bob")
    assert say("2", "1", "what is my name?") == "Your name is Bob."
    assert [m.value for m in in_memory_store.search(("memories", "1"))] == [
        {"data": "User name is Bob"}
    ]
    assert "know your name" in say("3", "2", "what is my name?")
    # isolation also holds by prefix: user 2's namespace sees nothing of user 1
    assert in_memory_store.search(("memories", "2")) == []
    assert in_memory_store.search(("memories", "2"), query="what is my name?") == []


def test_cross_thread_memory_functional(persistence: tuple[Any, Any]) -> None:
    checkpointer, in_memory_store = persistence

    @task
    def call_model(messages: list[BaseMessage], memory_store: BaseStore, user_id: str):  # type: ignore[no-untyped-def]
        namespace = ("memories", user_id)
        last_message = messages[-1]
        memories = memory_store.search(namespace, query=str(last_message.content))
        info = "\n".join([d.value["data"] for d in memories])
        system_msg = f"You are a helpful assistant talking to the user. User info: {info}"

        # Store new memories if the user asks the model to remember
        if "remember" in last_message.content.lower():
            memory = "User name is Bob"
            memory_store.put(namespace, str(uuid.uuid4()), {"data": memory})

        response = model.invoke([{"role": "system", "content": system_msg}] + messages)
        return response

    @entrypoint(checkpointer=checkpointer, store=in_memory_store)
    def workflow(  # type: ignore[no-untyped-def]
        inputs: list[BaseMessage],
        *,
        previous: list[BaseMessage],
        config: RunnableConfig,
        store: BaseStore,
    ):
        user_id = config["configurable"]["user_id"]
        previous = previous or []
        inputs = add_messages(previous, inputs)
        response = call_model(inputs, store, user_id).result()
        return entrypoint.final(value=response, save=add_messages(inputs, response))

    def say(thread_id: str, user_id: str, text: str) -> str:
        config = {"configurable": {"thread_id": thread_id, "user_id": user_id}}
        input_message = {"role": "user", "content": text}
        chunks = list(workflow.stream([input_message], config, stream_mode="values"))
        for chunk in chunks:
            chunk.pretty_print()
        return last_content(chunks)

    assert "Bob" in say("1", "1", "Hi! Remember: my name is Bob")
    assert say("2", "1", "what is my name?") == "Your name is Bob."
    assert [m.value for m in in_memory_store.search(("memories", "1"))] == [
        {"data": "User name is Bob"}
    ]
    assert "know your name" in say("3", "2", "what is my name?")


async def test_cross_thread_memory_graph_async_store_in_node(
    persistence: tuple[Any, Any],
) -> None:
    """Seed 003 (the JS guide), in Python: the node stores what the user asked to remember."""
    checkpointer, in_memory_store = persistence

    async def call_model(state: MessagesState, config: RunnableConfig, *, store: BaseStore):  # type: ignore[no-untyped-def]
        namespace = ("memories", config["configurable"]["userId"])
        memories = await store.asearch(namespace)
        info = "\n".join(d.value["data"] for d in memories)
        last_message = state["messages"][-1]
        if "remember" in str(last_message.content).lower():
            await store.aput(namespace, str(uuid.uuid4()), {"data": last_message.content})
        response = await model.ainvoke(
            [{"role": "system", "content": f"User info: {info}"}, *state["messages"]]
        )
        return {"messages": response}

    builder = StateGraph(MessagesState).add_node("call_model", call_model)
    graph = builder.add_edge(START, "call_model").compile(
        checkpointer=checkpointer, store=in_memory_store
    )
    first = {"configurable": {"thread_id": "1", "userId": "1"}}
    await graph.ainvoke({"messages": [("user", "Hi! Remember: my name is Bob")]}, first)
    second = {"configurable": {"thread_id": "2", "userId": "1"}}
    out = await graph.ainvoke({"messages": [("user", "what is my name?")]}, second)
    assert out["messages"][-1].content == "Your name is Bob."
    stored = await in_memory_store.asearch(("memories", "1"))
    assert [m.value for m in stored] == [{"data": "Hi! Remember: my name is Bob"}]
    other = {"configurable": {"thread_id": "3", "userId": "2"}}
    out = await graph.ainvoke({"messages": [("user", "what is my name?")]}, other)
    assert "know your name" in out["messages"][-1].content
