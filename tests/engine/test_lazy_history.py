"""A history walk decodes what its reader reads (issue 9): metadata, ``next``, ids and ``tasks``
decode no message, values are decoded when first read, and the messages a delta chain shares
are decoded once per walk, not once per checkpoint. Real savers (memory, SQLite file)."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import START, MessagesState, StateGraph

TURNS = 12


class CountingSerde(JsonPlusSerializer):
    """Counts the messages each ``loads_typed`` call returns."""

    def __init__(self) -> None:
        super().__init__()
        self.messages = 0

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        value = super().loads_typed(data)
        if isinstance(value, BaseMessage):
            self.messages += 1
        elif isinstance(value, list):
            self.messages += sum(isinstance(m, BaseMessage) for m in value)
        return value


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    serde = CountingSerde()
    if request.param == "memory":
        yield InMemorySaver(serde=serde)
        return
    conn = sqlite3.connect(tmp_path / "history.sqlite", check_same_thread=False)
    yield SqliteSaver(conn, serde=serde)
    conn.close()


def chat(saver: Any) -> tuple[Any, dict[str, Any]]:
    def bot(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage(f"echo {state['messages'][-1].content}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("bot", bot)
    builder.add_edge(START, "bot")
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "chat"}}
    for turn in range(TURNS):
        graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
    return graph, config


def test_walking_metadata_next_and_tasks_decodes_no_message(saver: Any) -> None:
    graph, config = chat(saver)
    saver.serde.messages = 0
    seen = [
        (s.config["configurable"]["checkpoint_id"], s.metadata, s.next, s.created_at, s.tasks)
        for s in graph.get_state_history(config)
    ]
    assert len(seen) == 3 * TURNS
    # no state value is decoded; only the writes of finished tasks (one message a turn), which
    # ``tasks[].result`` shows, and the memory saver keeps as objects
    assert saver.serde.messages <= TURNS
    # each turn: the input checkpoint, the one where bot is due, the one after it ran
    assert [s[2] for s in seen[:3]] == [(), ("bot",), ("__start__",)]
    assert [t.name for t in seen[1][4]] == ["bot"]
    assert [m.content for m in seen[1][4][0].result["messages"]] == ["echo turn 11"]


def test_values_read_late_equal_the_eager_ones(saver: Any) -> None:
    graph, config = chat(saver)
    walked = list(graph.get_state_history(config))
    newest = walked[0].values
    assert newest == graph.get_state(config).values
    assert [m.content for m in newest["messages"]][-2:] == ["turn 11", "echo turn 11"]
    oldest_with_messages = walked[-2].values
    assert [m.content for m in oldest_with_messages["messages"]] == ["turn 0"]
    assert json.loads(json.dumps({"n": len(walked[3].values["messages"])})) == {"n": 22}
    assert dict(walked[0].values) == newest and {**walked[0].values} == newest
    assert copy.deepcopy(walked[0].values) == newest
    assert walked[-1].values == {"messages": []}  # the first input checkpoint


def test_messages_shared_by_a_chain_are_decoded_once_per_walk(saver: Any) -> None:
    graph, config = chat(saver)
    saver.serde.messages = 0
    states = list(graph.get_state_history(config))
    for state in states:
        assert len(state.values.get("messages", [])) <= 2 * TURNS
    stored = 2 * TURNS  # distinct messages written in the thread
    total = sum(len(s.values.get("messages", [])) for s in states)
    # eager decoding would cost ``total`` (here over 400); tails are decoded once each, and
    # the writes of the bot's task (one message a turn) once more
    assert total > 10 * stored
    assert saver.serde.messages <= 3 * stored


async def test_async_history_is_lazy_too() -> None:
    saver = InMemorySaver(serde=CountingSerde())
    graph, config = chat(saver)
    saver.serde.messages = 0
    metadata = [s.metadata async for s in graph.aget_state_history(config)]
    assert len(metadata) == 3 * TURNS and saver.serde.messages == 0
