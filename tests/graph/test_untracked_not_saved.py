"""What is written to an ``UntrackedValue`` channel is never saved, on any saver: not in the
checkpoint, not in a task's saved writes, not inside the argument of a ``Send`` that carries the
state on. So a live resource (a lock, a connection) can travel through a run with a
checkpointer, as in LangGraph; it used to fail the run with ``UnserializableValueError`` when the
task's writes or the pending ``Send`` were saved."""

from __future__ import annotations

import operator
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.channels import UntrackedValue
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, Send, interrupt


class Session:
    """Cannot be serialized (holds a lock), as a live resource cannot."""

    def __init__(self, name: str) -> None:
        self.name, self.lock = name, threading.Lock()


class State(TypedDict):
    log: Annotated[list[str], operator.add]
    session: Annotated[Session, UntrackedValue]
    notes: dict[str, Any]


def open_session(state: State) -> dict[str, Any]:
    return {"log": ["opened"], "session": Session("first")}


def use_session(state: State) -> dict[str, Any]:
    return {"log": [f"used {state['session'].name}"], "session": Session("second")}


def saver_for(kind: str, tmp_path: Path) -> Any:
    if kind == "memory":
        return InMemorySaver()
    return SqliteSaver(sqlite3.connect(tmp_path / "t.db", check_same_thread=False))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("route", ["edge", "send"])
def test_an_untracked_resource_runs_but_is_not_saved(route: str, kind: str, tmp_path: Path) -> None:
    builder = StateGraph(State)
    builder.add_node("open", open_session)
    builder.add_node("use", use_session)
    builder.add_edge(START, "open")
    if route == "edge":
        builder.add_edge("open", "use")
    else:  # the whole state, session included, goes on in the Send
        builder.add_conditional_edges("open", lambda s: [Send("use", s)])
    graph = builder.compile(checkpointer=saver_for(kind, tmp_path))
    config: Any = {"configurable": {"thread_id": "t"}}
    result = graph.invoke({"log": []}, config)
    assert result["log"] == ["opened", "used first"]
    assert result["session"].name == "second"
    for snapshot in graph.get_state_history(config):
        assert "session" not in snapshot.values
        for task in snapshot.tasks:  # a pending Send's saved argument lost the session too
            assert not isinstance(getattr(task, "state", None), Session)


def test_only_the_top_level_key_of_a_send_argument_is_dropped() -> None:
    seen: list[Any] = []

    def use(state: State) -> dict[str, Any]:
        seen.append((state["notes"], state["session"]))
        return {"notes": state["notes"]}

    builder = StateGraph(State)
    builder.add_node("start", lambda s: {})
    builder.add_node("use", use)
    builder.add_edge(START, "start")
    packet = {"notes": {"session": "kept: only a word here"}, "session": "live", "log": []}
    builder.add_conditional_edges("start", lambda s: [Send("use", packet)])
    graph = builder.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config)
    assert seen == [({"session": "kept: only a word here"}, "live")]
    values = graph.get_state(config).values
    assert "session" not in values and values["notes"] == {"session": "kept: only a word here"}


def test_a_resume_starts_without_the_untracked_value() -> None:
    def ask(state: State) -> dict[str, Any]:
        answer = interrupt("go on?")
        return {"log": [f"{answer}, session {state.get('session')}"]}

    builder = StateGraph(State)
    builder.add_node("open", open_session)
    builder.add_node("ask", ask)
    builder.add_edge(START, "open")
    builder.add_edge("open", "ask")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config)
    result = graph.invoke(Command(resume="yes"), config)
    assert result["log"] == ["opened", "yes, session None"]
