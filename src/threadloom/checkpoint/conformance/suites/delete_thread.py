"""delete_thread (CONTRACT 6.2, 5 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.conformance.suites._common import collector, ids, latest, new_thread
from threadloom.checkpoint.conformance.test_utils import put_test_checkpoint, put_test_checkpoints

CHECKS, check = collector()


@check
async def test_delete_thread_checkpoints(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoints(saver, thread, 3)
    await saver.adelete_thread(thread)
    assert await saver.aget_tuple(latest(thread)) is None
    assert await ids(saver, latest(thread)) == []


@check
async def test_delete_thread_writes(saver: Any) -> None:
    thread = new_thread()
    saved, _ = await put_test_checkpoint(saver, thread)
    await saver.aput_writes(saved, [("a", 1)], "task")
    await saver.adelete_thread(thread)
    await put_test_checkpoint(saver, thread)  # a new life for the thread starts clean
    got = await saver.aget_tuple(latest(thread))
    assert got is not None and not got.pending_writes


@check
async def test_delete_thread_all_namespaces(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoint(saver, thread)
    await put_test_checkpoint(saver, thread, checkpoint_ns="child:1")
    await saver.adelete_thread(thread)
    assert await saver.aget_tuple(latest(thread, "child:1")) is None
    assert await ids(saver, {"configurable": {"thread_id": thread}}) == []


@check
async def test_delete_thread_others_intact(saver: Any) -> None:
    thread, other = new_thread(), new_thread()
    await put_test_checkpoint(saver, thread)
    _, kept = await put_test_checkpoint(saver, other)
    await saver.adelete_thread(thread)
    assert await ids(saver, latest(other)) == [kept["id"]]


@check
async def test_delete_thread_unknown_is_noop(saver: Any) -> None:
    await saver.adelete_thread(new_thread())
