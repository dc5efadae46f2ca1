"""copy_thread (extended; CONTRACT 6.2, 8 checks)."""

from __future__ import annotations

import contextlib
from typing import Any

from threadloom.checkpoint.conformance.suites._common import (
    collector,
    ids,
    latest,
    listed,
    new_thread,
)
from threadloom.checkpoint.conformance.test_utils import put_test_checkpoint, put_test_checkpoints

CHECKS, check = collector()


async def _copied(saver: Any, count: int = 3) -> tuple[str, str]:
    source, target = new_thread(), new_thread()
    await put_test_checkpoints(saver, source, count)
    await saver.acopy_thread(source, target)
    return source, target


@check
async def test_copy_thread_all_checkpoints(saver: Any) -> None:
    _, target = await _copied(saver)
    assert len(await ids(saver, latest(target))) == 3


@check
async def test_copy_thread_values_and_metadata(saver: Any) -> None:
    source, target = await _copied(saver)
    for a, b in zip(
        await listed(saver, latest(source)), await listed(saver, latest(target)), strict=True
    ):
        assert a.checkpoint["channel_values"] == b.checkpoint["channel_values"]
        assert a.metadata == b.metadata


@check
async def test_copy_thread_root_and_child_namespaces(saver: Any) -> None:
    source, target = new_thread(), new_thread()
    await put_test_checkpoint(saver, source)
    _, child = await put_test_checkpoint(saver, source, checkpoint_ns="child:1")
    await saver.acopy_thread(source, target)
    assert len(await ids(saver, latest(target, ""))) == 1
    assert await ids(saver, latest(target, "child:1")) == [child["id"]]


@check
async def test_copy_thread_pending_writes(saver: Any) -> None:
    source, target = new_thread(), new_thread()
    saved, _ = await put_test_checkpoint(saver, source)
    await saver.aput_writes(saved, [("a", "w")], "task")
    await saver.acopy_thread(source, target)
    got = await saver.aget_tuple(latest(target))
    assert got.pending_writes == [("task", "a", "w")]


@check
async def test_copy_thread_keeps_ids_and_order(saver: Any) -> None:
    source, target = await _copied(saver)
    assert await ids(saver, latest(target)) == await ids(saver, latest(source))


@check
async def test_copy_thread_target_config(saver: Any) -> None:
    _, target = await _copied(saver)
    got = await saver.aget_tuple(latest(target))
    assert got.config["configurable"]["thread_id"] == target


@check
async def test_copy_thread_source_unchanged(saver: Any) -> None:
    source, target = await _copied(saver)
    before = await ids(saver, latest(source))
    await saver.adelete_thread(target)
    assert await ids(saver, latest(source)) == before


@check
async def test_copy_thread_missing_source(saver: Any) -> None:
    target = new_thread()
    with contextlib.suppress(Exception):  # raising is allowed
        await saver.acopy_thread(new_thread(), target)
    assert await ids(saver, latest(target)) == []
