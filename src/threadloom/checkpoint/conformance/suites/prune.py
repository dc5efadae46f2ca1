"""prune (extended; CONTRACT 6.2, 8 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.conformance.suites._common import collector, ids, latest, new_thread
from threadloom.checkpoint.conformance.test_utils import put_test_checkpoint, put_test_checkpoints

CHECKS, check = collector()


@check
async def test_prune_keep_latest_one_per_thread(saver: Any) -> None:
    thread = new_thread()
    made = await put_test_checkpoints(saver, thread, 4)
    await saver.aprune([thread], strategy="keep_latest")
    assert await ids(saver, latest(thread)) == [made[-1][1]["id"]]


@check
async def test_prune_keep_latest_per_namespace(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoints(saver, thread, 3)
    child = await put_test_checkpoints(saver, thread, 3, checkpoint_ns="child:1")
    await saver.aprune([thread], strategy="keep_latest")
    assert len(await ids(saver, latest(thread, ""))) == 1
    assert await ids(saver, latest(thread, "child:1")) == [child[-1][1]["id"]]


@check
async def test_prune_keep_latest_keeps_writes(saver: Any) -> None:
    thread = new_thread()
    made = await put_test_checkpoints(saver, thread, 3)
    await saver.aput_writes(made[-1][0], [("a", 1)], "task")
    await saver.aprune([thread], strategy="keep_latest")
    got = await saver.aget_tuple(latest(thread))
    assert got.pending_writes == [("task", "a", 1)]
    assert got.checkpoint["channel_values"] == {"step": 2}


@check
async def test_prune_delete(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoints(saver, thread, 3)
    await saver.aprune([thread], strategy="delete")
    assert await ids(saver, {"configurable": {"thread_id": thread}}) == []


@check
async def test_prune_other_threads_intact(saver: Any) -> None:
    thread, other = new_thread(), new_thread()
    await put_test_checkpoints(saver, thread, 2)
    kept = await put_test_checkpoints(saver, other, 2)
    await saver.aprune([thread], strategy="delete")
    assert await ids(saver, latest(other)) == [kept[1][1]["id"], kept[0][1]["id"]]


@check
async def test_prune_several_threads(saver: Any) -> None:
    one, two = new_thread(), new_thread()
    await put_test_checkpoints(saver, one, 3)
    await put_test_checkpoints(saver, two, 3)
    await saver.aprune([one, two])
    assert len(await ids(saver, latest(one))) == len(await ids(saver, latest(two))) == 1


@check
async def test_prune_empty_list(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoints(saver, thread, 2)
    await saver.aprune([])
    assert len(await ids(saver, latest(thread))) == 2


@check
async def test_prune_unknown_threads(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoint(saver, thread)
    await saver.aprune([new_thread()], strategy="delete")
    assert len(await ids(saver, latest(thread))) == 1
