"""Commands addressed at an older checkpoint, as LangGraph 1.2.22 runs them.

A ``Command`` (``update=`` / ``goto=``) run from a checkpoint the thread has moved past forks: a
``"fork"`` checkpoint beside the addressed one holds the command's writes, and nothing is stored
on the addressed checkpoint, so a later replay of it does not apply the command again. A
``Command(resume=...)`` answering such a checkpoint reruns the step's finished tasks (they may
read what the command changed); at the head they reuse their saved writes. ``update_state`` on
such a checkpoint stores nothing on it either (at the head, an update as a node that is due
there is kept as that task's writes). (LangGraph's own
tests/test_delta_channel_fork.py and test_delta_channel_exit_mode.py check the same; this file
passes on LangGraph 1.2.22 with the import root swapped.)"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict):
    log: Annotated[list[str], operator.add]


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    opened: AbstractContextManager[Any]
    if request.param == "memory":
        opened = nullcontext(InMemorySaver())
    else:
        opened = SqliteSaver.from_conn_string(str(tmp_path / "c.db"))
    with opened as made:
        yield made


def graph(saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("a", lambda state: {"log": ["a"]})
    builder.add_node("b", lambda state: {"log": ["b"]})
    builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)
    return builder.compile(checkpointer=saver)


CONFIG: Any = {"configurable": {"thread_id": "t"}}
COMMANDS = {  # the command, the fork's values, the run's result
    "update": (Command(update={"log": ["cmd"]}), ["in", "a", "cmd"], ["in", "a", "cmd", "b"]),
    "goto": (Command(goto="a"), ["in", "a"], ["in", "a", "a", "b", "b"]),
}


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
@pytest.mark.parametrize("kind", list(COMMANDS))
def test_a_command_from_an_old_checkpoint_forks_and_leaves_it_as_it_was(
    saver: Any, kind: str, durability: Any
) -> None:
    command, forked, expected = COMMANDS[kind]
    app = graph(saver)
    app.invoke({"log": ["in"]}, CONFIG, interrupt_before=["b"], durability=durability)
    old = app.get_state(CONFIG)
    app.invoke(None, CONFIG, durability=durability)
    stored_writes = saver.get_tuple(old.config).pending_writes

    assert app.invoke(command, old.config, durability=durability) == {"log": expected}

    assert saver.get_tuple(old.config).pending_writes == stored_writes
    if durability != "exit":  # ("exit" saves a run's last checkpoint only)
        history = app.get_state_history(CONFIG)
        fork = next(s for s in history if s.metadata["source"] == "fork")
        old_id = old.config["configurable"]["checkpoint_id"]
        assert fork.parent_config["configurable"]["checkpoint_id"] == old_id
        assert fork.values == {"log": forked}
    app.invoke(None, old.config, durability=durability)
    assert app.get_state(CONFIG).values == {"log": ["in", "a", "b"]}


async def test_the_async_driver_forks_too() -> None:
    app = graph(InMemorySaver())
    await app.ainvoke({"log": ["in"]}, CONFIG, interrupt_before=["b"])
    old = await app.aget_state(CONFIG)
    await app.ainvoke(None, CONFIG)
    assert await app.ainvoke(Command(update={"log": ["cmd"]}), old.config) == {
        "log": ["in", "a", "cmd", "b"]
    }
    await app.ainvoke(None, old.config)
    assert (await app.aget_state(CONFIG)).values == {"log": ["in", "a", "b"]}


class Flagged(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    extra: Annotated[list[str], operator.add]
    flag: bool


def flagged_graph(saver: Any) -> Any:
    def done(state: Flagged) -> Any:
        return {"log": ["done"], **({"extra": ["new"]} if state.get("flag") else {})}

    def ask(state: Flagged) -> Any:
        interrupt("approve?")
        return {"log": ["ask"]}

    builder = StateGraph(Flagged).add_node("done", done).add_node("ask", ask)
    return builder.add_edge(START, "done").add_edge(START, "ask").compile(checkpointer=saver)


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_an_answer_to_a_checkpoint_the_thread_moved_past_reruns_its_finished_tasks(
    saver: Any, durability: Any
) -> None:
    app = flagged_graph(saver)
    app.invoke({"log": ["in"]}, CONFIG, durability=durability)
    paused = app.get_state(CONFIG).config
    app.update_state(CONFIG, None)  # the thread moves past the paused checkpoint

    out = app.invoke(Command(resume="yes", update={"flag": True}), paused, durability=durability)

    assert out["extra"] == app.get_state(CONFIG).values["extra"] == ["new"]


def test_an_answer_to_the_head_reuses_the_finished_tasks_writes(saver: Any) -> None:
    app = flagged_graph(saver)
    app.invoke({"log": ["in"]}, CONFIG)
    head = app.get_state(CONFIG).config
    out = app.invoke(Command(resume="yes", update={"flag": True}), head)
    assert out["extra"] == []  # "done" finished before the pause: its writes are reused


class Edited(TypedDict):
    log: Annotated[list[str], operator.add]
    other: Annotated[list[str], operator.add]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"log": ["edit"]}, {"log": ["in", "a", "edit"], "other": []}),
        ({"other": ["edit"]}, {"log": ["in", "a"], "other": ["edit"]}),
    ],
)
def test_an_update_of_a_checkpoint_the_thread_moved_past_stores_nothing_on_it(
    saver: Any, edit: dict[str, Any], expected: dict[str, Any]
) -> None:
    builder = StateGraph(Edited)
    builder.add_node("a", lambda state: {"log": ["a"]}).add_node("b", lambda state: {"log": ["b"]})
    app = builder.add_edge(START, "a").add_edge("a", "b").compile(checkpointer=saver)
    app.invoke({"log": ["in"]}, CONFIG, interrupt_before=["b"])
    base = app.get_state(CONFIG)
    app.update_state(CONFIG, {"log": ["later"]}, as_node="a")  # the thread moves past base
    stored_writes = saver.get_tuple(base.config).pending_writes

    edited = app.update_state(base.config, edit, as_node="b")

    assert saver.get_tuple(base.config).pending_writes == stored_writes
    assert app.get_state(edited).values == expected
    cleared = app.update_state(base.config, None, as_node=END)  # base's tasks, without the edit
    assert app.get_state(cleared).values == {"log": ["in", "a"], "other": []}
