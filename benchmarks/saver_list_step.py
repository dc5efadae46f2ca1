"""Saver costs users wait on, one run each (figures go in notes, never in test assertions):

- per step of a graph appending one element per step to a list channel of ``--size`` entries,
  with no saver, InMemorySaver and SqliteSaver (NORMAL and FULL);
- SQLite commits per chat turn (two nodes), counted from the statements SQLite ran;
- a 500-turn ``MessagesState`` chat on SqliteSaver: ms per turn, turns 1-50 and 451-500.

    .venv/bin/python benchmarks/saver_list_step.py --size 10000 --steps 200
"""

from __future__ import annotations

import argparse
import operator
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph


class State(TypedDict):
    items: Annotated[list[str], operator.add]
    n: int


class Chat(TypedDict):
    messages: Annotated[list[str], operator.add]


def _list_graph(saver: Any, steps: int) -> Any:
    def step(state: State) -> dict[str, Any]:
        return {"items": [f"item {state['n']}"], "n": state["n"] + 1}

    def more(state: State) -> str:
        return "step" if state["n"] < steps else END

    builder = StateGraph(State).add_node("step", step).add_edge(START, "step")
    return builder.add_conditional_edges("step", more).compile(checkpointer=saver)


def per_step(saver: Any, size: int, steps: int) -> float:
    graph = _list_graph(saver, steps)
    config = {"configurable": {"thread_id": "t"}, "recursion_limit": steps + 10}
    start = time.perf_counter()
    graph.invoke({"items": [f"seed {i}" for i in range(size)], "n": 0}, config)
    return (time.perf_counter() - start) / steps


def sqlite_per_step(folder: Path, size: int, steps: int, synchronous: str) -> float:
    path = str(folder / f"list-{synchronous}.db")
    with SqliteSaver.from_conn_string(path, synchronous=synchronous) as saver:
        return per_step(saver, size, steps)


def commits_per_turn(folder: Path, turns: int) -> tuple[float, float]:
    """Write transactions (each a WAL append, an fsync under FULL) and all commits (reads
    included) SQLite ran per invoke of a two-node chat turn."""
    conn = sqlite3.connect(folder / "chat.db", check_same_thread=False)
    commits = writes = 0

    def trace(statement: str) -> None:
        nonlocal commits, writes
        commits += statement.strip().upper().startswith("COMMIT")
        writes += statement.strip().upper().startswith("BEGIN IMMEDIATE")

    saver = SqliteSaver(conn)
    builder = StateGraph(Chat)
    builder.add_node("user", lambda s: {"messages": ["hi"]})
    builder.add_node("model", lambda s: {"messages": ["hello"]})
    graph = builder.add_edge(START, "user").add_edge("user", "model").compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "chat"}}
    graph.invoke({"messages": []}, config)  # setup and the first turn are not counted
    conn.set_trace_callback(trace)
    for _ in range(turns):
        graph.invoke({"messages": ["next"]}, config)
    conn.set_trace_callback(None)
    conn.close()
    return writes / turns, commits / turns


def chat_turns(folder: Path, turns: int = 500, **saver_options: Any) -> tuple[float, float]:
    """ms per turn of a MessagesState chat on SqliteSaver: the first 50 turns, the last 50."""
    from threadloom.graph.message import MessagesState

    path = str(folder / f"chat-{len(saver_options)}.db")
    with SqliteSaver.from_conn_string(path, **saver_options) as saver:
        builder = StateGraph(MessagesState)
        builder.add_node("bot", lambda s: {"messages": [("ai", f"echo {len(s['messages'])}")]})
        graph = builder.add_edge(START, "bot").compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "chat"}}
        times = []
        for turn in range(turns):
            began = time.perf_counter()
            graph.invoke({"messages": [("user", f"turn {turn}")]}, config)
            times.append(time.perf_counter() - began)
    return sum(times[:50]) / 50 * 1e3, sum(times[-50:]) / 50 * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    size, steps = args.size, args.steps
    print(f"list channel of {size} entries, {steps} steps, per step:")
    print(f"  no saver              {per_step(None, size, steps) * 1e3:.3f} ms")
    print(f"  InMemorySaver         {per_step(InMemorySaver(), size, steps) * 1e3:.3f} ms")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for level in ("NORMAL", "FULL"):
            cost = sqlite_per_step(folder, size, steps, level)
            print(f"  SqliteSaver {level:<10}{cost * 1e3:.3f} ms")
        writes, commits = commits_per_turn(folder, 20)
        print(f"SQLite per chat turn: {writes:.1f} write transactions, {commits:.1f} commits")
        early, late = chat_turns(folder)
        print(f"500-turn chat on SqliteSaver: turns 1-50 {early:.2f} ms, 451-500 {late:.2f} ms")


if __name__ == "__main__":
    main()
