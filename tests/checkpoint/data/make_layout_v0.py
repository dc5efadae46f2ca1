"""Writes ``layout_v0.sqlite`` and ``layout_v0.json``: a checkpoint file in the SQLite layout of
migration 0 (full headers, JSON version keys, metadata twice), and what that code read back.

Kept to show how the fixture was made; it only makes a v0 file when run with threadloom as it was
before migration 1 (commit 9ef3e3b): ``python tests/checkpoint/data/make_layout_v0.py``.
``test_sqlite_layout.py`` opens a copy with today's code, which must read the same and go on.
"""

from __future__ import annotations

import json
import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph
from threadloom.types import interrupt

HERE = Path(__file__).parent


class State(TypedDict):
    items: Annotated[list[str], operator.add]
    count: int


def build(saver: SqliteSaver) -> Any:
    def talk(state: State) -> dict[str, Any]:
        return {"items": [f"answer {state['count']}"], "count": state["count"] + 1}

    def ask(state: State) -> dict[str, Any]:
        return {"items": [f"asked {interrupt('more?')}"]}

    builder = StateGraph(State)
    builder.add_node("talk", talk)
    builder.add_node("ask", ask)
    builder.add_edge(START, "talk")
    builder.add_conditional_edges("talk", lambda s: "ask" if s["count"] == 13 else END)
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=saver)


def snapshot(saver: SqliteSaver) -> list[dict[str, Any]]:
    """Every checkpoint of the file as plain JSON, newest first per thread."""
    out = []
    for item in saver.list(None):
        checkpoint = dict(item.checkpoint)
        out.append(
            {
                "config": item.config["configurable"],
                "parent": item.parent_config["configurable"] if item.parent_config else None,
                "checkpoint": {**checkpoint, "channel_values": dict(checkpoint["channel_values"])},
                "metadata": item.metadata,
                "pending_writes": [list(w) for w in item.pending_writes or []],
            }
        )
    return out


def main() -> None:
    path = HERE / "layout_v0.sqlite"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    graph = build(saver)
    chat = {"configurable": {"thread_id": "chat"}}
    for turn in range(12):  # more than 8 deltas: the chain has a wide delta
        graph.invoke({"items": [f"user {turn}"], "count": turn}, chat)
    graph.invoke({"items": ["last"], "count": 12}, chat)  # stops at the interrupt
    history = list(graph.get_state_history(chat))
    fork = graph.update_state(history[5].config, {"items": ["forked"]})
    graph.invoke(None, fork)
    other = {"configurable": {"thread_id": "other", "checkpoint_ns": ""}}
    saver.put(
        other,
        {
            "v": 4,
            "id": "1f000000-0000-6000-8000-000000000001",
            "ts": "2026-01-02T03:04:05.678901+00:00",
            "channel_values": {"n": 7, "xs": [1, 2]},
            "channel_versions": {"n": 1, "xs": 2},
            "versions_seen": {"node": {"n": 1}},
            "updated_channels": ["n", "xs"],
        },
        {"source": "update", "step": 3, "parents": {}, "note": ("a", "tuple")},
        {"n": 1, "xs": 2},
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (HERE / "layout_v0.json").write_text(json.dumps(snapshot(saver), indent=1, default=repr) + "\n")
    conn.close()


if __name__ == "__main__":
    main()
