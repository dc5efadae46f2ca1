"""The input checkpoint saved with step 0 in one saver call (``engine/saves.py``), on every saver.

A graph-API run with new input holds its input checkpoint's save while step 0 runs only the
built-in ``__start__`` task, and hands it to the saver with step 0's checkpoint (``put_steps``:
one transaction on the SQL savers). What is stored must be what saving them one by one stores:
each test runs the same program with the merge (``saves.MERGE_INPUT``) and without, on two
threads of one saver, and compares the histories (checkpoints, parents, metadata, values, next
tasks, pending writes), whatever happens between the two saves.
"""

from __future__ import annotations

import multiprocessing
import operator
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, field_validator
from saver_helpers import MakeSaver

from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.engine import saves
from threadloom.errors import CheckpointConflictError
from threadloom.graph import END, START, MessagesState, StateGraph
from threadloom.types import Command

Program = Callable[[Any, dict[str, Any]], None]


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    last: str


def chat(saver: Any, **compile_args: Any) -> Any:
    def first(state: State) -> dict[str, Any]:
        return {"log": ["first"], "last": "first"}

    def second(state: State) -> dict[str, Any]:
        return {"log": ["second"]}

    builder = StateGraph(State).add_node("first", first).add_node("second", second)
    builder.add_edge(START, "first").add_edge("first", "second").add_edge("second", END)
    return builder.compile(checkpointer=saver, **compile_args)


def shape(graph: Any, config: dict[str, Any], saver: Any) -> list[Any]:
    """A thread's history without its ids: each checkpoint's metadata, values, next tasks,
    pending writes (by task name) and the position of its parent."""
    snapshots = list(graph.get_state_history(config))
    position = {s.config["configurable"]["checkpoint_id"]: i for i, s in enumerate(snapshots)}
    out = []
    for snapshot in snapshots:
        names = {t.id: t.name for t in snapshot.tasks}
        saved = saver.get_tuple(snapshot.config)
        writes = sorted(
            (names.get(task_id, "?"), channel, repr(value))
            for task_id, channel, value in saved.pending_writes
        )
        parent = snapshot.parent_config
        metadata = {k: v for k, v in snapshot.metadata.items() if k != "run_id"}
        out.append(
            (
                metadata,
                snapshot.values,
                snapshot.next,
                [(t.name, t.error is not None) for t in snapshot.tasks],
                writes,
                None if parent is None else position[parent["configurable"]["checkpoint_id"]],
            )
        )
    return out


def both_ways(
    saver: Any, program: Program, monkeypatch: pytest.MonkeyPatch, graph: Any = None
) -> tuple[list[Any], list[Any]]:
    """Run ``program`` on a thread with the merge and on another without; their histories."""
    graph = graph if graph is not None else chat(saver)
    shapes = []
    for merge in (True, False):
        monkeypatch.setattr(saves, "MERGE_INPUT", merge)
        config: dict[str, Any] = {"configurable": {"thread_id": f"merge-{merge}"}}
        program(graph, config)
        shapes.append(shape(graph, config, saver))
    return shapes[0], shapes[1]


def count_calls(saver: Any, names: tuple[str, ...]) -> dict[str, int]:
    """Count the calls the engine makes to ``names`` of this saver instance."""
    counts = dict.fromkeys(names, 0)
    for name in names:
        method = getattr(saver, name)

        def counted(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            counts[_name] += 1
            return _method(*args, **kwargs)

        setattr(saver, name, counted)
    return counts


def test_turns_store_what_saving_one_by_one_stores(
    saver: Any, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def program(graph: Any, config: dict[str, Any]) -> None:
        graph.invoke({"log": ["u1"]}, config)
        graph.invoke({"log": ["u2"], "last": "user"}, config)
        graph.update_state(config, {"log": ["edited"]})
        graph.invoke({"log": ["u3"]}, config)

    merged, separate = both_ways(saver, program, monkeypatch)
    assert merged == separate
    assert [m[0]["source"] for m in merged[:4]] == ["loop", "loop", "loop", "input"]
    turns = [[user, "first", "second"] for user in ("u1", "u2", "u3")]
    assert merged[0][1]["log"] == [*turns[0], *turns[1], "edited", *turns[2]]
    if backend.startswith(("sqlite", "postgres")):  # one saver call for the two checkpoints
        monkeypatch.setattr(saves, "MERGE_INPUT", True)
        counts = count_calls(saver, ("put_steps", "put", "put_step"))
        chat(saver).invoke({"log": ["u4"]}, {"configurable": {"thread_id": "merge-True"}})
        assert counts == {"put_steps": 1, "put": 0, "put_step": 2}


def test_an_input_that_cannot_be_copied_is_saved_at_once(
    saver: Any, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Holding the input takes a deep copy of it; an input ``deepcopy`` refuses is saved at
    once, as it was before holding, and the run goes on."""

    def refuse(value: Any) -> Any:
        raise TypeError(f"cannot copy {value!r}")

    monkeypatch.setattr(saves, "copy_value", refuse)

    def program(graph: Any, config: dict[str, Any]) -> None:
        graph.invoke({"log": ["u1"]}, config)
        graph.invoke({"log": ["u2"]}, config)

    merged, separate = both_ways(saver, program, monkeypatch)
    assert merged == separate
    assert merged[0][1]["log"] == ["u1", "first", "second", "u2", "first", "second"]
    monkeypatch.setattr(saves, "MERGE_INPUT", True)
    counts = count_calls(saver, ("put_steps",))
    chat(saver).invoke({"log": ["u3"]}, {"configurable": {"thread_id": "merge-True"}})
    assert counts == {"put_steps": 0}  # the input was not held: saved on its own


def test_streamed_checkpoints_and_debug_keep_their_order(
    saver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[bool, list[Any]] = {}

    def program(graph: Any, config: dict[str, Any]) -> None:
        chunks = []
        for mode, chunk in graph.stream(
            {"log": ["u"]}, config, stream_mode=["checkpoints", "values", "updates", "debug"]
        ):
            if mode == "checkpoints":
                chunk = (chunk["metadata"]["source"], chunk["metadata"]["step"], chunk["next"])
            elif mode == "debug":
                chunk = (chunk["type"], chunk["step"])
            chunks.append((mode, chunk))
            # the consumer reads the thread as each chunk arrives: the input checkpoint is
            # saved before its chunk goes out
            if mode == "checkpoints":
                assert graph.get_state(config).metadata["step"] == chunk[1]
        seen[saves.MERGE_INPUT] = chunks

    merged, separate = both_ways(saver, program, monkeypatch)
    assert merged == separate
    assert seen[True] == seen[False]
    assert seen[True][0] == ("checkpoints", ("input", -1, ["__start__"]))


def test_the_input_is_stored_as_it_was_before_step_0_changed_it(
    saver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``add_messages`` in step 0 gives the caller's id-less message an id, in place; the held
    input checkpoint is encoded after that, and must still store the message without it."""

    def reply(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("hi", id="reply")]}

    builder = StateGraph(MessagesState).add_node("reply", reply)
    graph = builder.add_edge(START, "reply").compile(checkpointer=saver)
    stored = []
    for merge in (True, False):
        monkeypatch.setattr(saves, "MERGE_INPUT", merge)
        config: dict[str, Any] = {"configurable": {"thread_id": f"ids-{merge}"}}
        message = HumanMessage("hello")
        graph.invoke({"messages": [message]}, config)
        assert message.id is not None  # add_messages set it on the caller's object
        first = list(graph.get_state_history(config))[-1]
        values = saver.get_tuple(first.config).checkpoint["channel_values"]
        stored.append([(m.content, m.id) for m in values[START]["messages"]])
    assert stored[0] == stored[1] == [("hello", None)]


def test_an_interrupt_before_the_first_node(saver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def program(graph: Any, config: dict[str, Any]) -> None:
        graph.invoke({"log": ["u"]}, config)
        assert graph.get_state(config).next == ("first",)
        graph.invoke(None, config)

    graph = chat(saver, interrupt_before=["first"])
    merged, separate = both_ways(saver, program, monkeypatch, graph)
    assert merged == separate
    assert [m[2] for m in merged] == [(), ("second",), ("first",), ("__start__",)]


class Checked(BaseModel):
    x: int

    @field_validator("x")
    @classmethod
    def not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"x must not be negative, got {value!r}")
        return value


@pytest.mark.parametrize("bad", [{"x": -1}, {"x": "not a number"}, {"x": None}])
def test_input_a_pydantic_state_refuses(
    saver: Any, bad: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def add(state: Checked) -> dict[str, Any]:
        return {"x": state.x + 1}

    builder = StateGraph(Checked).add_node("add", add).add_edge(START, "add")
    graph = builder.compile(checkpointer=saver)

    def program(graph: Any, config: dict[str, Any]) -> None:
        graph.invoke({"x": 1}, config)
        with pytest.raises(Exception) as failed:
            graph.invoke(bad, config)
        assert "x" in str(failed.value)

    merged, separate = both_ways(saver, program, monkeypatch, graph)
    assert merged == separate
    assert merged[-1][0]["source"] == "input" and merged[0][1] != {"x": 2}  # saved past turn 1


def test_a_stop_before_step_0_ends(saver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def program(graph: Any, config: dict[str, Any]) -> None:
        for _chunk in graph.stream({"log": ["u"]}, config, stream_mode="values"):
            break  # the consumer stops at the first chunk (the state after step 0)
        graph.invoke(Command(update={"log": ["more"]}), config)

    merged, separate = both_ways(saver, program, monkeypatch)
    assert merged == separate


def test_a_router_from_start_finds_the_input_saved(saver: Any) -> None:
    """A conditional edge from START is user code in step 0: the input checkpoint is saved
    before it runs (as before), so it reads the thread with its input."""
    seen: list[str] = []

    def route(state: State) -> str:
        head = saver.get_tuple({"configurable": {"thread_id": "t"}})
        seen.append(head.metadata["source"])
        return "first"

    def first(state: State) -> dict[str, Any]:
        return {"log": ["first"]}

    builder = StateGraph(State).add_node("first", first).add_conditional_edges(START, route)
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"log": ["u1"]}, {"configurable": {"thread_id": "t"}})
    graph.invoke({"log": ["u2"]}, {"configurable": {"thread_id": "t"}})
    assert seen == ["input", "input"]


def test_subgraphs(saver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subgraph with its own history (``checkpointer=True``) runs its own input step."""

    def inner(state: State) -> dict[str, Any]:
        return {"last": "inner"}

    child = StateGraph(State).add_node("inner", inner).add_edge(START, "inner")
    builder = StateGraph(State).add_node("child", child.compile(checkpointer=True))
    parent = builder.add_edge(START, "child").compile(checkpointer=saver)
    stored: dict[bool, list[Any]] = {}

    def program(graph: Any, config: dict[str, Any]) -> None:
        graph.invoke({"log": ["u1"]}, config)
        graph.invoke({"log": ["u2"]}, config)
        state = graph.get_state(config, subgraphs=True)
        assert state.values["last"] == "inner"
        stored[saves.MERGE_INPUT] = sorted(
            (
                t.config["configurable"]["checkpoint_ns"].split(":")[0],
                t.metadata["source"],
                t.metadata["step"],
                repr(t.checkpoint["channel_values"]),
            )
            for t in saver.list(config)
        )

    merged, separate = both_ways(saver, program, monkeypatch, parent)
    assert merged == separate
    assert stored[True] == stored[False]
    assert ("child", "input", -1) in {entry[:3] for entry in stored[True]}


def test_a_conflict_on_the_first_save_stores_nothing(
    make_saver: MakeSaver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker finishes a turn between this run's read of the head and its first save:
    the save fails with ``CheckpointConflictError`` and stores nothing of this run."""
    mine, theirs = make_saver(), make_saver()  # one storage, two savers (workers)
    ours, other = chat(mine), chat(theirs)

    def program(graph: Any, config: dict[str, Any]) -> None:
        graph.invoke({"log": ["u1"]}, config)
        read = mine.get_tuple
        raced = False

        def get_tuple(arg: Any) -> Any:
            nonlocal raced
            head = read(arg)
            if not raced:  # the other worker's turn lands after this run read the head
                raced = True
                other.invoke({"log": ["theirs"]}, config)
            return head

        monkeypatch.setattr(mine, "get_tuple", get_tuple)
        with pytest.raises(CheckpointConflictError):
            ours.invoke({"log": ["mine"]}, config)
        monkeypatch.setattr(mine, "get_tuple", read)

    merged, separate = both_ways(mine, program, monkeypatch, ours)
    assert merged == separate
    assert merged[0][1]["log"] == ["u1", "first", "second", "theirs", "first", "second"]
    assert len(merged) == 8  # two turns of four checkpoints: nothing of the failed run


def test_put_steps_checks_the_first_head_and_stores_nothing_on_conflict(saver: Any) -> None:
    graph = chat(saver)
    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": ["u1"]}, config)
    before = list(saver.list(config))
    head = saver.get_tuple(config)
    stale = {
        "configurable": {
            "thread_id": "t",
            "checkpoint_ns": "",
            "checkpoint_id": head.checkpoint["id"],
            "__expected_head__": before[1].checkpoint["id"],
        }
    }
    from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, create_checkpoint

    stale["configurable"][CONFIG_KEY_EXPECTED_HEAD] = before[1].checkpoint["id"]
    first = create_checkpoint(head.checkpoint, None, 5)
    second = create_checkpoint(first, None, 6)
    follow = {
        "configurable": {
            **stale["configurable"],
            "checkpoint_id": first["id"],
            CONFIG_KEY_EXPECTED_HEAD: first["id"],
        }
    }
    steps = [
        (stale, [], first, {"source": "input", "step": 5}, {}),
        (follow, [("task", "", [("log", ["x"])])], second, {"source": "loop", "step": 6}, {}),
    ]
    with pytest.raises(CheckpointConflictError):
        saver.put_steps(steps)
    assert [t.checkpoint["id"] for t in saver.list(config)] == [t.checkpoint["id"] for t in before]
    steps[0][0]["configurable"][CONFIG_KEY_EXPECTED_HEAD] = head.checkpoint["id"]
    assert saver.put_steps(steps)["configurable"]["checkpoint_id"] == second["id"]
    after = list(saver.list(config))
    assert [t.checkpoint["id"] for t in after[:2]] == [second["id"], first["id"]]
    assert after[1].pending_writes == [("task", "log", ["x"])]


# -- a crash while the first node runs keeps the input --------------------------------------


def _crash_in_first_node(path: str) -> None:
    def first(state: State) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGKILL)
        return {}

    with SqliteSaver.from_conn_string(path) as saver:
        builder = StateGraph(State).add_node("first", first).add_edge(START, "first")
        builder.compile(checkpointer=saver).invoke(
            {"log": ["kept"]}, {"configurable": {"thread_id": "c"}}
        )


def test_a_crash_in_the_first_node_keeps_the_input(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.db")
    worker = multiprocessing.get_context("fork").Process(target=_crash_in_first_node, args=(path,))
    worker.start()
    worker.join()
    assert worker.exitcode == -signal.SIGKILL
    with SqliteSaver.from_conn_string(path) as saver:
        saved = list(saver.list({"configurable": {"thread_id": "c"}}))
    assert [(t.metadata["source"], t.metadata["step"]) for t in saved] == [
        ("loop", 0),
        ("input", -1),
    ]
    assert saved[0].checkpoint["channel_values"]["log"] == ["kept"]


def test_only_a_saver_that_saves_steps_at_once_holds_the_input(saver: Any, backend: str) -> None:
    """Holding the input costs a copy of it; it pays only where ``put_steps`` is one
    transaction of the saver's own (the SQL savers), and not once a subclass overrides what it
    stands for (then each step is saved on its own anyway)."""
    from threadloom.checkpoint._saver_calls import saves_steps_at_once

    assert saves_steps_at_once(saver) is (backend != "memory")

    class Overriding(type(saver)):  # type: ignore[misc]
        def put(self, *args: Any, **kwargs: Any) -> Any:
            return super().put(*args, **kwargs)

    assert not saves_steps_at_once(Overriding.__new__(Overriding))
