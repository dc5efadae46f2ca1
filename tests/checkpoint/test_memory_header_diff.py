"""``InMemorySaver`` keeps a run's checkpoint headers as diffs from their parents.

The engine hands an opted-in saver the changes of each step (``put_step_diff``); the saver keeps
them and a whole header every ``WHOLE_HEADER_EVERY`` checkpoints. Every read must give back
exactly the header the engine had at that checkpoint, wherever it sits in the chain and whatever
happened to the thread since (forks, updates, deletes, copies, prunes). ``Recording`` keeps a
private copy of each header as it was handed over, which is what the reads are compared with.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, TypedDict

from threadloom.checkpoint._memory_rows import WHOLE_HEADER_EVERY
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph

CHAIN = 2 * WHOLE_HEADER_EVERY + 5
"""Long enough to hold two whole headers and diffs on both sides of them."""


class _S(TypedDict):
    count: int
    last: str


class Recording(InMemorySaver):
    """An ``InMemorySaver`` that keeps a copy of each header the engine hands to it."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: dict[str, dict[str, Any]] = {}

    def put_step_diff(self, *args: Any) -> Any:
        checkpoint = args[4]  # after address, parent id, expected head and writes
        header = {k: v for k, v in checkpoint.items() if k != "channel_values"}
        self.handed[checkpoint["id"]] = copy.deepcopy(header)
        return super().put_step_diff(*args)


class KeepsWhatItGets(InMemorySaver):
    """Overrides ``put`` (so it never gets diffs) and keeps the checkpoints it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = []

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.kept.append(checkpoint)
        self.snapshots.append(copy.deepcopy(dict(checkpoint)))
        return super().put(config, checkpoint, metadata, new_versions)


def _chain(saver: Any, length: int = CHAIN, **compile_args: Any) -> Any:
    builder = StateGraph(_S)
    names = [f"n{i}" for i in range(length)]
    for i, name in enumerate(names):
        builder.add_node(name, lambda s, i=i: {"count": s["count"] + 1, "last": f"n{i}"})
    for a, b in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(a, b)
    return builder.compile(checkpointer=saver, **compile_args)


def _thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def _header(checkpoint: Any) -> dict[str, Any]:
    return {k: v for k, v in checkpoint.items() if k != "channel_values"}


def _assert_reads_back(saver: Recording, thread: str, ids: Any = None) -> int:
    """Every checkpoint of ``thread`` (or ``ids``) read alone and in a listing equals what was
    handed over; returns how many were compared."""
    listed = {t.config["configurable"]["checkpoint_id"]: t for t in saver.list(_thread(thread))}
    compared = 0
    for checkpoint_id in ids if ids is not None else listed:
        if checkpoint_id not in saver.handed:
            continue  # an update_state checkpoint: put whole, not through the engine's diff
        alone = saver.get_tuple(
            {"configurable": {**_thread(thread)["configurable"], "checkpoint_id": checkpoint_id}}
        )
        assert alone is not None
        assert _header(alone.checkpoint) == saver.handed[checkpoint_id]
        assert _header(listed[checkpoint_id].checkpoint) == saver.handed[checkpoint_id]
        compared += 1
    return compared


def _depths(saver: InMemorySaver, thread: str) -> list[int]:
    stored = saver._threads[thread].checkpoints[""]
    return [stored.rows[i].depth for i in stored.ids]


def test_every_checkpoint_of_a_long_chain_reads_back_as_handed_over() -> None:
    saver = Recording()
    graph = _chain(saver)
    graph.invoke({"count": 0, "last": ""}, _thread("t"))
    assert _assert_reads_back(saver, "t") == CHAIN + 2  # input, each node, and the empty start
    depths = _depths(saver, "t")
    assert depths.count(0) >= 3 and max(depths) == WHOLE_HEADER_EVERY - 1  # diffs and wholes
    # a read hands out copies: changing one changes nothing stored
    head = saver.get_tuple(_thread("t"))
    assert head is not None
    head.checkpoint["channel_versions"].clear()
    head.checkpoint["versions_seen"]["n0"]["x"] = 1
    assert _assert_reads_back(saver, "t") == CHAIN + 2


def test_the_run_after_reads_its_start_back_and_continues_the_chain() -> None:
    saver = Recording()
    graph = _chain(saver, 5)
    for _ in range(8):  # 8 runs of 7 checkpoints each: chains cross runs
        graph.invoke({"count": 0, "last": ""}, _thread("t"))
    assert graph.get_state(_thread("t")).values == {"count": 5, "last": "n4"}
    assert _assert_reads_back(saver, "t") == 8 * (5 + 2)


def test_fork_and_update_state_from_an_old_checkpoint() -> None:
    saver = Recording()
    graph = _chain(saver)
    graph.invoke({"count": 0, "last": ""}, _thread("t"))
    history = list(graph.get_state_history(_thread("t")))
    old = next(s for s in history if s.metadata["step"] == WHOLE_HEADER_EVERY + 3)
    # replay from there: a fork whose diffs start at an old diff row
    graph.invoke(None, old.config)
    # update_state on another old checkpoint, then run on from the update
    older = next(s for s in history if s.metadata["step"] == 7)
    updated = graph.update_state(older.config, {"count": 100})
    result = graph.invoke(None, updated)
    assert result["count"] == 100 + CHAIN - 7
    assert _assert_reads_back(saver, "t") > 2 * CHAIN
    assert len(list(graph.get_state_history(_thread("t")))) > len(history) + CHAIN


def test_resume_after_an_interrupt_keeps_what_breakpoints_saw() -> None:
    saver = Recording()
    graph = _chain(saver, 20, interrupt_before=["n18"])
    graph.invoke({"count": 0, "last": ""}, _thread("t"))
    assert graph.get_state(_thread("t")).next == ("n18",)
    graph.invoke(None, _thread("t"))
    assert graph.get_state(_thread("t")).values["count"] == 20
    assert _assert_reads_back(saver, "t") == 22
    head = saver.get_tuple(_thread("t"))
    assert head is not None and "__interrupt__" in head.checkpoint["versions_seen"]


def test_history_with_before_and_limit() -> None:
    saver = Recording()
    graph = _chain(saver)
    graph.invoke({"count": 0, "last": ""}, _thread("t"))
    every = [t.config["configurable"]["checkpoint_id"] for t in saver.list(_thread("t"))]
    before = {"configurable": {"checkpoint_id": every[10]}}
    page = list(saver.list(_thread("t"), before=before, limit=WHOLE_HEADER_EVERY + 2))
    assert [t.config["configurable"]["checkpoint_id"] for t in page] == every[
        11 : 11 + WHOLE_HEADER_EVERY + 2
    ]
    for t in page:
        assert _header(t.checkpoint) == saver.handed[t.config["configurable"]["checkpoint_id"]]
    snapshots = list(_chain(saver).get_state_history(_thread("t"), before=before, limit=3))
    assert [s.values["count"] for s in snapshots] == [CHAIN - 11, CHAIN - 12, CHAIN - 13]


def test_delete_and_copy_thread() -> None:
    saver = Recording()
    graph = _chain(saver)
    graph.invoke({"count": 0, "last": ""}, _thread("a"))
    graph.invoke({"count": 0, "last": ""}, _thread("b"))
    saver.copy_thread("a", "c")
    saver.delete_thread("a")
    assert saver.get_tuple(_thread("a")) is None
    assert _assert_reads_back(saver, "b") == CHAIN + 2
    ids = [t.config["configurable"]["checkpoint_id"] for t in saver.list(_thread("c"))]
    assert _assert_reads_back(saver, "c", ids) == CHAIN + 2  # the copy keeps a's headers
    assert graph.invoke(None, _thread("c")) == {"count": CHAIN, "last": f"n{CHAIN - 1}"}


def test_prune_keeping_the_latest_makes_its_header_whole() -> None:
    saver = Recording()
    graph = _chain(saver)
    graph.invoke({"count": 0, "last": ""}, _thread("t"))
    head_id = saver.get_tuple(_thread("t")).config["configurable"]["checkpoint_id"]  # type: ignore[union-attr]
    assert _depths(saver, "t")[-1] > 0  # the head is a diff before the prune
    saver.prune(["t"], strategy="keep_latest")
    assert _depths(saver, "t") == [0]
    assert _assert_reads_back(saver, "t", [head_id]) == 1
    assert graph.get_state(_thread("t")).values == {"count": CHAIN, "last": f"n{CHAIN - 1}"}
    graph.invoke({"count": 0, "last": ""}, _thread("t"))  # the chain goes on from it
    assert _assert_reads_back(saver, "t") == 1 + CHAIN + 2


def test_prune_keeping_the_last_few_and_delete_for_runs() -> None:
    saver = Recording()
    graph = _chain(saver)
    for run_id in ("r1", "r2", "r3"):
        graph.invoke({"count": 0, "last": ""}, {**_thread("t"), "metadata": {"run_id": run_id}})
    saver.prune(["t"], strategy="keep_latest", keep_last=2 * CHAIN)
    assert _assert_reads_back(saver, "t") == 2 * CHAIN
    saver.delete_for_runs(["r2"])  # r3's first checkpoint was a diff from r2's last
    assert _assert_reads_back(saver, "t") == CHAIN + 2
    assert graph.get_state(_thread("t")).values == {"count": CHAIN, "last": f"n{CHAIN - 1}"}


def test_a_subclass_that_overrides_put_gets_whole_checkpoints_it_may_keep() -> None:
    saver = KeepsWhatItGets()
    graph = _chain(saver, 20)
    graph.invoke({"count": 0, "last": ""}, _thread("t"))
    assert len(saver.kept) == 22
    # the dicts handed over were never changed afterwards by the run
    for kept, snapshot in zip(saver.kept, saver.snapshots, strict=True):
        assert dict(kept) == snapshot
    assert all(type(c["channel_versions"]) is dict for c in saver.kept)
    assert set(_depths(saver, "t")) == {0}  # nothing opted in: whole headers only


def test_async_runs_store_diffs_too() -> None:
    saver = Recording()
    graph = _chain(saver)

    async def main() -> None:
        await graph.ainvoke({"count": 0, "last": ""}, _thread("t"))
        assert (await graph.aget_state(_thread("t"))).values["count"] == CHAIN

    asyncio.run(main())
    assert max(_depths(saver, "t")) > 0
    assert _assert_reads_back(saver, "t") == CHAIN + 2


def test_history_matches_a_saver_without_diffs() -> None:
    def walk(saver: Any) -> list[Any]:
        graph = _chain(saver, 20, interrupt_after=["n9"])
        graph.invoke({"count": 0, "last": ""}, _thread("t"))
        graph.invoke(None, _thread("t"))
        return [
            (s.values, s.next, s.metadata["step"], s.metadata["source"], len(s.tasks))
            for s in graph.get_state_history(_thread("t"))
        ]

    assert walk(InMemorySaver()) == walk(KeepsWhatItGets())
