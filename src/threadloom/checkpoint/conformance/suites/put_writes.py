"""put_writes: pending writes (CONTRACT 6.2, 10 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.base import ERROR, INTERRUPT
from threadloom.checkpoint.conformance.suites._common import collector, new_thread
from threadloom.checkpoint.conformance.test_utils import generate_config, put_test_checkpoint

CHECKS, check = collector()


async def _writes(saver: Any, config: Any) -> list[Any]:
    got = await saver.aget_tuple(config)
    assert got is not None
    return list(got.pending_writes or [])


@check
async def test_put_writes_visible(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [("channel", "value")], "task-1")
    assert await _writes(saver, saved) == [("task-1", "channel", "value")]


@check
async def test_put_writes_several_per_call(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [("a", 1), ("b", 2), ("c", 3)], "task")
    assert await _writes(saver, saved) == [("task", "a", 1), ("task", "b", 2), ("task", "c", 3)]


@check
async def test_put_writes_several_tasks(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [("a", 1)], "task-a")
    await saver.aput_writes(saved, [("b", 2)], "task-b")
    assert sorted(await _writes(saver, saved)) == [("task-a", "a", 1), ("task-b", "b", 2)]


@check
async def test_put_writes_task_path(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [("a", 1)], "task", "~__pregel_pull, node")
    assert await _writes(saver, saved) == [("task", "a", 1)]


@check
async def test_put_writes_idempotent(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [("a", 1)], "task")
    await saver.aput_writes(saved, [("a", 1)], "task")
    assert await _writes(saver, saved) == [("task", "a", 1)]


@check
async def test_put_writes_first_regular_write_wins(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [("a", "first")], "task")
    await saver.aput_writes(saved, [("a", "second")], "task")
    assert await _writes(saver, saved) == [("task", "a", "first")]


@check
async def test_put_writes_error_channel(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [(ERROR, ValueError("bad fails"))], "task")
    ((task, channel, value),) = await _writes(saver, saved)
    assert (task, channel) == ("task", ERROR) and "bad fails" in str(value)


@check
async def test_put_writes_interrupt_channel(saver: Any) -> None:
    saved, _ = await put_test_checkpoint(saver, new_thread())
    await saver.aput_writes(saved, [(INTERRUPT, [{"value": "question"}])], "task")
    assert await _writes(saver, saved) == [("task", INTERRUPT, [{"value": "question"}])]


@check
async def test_put_writes_namespace_isolation(saver: Any) -> None:
    thread = new_thread()
    root, _ = await put_test_checkpoint(saver, thread)
    child, _ = await put_test_checkpoint(saver, thread, checkpoint_ns="child:1")
    await saver.aput_writes(root, [("a", "root")], "task")
    await saver.aput_writes(child, [("a", "child")], "task")
    assert await _writes(saver, root) == [("task", "a", "root")]
    assert await _writes(saver, child) == [("task", "a", "child")]


@check
async def test_put_writes_new_child_starts_clean(saver: Any) -> None:
    thread = new_thread()
    parent, first = await put_test_checkpoint(saver, thread)
    await saver.aput_writes(parent, [("a", 1)], "task")
    child, _ = await put_test_checkpoint(saver, thread, parent_id=first["id"])
    assert await _writes(saver, child) == []
    assert await _writes(saver, generate_config(thread, "", first["id"])) == [("task", "a", 1)]
