"""``Command(resume=..., update=...)`` sent several times to one paused node: every update is
kept. The writes a resume adds to the checkpoint it resumes from accumulate (the node is still
at that checkpoint), as in LangGraph; the second update used to be lost from the saved state
(shown in the result, gone from ``get_state`` and from the next resume)."""

from __future__ import annotations

import operator
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def three_questions(state: Log) -> dict[str, Any]:
    answers = [interrupt(f"q{n}") for n in (1, 2, 3)]
    return {"log": ["answers:" + ",".join(answers)]}


def saver_for(kind: str, tmp_path: Path) -> Any:
    if kind == "memory":
        return InMemorySaver()
    return SqliteSaver(sqlite3.connect(tmp_path / "threads.db", check_same_thread=False))


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_each_resume_keeps_its_update(kind: str, durability: Any, tmp_path: Path) -> None:
    graph = (
        StateGraph(Log)
        .add_node("ask", three_questions)
        .add_edge(START, "ask")
        .compile(checkpointer=saver_for(kind, tmp_path))
    )
    config: Any = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config, durability=durability)
    for n in (1, 2, 3):
        result = graph.invoke(
            Command(resume=f"a{n}", update={"log": [f"note{n}"]}), config, durability=durability
        )
        kept = graph.get_state(config).values["log"]
        assert kept == result["log"]  # what the caller saw is what was saved
        assert [e for e in kept if e.startswith("note")] == [f"note{i}" for i in range(1, n + 1)]
    assert result["log"] == ["note1", "note2", "note3", "answers:a1,a2,a3"]
    assert graph.get_state(config).next == ()
