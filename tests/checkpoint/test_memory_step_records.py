"""``InMemorySaver`` keeps a plain graph step as one record and makes its rows when first read.

Whatever reads or writes the thread next (a read, a listing, another put, writes, a lifecycle
call, a pickle) must see exactly what an eager save would have stored. ``Eager`` overrides
``put`` (so it never gets a step's save as a record) and is the reference.
"""

from __future__ import annotations

import functools
import operator
import pickle
import threading
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint._put import RunAddress
from threadloom.checkpoint.memory import InMemorySaver, PersistentDict
from threadloom.errors import CheckpointConflictError
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, Interrupt, interrupt


class Eager(InMemorySaver):
    """Stores every step at once: overriding ``put`` turns the engine's diff saves off."""

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        return super().put(config, checkpoint, metadata, new_versions)


def _records(pending: list[Any]) -> list[tuple[Any, ...]]:
    """The step records waiting in a thread's ``pending`` (the rest: the runs' contexts)."""
    return [item for item in pending if type(item) is tuple]


class _S(TypedDict):
    count: int
    last: str
    extra: Any


class _Fan(TypedDict):
    seen: Annotated[list[str], operator.add]


def _chain(saver: Any, length: int = 20, dict_at: int | None = None) -> Any:
    builder = StateGraph(_S)
    names = [f"n{i}" for i in range(length)]

    def node(state: _S, i: int) -> dict[str, Any]:
        update: dict[str, Any] = {"count": state["count"] + 1, "last": f"n{i}"}
        if i == dict_at:  # a value that is not an atom: saved eagerly
            update["extra"] = {"at": i}
        return update

    for i, name in enumerate(names):
        builder.add_node(name, functools.partial(node, i=i))
    for a, b in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=saver)


def _thread(name: str, **more: Any) -> dict[str, Any]:
    return {"configurable": {"thread_id": name, **more}}


def _shape(saver: InMemorySaver, thread: str) -> list[Any]:
    """What a listing shows, with ids and times replaced by their rank (two runs differ in
    those only)."""
    listed = list(saver.list(_thread(thread)))
    rank = {t.config["configurable"]["checkpoint_id"]: i for i, t in enumerate(listed)}
    shown = []
    for t in listed:
        checkpoint = dict(t.checkpoint)
        checkpoint.pop("ts")
        checkpoint["id"] = rank[checkpoint["id"]]
        versions = checkpoint["channel_versions"]
        order = {v: i for i, v in enumerate(sorted(set(versions.values())))}  # random suffixes
        checkpoint["channel_versions"] = {k: order[v] for k, v in versions.items()}
        checkpoint["versions_seen"] = {
            n: sorted(seen) for n, seen in checkpoint["versions_seen"].items()
        }
        checkpoint["channel_values"] = dict(checkpoint["channel_values"])
        parent = t.parent_config["configurable"]["checkpoint_id"] if t.parent_config else None
        metadata = {k: v for k, v in t.metadata.items() if k != "run_id"}
        writes = [(c, _no_ids(v)) for _, c, v in t.pending_writes or []]
        shown.append((checkpoint, metadata, rank.get(parent) if parent else None, writes))
    return shown


def _no_ids(value: Any) -> Any:
    """Interrupts without their ids (made of the checkpoint's id)."""
    if isinstance(value, list) and value and isinstance(value[0], Interrupt):
        return [i.value for i in value]
    return value


def test_a_run_waits_as_records_and_reads_like_an_eager_save() -> None:
    lazy, eager = InMemorySaver(), Eager()
    _chain(lazy).invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
    _chain(eager).invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
    assert lazy._threads["t"].pending  # nothing read yet: the steps wait
    assert not eager._threads["t"].pending
    assert _shape(lazy, "t") == _shape(eager, "t")
    assert not lazy._threads["t"].pending  # the listing made them rows
    head = lazy.get_tuple(_thread("t"))
    assert head is not None and head.checkpoint["channel_values"]["count"] == 20


def test_a_value_that_is_not_an_atom_saves_eagerly_after_the_waiting_steps() -> None:
    lazy, eager = InMemorySaver(), Eager()
    for saver in (lazy, eager):
        _chain(saver, dict_at=7).invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
    assert _shape(lazy, "t") == _shape(eager, "t")
    state = _chain(lazy, dict_at=7).get_state(_thread("t"))
    assert state.values["extra"] == {"at": 7} and state.values["count"] == 20


def test_next_run_on_the_thread_continues_from_the_waiting_head() -> None:
    lazy, eager = InMemorySaver(), Eager()
    for saver in (lazy, eager):
        graph = _chain(saver, length=5)
        graph.invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
        graph.invoke({"count": 100, "last": "", "extra": None}, _thread("t"))
    assert _shape(lazy, "t") == _shape(eager, "t")
    assert lazy.get_tuple(_thread("t")).checkpoint["channel_values"]["count"] == 105  # type: ignore[union-attr]


def _interrupting(saver: Any) -> Any:
    def ask(state: _Fan) -> dict[str, Any]:
        return {"seen": [f"ask:{interrupt('q')}"]}

    def quick(state: _Fan) -> dict[str, Any]:
        return {"seen": ["quick"]}

    def first(state: _Fan) -> dict[str, Any]:
        return {"seen": ["first"]}

    builder = StateGraph(_Fan)
    builder.add_node("first", first)
    builder.add_node("ask", ask)
    builder.add_node("quick", quick)
    builder.add_edge(START, "first")
    builder.add_edge("first", "ask")
    builder.add_edge("first", "quick")
    builder.add_edge("ask", END)
    builder.add_edge("quick", END)
    return builder.compile(checkpointer=saver)


def test_writes_saved_against_a_waiting_checkpoint_keep_their_order() -> None:
    lazy, eager = InMemorySaver(), Eager()
    for saver in (lazy, eager):
        graph = _interrupting(saver)
        graph.invoke({"seen": []}, _thread("t"))
        graph.invoke(Command(resume="yes"), _thread("t"))
    assert _shape(lazy, "t") == _shape(eager, "t")
    final = _interrupting(lazy).get_state(_thread("t"))
    assert sorted(final.values["seen"]) == ["ask:yes", "first", "quick"]


def test_lifecycle_calls_see_the_waiting_steps() -> None:
    saver = InMemorySaver()
    graph = _chain(saver, length=6)
    graph.invoke({"count": 0, "last": "", "extra": None}, _thread("a"))
    saver.copy_thread("a", "b")
    assert _shape(saver, "b") == _shape(saver, "a")
    assert saver.thread_size_report("a").checkpoints == 8  # the start, the input, six nodes
    graph.invoke({"count": 0, "last": "", "extra": None}, _thread("a"))
    saver.prune(["a"], strategy="keep_latest")
    assert [t.checkpoint["channel_values"]["count"] for t in saver.list(_thread("a"))] == [6]
    graph.invoke({"count": 0, "last": "", "extra": None}, _thread("b"))
    saver.delete_thread("b")
    assert saver.get_tuple(_thread("b")) is None


def test_a_persistent_dict_writes_the_waiting_steps(tmp_path: Any) -> None:
    path = str(tmp_path / "threads.pickle")
    factory = functools.partial(PersistentDict, filename=path)
    with InMemorySaver(factory=factory) as saver:
        _chain(saver, length=4).invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
        before = _shape(saver, "t")
        _chain(saver, length=4).invoke({"count": 0, "last": "", "extra": None}, _thread("u"))
        assert saver._threads["u"].pending
    with open(path, "rb") as file:
        threads = pickle.load(file)
    reopened = InMemorySaver()
    reopened._threads.update(threads)
    assert _shape(reopened, "t") == before
    assert reopened.get_tuple(_thread("u")).checkpoint["channel_values"]["count"] == 4  # type: ignore[union-attr]


def test_a_stale_expected_head_still_conflicts_while_steps_wait() -> None:
    saver = InMemorySaver()
    _chain(saver, length=3).invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
    assert saver._threads["t"].pending
    first = list(saver.list(_thread("t")))[-1].config["configurable"]["checkpoint_id"]
    _chain(saver, length=3).invoke({"count": 0, "last": "", "extra": None}, _thread("t"))
    assert saver._threads["t"].pending
    checkpoint = {
        "v": 4,
        "id": "ffffffff-ffff-6fff-ffff-ffffffffffff",
        "ts": "2026-01-01T00:00:00+00:00",
        "channel_values": {},
        "channel_versions": {},
        "versions_seen": {},
        "updated_channels": [],
    }
    address = RunAddress(_thread("t", checkpoint_ns=""))
    with pytest.raises(CheckpointConflictError):
        saver.put_step_diff(address, first, first, [], checkpoint, {"step": 9}, {}, {})
    assert not saver._threads["t"].pending  # settled to check the head the eager way


def test_threads_saving_at_once_each_read_back_their_own_steps() -> None:
    saver = InMemorySaver()
    graph = _chain(saver, length=30)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            barrier.wait()
            graph.invoke({"count": 0, "last": "", "extra": None}, _thread(name))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    shapes = [_shape(saver, f"t{i}") for i in range(4)]
    assert all(shape == shapes[0] for shape in shapes) and len(shapes[0]) == 32


class _Wide(TypedDict, total=False):
    a: int
    b: str
    c: float
    d: None


def test_a_step_of_several_tasks_keeps_each_tasks_writes_in_order() -> None:
    # a record keeps its tasks' writes flat (task, path, count, then channel and value items):
    # three tasks of one step writing three, one (the edge only) and two values must come
    # back as an eager save stores them, task by task, in order
    def fan(state: _Wide) -> dict[str, Any]:
        return {"a": 1}

    def two(state: _Wide) -> dict[str, Any]:
        return {"a": state.get("a", 0) + 1, "b": "two"}

    def none(state: _Wide) -> dict[str, Any]:
        return {}

    def one(state: _Wide) -> dict[str, Any]:
        return {"c": 1.5}

    def last(state: _Wide) -> dict[str, Any]:
        return {"d": None, "b": "last"}

    def graph(saver: Any) -> Any:
        builder = StateGraph(_Wide)
        for name, node in (("fan", fan), ("two", two), ("none", none), ("one", one)):
            builder.add_node(name, node)
        builder.add_node("last", last)
        builder.add_edge(START, "fan")
        for name in ("two", "none", "one"):
            builder.add_edge("fan", name)
            builder.add_edge(name, "last")
        builder.add_edge("last", END)
        return builder.compile(checkpointer=saver)

    lazy, eager = InMemorySaver(), Eager()
    for saver in (lazy, eager):
        graph(saver).invoke({"a": 0}, _thread("t"))
        graph(saver).invoke({"a": 5}, _thread("t"))
    pending = lazy._threads["t"].pending
    assert len(_records(pending)) == 4  # the second run's steps wait as records
    assert len(pending) == 5  # after one context: the run that saved them
    shape = _shape(lazy, "t")
    assert shape == _shape(eager, "t")
    wide = [sorted(writes, key=repr) for *_, writes in shape if len(writes) == 6]
    fanned = [("a", 2), ("b", "two"), ("branch:to:last", None), ("c", 1.5)]
    assert wide == [sorted([*fanned, *[("branch:to:last", None)] * 2], key=repr)] * 2


class _Sized(TypedDict):
    size: Annotated[int, lambda _old, new: len(new) if isinstance(new, list) else new]


def test_a_written_value_that_is_not_an_atom_saves_eagerly_though_the_values_are_atoms() -> None:
    # the step's one task writes a list; its channel keeps an int: the write must be saved
    # eagerly (encoded), as a step of several tasks is
    def grow(state: _Sized) -> dict[str, Any]:
        return {"size": ["a"] * (state["size"] + 1)}

    graphs = []
    for saver in (InMemorySaver(), Eager()):
        builder = StateGraph(_Sized)
        builder.add_node("grow", grow)
        builder.add_edge(START, "grow")
        builder.add_edge("grow", END)
        graphs.append(builder.compile(checkpointer=saver))
        graphs[-1].invoke({"size": 1}, _thread("t"))
    lazy, eager = (g.checkpointer for g in graphs)
    records = _records(lazy._threads["t"].pending)
    # the task's step was not kept as a record (a record's metadata: its ``source, step``)
    assert not records or records[-1][7:9] != ("loop", 1)
    assert _shape(lazy, "t") == _shape(eager, "t")
    head = lazy.get_tuple(_thread("t"))
    assert head is not None and head.checkpoint["channel_values"]["size"] == 2
