"""get_tuple: reading one checkpoint (CONTRACT 6.2, 10 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.conformance.suites._common import collector, latest, new_thread
from threadloom.checkpoint.conformance.test_utils import (
    generate_config,
    generate_metadata,
    put_test_checkpoint,
    put_test_checkpoints,
)
from threadloom.checkpoint.id import uuid6

CHECKS, check = collector()


@check
async def test_get_tuple_missing_thread(saver: Any) -> None:
    assert await saver.aget_tuple(latest(new_thread())) is None


@check
async def test_get_tuple_missing_id(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoint(saver, thread)
    assert await saver.aget_tuple(generate_config(thread, "", str(uuid6(clock_seq=0)))) is None


@check
async def test_get_tuple_latest(saver: Any) -> None:
    thread = new_thread()
    made = await put_test_checkpoints(saver, thread, 3)
    got = await saver.aget_tuple(latest(thread))
    assert got.checkpoint["id"] == made[-1][1]["id"]


@check
async def test_get_tuple_exact(saver: Any) -> None:
    thread = new_thread()
    made = await put_test_checkpoints(saver, thread, 3)
    got = await saver.aget_tuple(generate_config(thread, "", made[0][1]["id"]))
    assert got.checkpoint["id"] == made[0][1]["id"]
    assert got.checkpoint["channel_values"] == {"step": 0}


@check
async def test_get_tuple_config_keys(saver: Any) -> None:
    thread = new_thread()
    _, checkpoint = await put_test_checkpoint(saver, thread)
    configurable = (await saver.aget_tuple(latest(thread))).config["configurable"]
    assert configurable["thread_id"] == thread and configurable["checkpoint_ns"] == ""
    assert configurable["checkpoint_id"] == checkpoint["id"]


@check
async def test_get_tuple_checkpoint_fields(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoint(saver, thread, channel_values={"a": 1})
    got = await saver.aget_tuple(latest(thread))
    for field in ("v", "id", "ts", "channel_values", "channel_versions", "versions_seen"):
        assert field in got.checkpoint, field


@check
async def test_get_tuple_metadata(saver: Any) -> None:
    thread = new_thread()
    await put_test_checkpoint(saver, thread, metadata=generate_metadata("update", 4, who="me"))
    got = await saver.aget_tuple(latest(thread))
    assert got.metadata["source"] == "update" and got.metadata["step"] == 4
    assert got.metadata["who"] == "me"


@check
async def test_get_tuple_parent_config(saver: Any) -> None:
    thread = new_thread()
    made = await put_test_checkpoints(saver, thread, 2)
    child = await saver.aget_tuple(latest(thread))
    assert child.parent_config["configurable"]["checkpoint_id"] == made[0][1]["id"]
    root = await saver.aget_tuple(generate_config(thread, "", made[0][1]["id"]))
    assert root.parent_config is None


@check
async def test_get_tuple_pending_writes(saver: Any) -> None:
    thread = new_thread()
    saved, _ = await put_test_checkpoint(saver, thread)
    await saver.aput_writes(saved, [("a", 1)], "task")
    got = await saver.aget_tuple(latest(thread))
    assert got.pending_writes == [("task", "a", 1)]


@check
async def test_get_tuple_namespace(saver: Any) -> None:
    thread = new_thread()
    _, root = await put_test_checkpoint(saver, thread, channel_values={"where": "root"})
    _, child = await put_test_checkpoint(
        saver, thread, checkpoint_ns="child:1", channel_values={"where": "child"}
    )
    assert (await saver.aget_tuple(latest(thread))).checkpoint["id"] == root["id"]
    got = await saver.aget_tuple(latest(thread, "child:1"))
    assert got.checkpoint["id"] == child["id"]
    assert got.checkpoint["channel_values"] == {"where": "child"}
