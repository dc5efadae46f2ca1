"""A thread's history as LangGraph 1.2.22 stores it, whatever threadloom merges into one save.

threadloom saves a run's input checkpoint in the same saver call as step 0's (``engine/saves.py``,
``put_steps``); LangGraph saves them one by one. The same program on each library's own saver
must leave the same history: checkpoints in order with their metadata, values, next tasks,
pending writes (by task name) and parents, and the same ``"checkpoints"`` events.
"""

from __future__ import annotations

import importlib
import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    last: str


def build(root: str, saver: Any, **compile_args: Any) -> Any:
    graph_module = importlib.import_module(f"{root}.graph")

    def first(state: State) -> dict[str, Any]:
        return {"log": ["first"], "last": "first"}

    def second(state: State) -> dict[str, Any]:
        return {"log": ["second"]}

    builder = graph_module.StateGraph(State)
    builder.add_node("first", first).add_node("second", second)
    builder.add_edge(graph_module.START, "first").add_edge("first", "second")
    builder.add_edge("second", graph_module.END)
    return builder.compile(checkpointer=saver, **compile_args)


def open_saver(root: str, kind: str, folder: Path) -> Any:
    if kind == "memory":
        return importlib.import_module(f"{root}.checkpoint.memory").InMemorySaver()
    module = importlib.import_module(f"{root}.checkpoint.sqlite")
    conn = sqlite3.connect(str(folder / f"{root}.db"), check_same_thread=False)
    return module.SqliteSaver(conn)


def history(graph: Any, saver: Any, config: dict[str, Any]) -> list[Any]:
    snapshots = list(graph.get_state_history(config))
    position = {s.config["configurable"]["checkpoint_id"]: i for i, s in enumerate(snapshots)}
    out = []
    for snapshot in snapshots:
        names = {t.id: t.name for t in snapshot.tasks}
        writes = sorted(
            (names.get(task_id, "?"), channel, repr(value))
            for task_id, channel, value in saver.get_tuple(snapshot.config).pending_writes
        )
        parent = snapshot.parent_config
        out.append(
            (
                snapshot.metadata["source"],
                snapshot.metadata["step"],
                snapshot.values,
                tuple(snapshot.next),
                writes,
                None if parent is None else position[parent["configurable"]["checkpoint_id"]],
            )
        )
    return out


def program(root: str, saver: Any) -> tuple[list[Any], list[Any]]:
    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    graph = build(root, saver)
    graph.invoke({"log": ["u1"]}, config)
    events = [
        (chunk["metadata"]["source"], chunk["metadata"]["step"], tuple(chunk["next"]))
        for chunk in graph.stream({"log": ["u2"]}, config, stream_mode="checkpoints")
    ]
    paused = build(root, saver, interrupt_before=["first"])
    paused.invoke({"log": ["u3"]}, config)
    paused.invoke(None, config)
    return history(graph, saver, config), events


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_history_matches_langgraph(kind: str, tmp_path: Path) -> None:
    ours = program("threadloom", open_saver("threadloom", kind, tmp_path))
    theirs = program("langgraph", open_saver("langgraph", kind, tmp_path))
    assert ours == theirs
    sources = [entry[0] for entry in ours[0]]
    assert sources.count("input") == 3 and len(sources) == 12
