"""A long chat whose messages are a ``DeltaChannel``: bytes on disk, ms per turn, one read.

The same program (``messages: Annotated[list, DeltaChannel(_messages_delta_reducer)]``, one node
answering each human message, default durability) chats ``--turns`` turns on one thread on
threadloom's ``SqliteSaver`` and on LangGraph 1.2's engine with its own ``SqliteSaver``, and
prints the database size, the mean ms per turn and the ms of one ``get_state`` at the end.
LangGraph stores the channel as writes and rebuilds it on each read; threadloom stores the value
as the messages appended since the parent checkpoint (docs/differences.md #25). Both runs must end
with the same conversation (checked).

Needs ``langgraph`` and ``langgraph-checkpoint-sqlite`` (the project's ``.venv``, extra
``test-langgraph``).

    .venv/bin/python benchmarks/delta_channel_size.py --turns 200
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from langchain_core.messages import AIMessage, HumanMessage
from typing_extensions import TypedDict


def chat(root: str, path: Path, turns: int) -> tuple[int, float, float, list[str]]:
    """Run the chat with import root ``root``: (bytes, ms per turn, ms of get_state, texts)."""
    delta = importlib.import_module(f"{root}.channels.delta")
    message = importlib.import_module(f"{root}.graph.message")
    graph_module = importlib.import_module(f"{root}.graph")
    sqlite_saver = importlib.import_module(f"{root}.checkpoint.sqlite").SqliteSaver

    reducer = delta.DeltaChannel(message._messages_delta_reducer)
    State = TypedDict("State", {"messages": Annotated[list[Any], reducer]})  # type: ignore[misc]  # noqa: UP013

    def bot(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [AIMessage("reply " * 20)]}

    builder = graph_module.StateGraph(State)
    builder.add_node("bot", bot)
    builder.add_edge(graph_module.START, "bot")
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = sqlite_saver(conn)
    saver.setup()
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    start = time.perf_counter()
    for turn in range(turns):
        graph.invoke({"messages": [HumanMessage(f"question {turn} " + "words " * 20)]}, config)
    per_turn = (time.perf_counter() - start) / turns * 1000
    start = time.perf_counter()
    texts = [m.content for m in graph.get_state(config).values["messages"]]
    read = (time.perf_counter() - start) * 1000
    conn.commit()
    conn.close()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return size, per_turn, read, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    turns = parser.parse_args().turns
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for root in ("threadloom", "langgraph"):
            results[root] = chat(root, Path(tmp) / f"{root}.db", turns)
    assert results["threadloom"][3] == results["langgraph"][3], "the conversations differ"
    for root, (size, per_turn, read, texts) in results.items():
        print(
            f"{root:10} {turns} turns, {len(texts)} messages: {size:>10,} bytes, "
            f"{per_turn:6.2f} ms/turn, get_state {read:6.1f} ms"
        )


if __name__ == "__main__":
    main()
