"""put: storing checkpoints (CONTRACT 6.2, 17 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.conformance.suites._common import collector, latest, major, new_thread
from threadloom.checkpoint.conformance.test_utils import (
    generate_checkpoint,
    generate_config,
    generate_metadata,
    put_test_checkpoint,
)

CHECKS, check = collector()


@check
async def test_put_returns_config(saver: Any) -> None:
    thread = new_thread()
    saved, checkpoint = await put_test_checkpoint(saver, thread)
    assert saved["configurable"]["thread_id"] == thread
    assert saved["configurable"]["checkpoint_ns"] == ""
    assert saved["configurable"]["checkpoint_id"] == checkpoint["id"]


async def _round_trip(saver: Any, values: dict[str, Any]) -> None:
    thread = new_thread()
    await put_test_checkpoint(saver, thread, channel_values=values)
    got = await saver.aget_tuple(latest(thread))
    assert got is not None and got.checkpoint["channel_values"] == values


@check
async def test_put_roundtrip_str(saver: Any) -> None:
    await _round_trip(saver, {"s": "hello"})


@check
async def test_put_roundtrip_int(saver: Any) -> None:
    await _round_trip(saver, {"i": 42})


@check
async def test_put_roundtrip_list(saver: Any) -> None:
    await _round_trip(saver, {"l": [1, "two", [3]]})


@check
async def test_put_roundtrip_dict(saver: Any) -> None:
    await _round_trip(saver, {"d": {"k": {"nested": True}}})


@check
async def test_put_channel_versions(saver: Any) -> None:
    thread = new_thread()
    checkpoint = generate_checkpoint(channel_values={"a": 1, "b": 2})
    checkpoint["channel_versions"] = {"a": 3, "b": 7}
    await saver.aput(generate_config(thread), checkpoint, generate_metadata(), {"a": 3, "b": 7})
    got = await saver.aget_tuple(latest(thread))
    assert {k: major(v) for k, v in got.checkpoint["channel_versions"].items()} == {
        "a": "3",
        "b": "7",
    }


@check
async def test_put_versions_seen(saver: Any) -> None:
    thread = new_thread()
    checkpoint = generate_checkpoint(versions_seen={"node": {"a": 1}, "__input__": {}})
    await saver.aput(generate_config(thread), checkpoint, generate_metadata(), {})
    got = await saver.aget_tuple(latest(thread))
    assert got.checkpoint["versions_seen"] == {"node": {"a": 1}, "__input__": {}}


@check
async def test_put_metadata(saver: Any) -> None:
    thread = new_thread()
    metadata = generate_metadata(source="input", step=-1, custom="x", run_id="run-1")
    await put_test_checkpoint(saver, thread, metadata=metadata)
    got = await saver.aget_tuple(latest(thread))
    assert got.metadata["source"] == "input" and got.metadata["step"] == -1
    assert got.metadata["custom"] == "x" and got.metadata["run_id"] == "run-1"


@check
async def test_put_root_namespace(saver: Any) -> None:
    thread = new_thread()
    saved, _ = await put_test_checkpoint(saver, thread)
    got = await saver.aget_tuple(saved)
    assert got.config["configurable"]["checkpoint_ns"] == ""


@check
async def test_put_child_namespace(saver: Any) -> None:
    thread = new_thread()
    saved, checkpoint = await put_test_checkpoint(saver, thread, checkpoint_ns="child:abc")
    assert saved["configurable"]["checkpoint_ns"] == "child:abc"
    got = await saver.aget_tuple(latest(thread, "child:abc"))
    assert got.config["configurable"]["checkpoint_ns"] == "child:abc"
    assert got.checkpoint["id"] == checkpoint["id"]


@check
async def test_put_sequential_all_retrievable(saver: Any) -> None:
    thread = new_thread()
    made = []
    parent = None
    for step in range(3):
        _, checkpoint = await put_test_checkpoint(
            saver, thread, parent_id=parent, channel_values={"n": step}, version=step + 1
        )
        parent = checkpoint["id"]
        made.append(checkpoint)
    for checkpoint in made:
        got = await saver.aget_tuple(generate_config(thread, "", checkpoint["id"]))
        assert got is not None and got.checkpoint["channel_values"] == checkpoint["channel_values"]


@check
async def test_put_thread_isolation(saver: Any) -> None:
    one, two = new_thread(), new_thread()
    await put_test_checkpoint(saver, one, channel_values={"who": "one"})
    await put_test_checkpoint(saver, two, channel_values={"who": "two"})
    assert (await saver.aget_tuple(latest(one))).checkpoint["channel_values"] == {"who": "one"}
    assert (await saver.aget_tuple(latest(two))).checkpoint["channel_values"] == {"who": "two"}


@check
async def test_put_parent_config(saver: Any) -> None:
    thread = new_thread()
    _, first = await put_test_checkpoint(saver, thread)
    _, second = await put_test_checkpoint(saver, thread, parent_id=first["id"])
    got = await saver.aget_tuple(generate_config(thread, "", second["id"]))
    assert got.parent_config["configurable"]["checkpoint_id"] == first["id"]
    root = await saver.aget_tuple(generate_config(thread, "", first["id"]))
    assert root.parent_config is None


@check
async def test_put_incremental_blobs(saver: Any) -> None:
    thread = new_thread()
    first = generate_checkpoint(channel_values={"a": "a1", "b": "b1"})
    first["channel_versions"] = {"a": 1, "b": 1}
    await saver.aput(generate_config(thread), first, generate_metadata(), {"a": 1, "b": 1})
    second = generate_checkpoint(channel_values={"a": "a2", "b": "b1"})
    second["channel_versions"] = {"a": 2, "b": 1}
    await saver.aput(
        generate_config(thread, "", first["id"]), second, generate_metadata(step=1), {"a": 2}
    )
    got2 = await saver.aget_tuple(generate_config(thread, "", second["id"]))
    got1 = await saver.aget_tuple(generate_config(thread, "", first["id"]))
    assert got2.checkpoint["channel_values"] == {"a": "a2", "b": "b1"}
    assert got1.checkpoint["channel_values"] == {"a": "a1", "b": "b1"}


@check
async def test_put_channel_appearing_later(saver: Any) -> None:
    thread = new_thread()
    first = generate_checkpoint(channel_values={"a": 1})
    first["channel_versions"] = {"a": 1}
    await saver.aput(generate_config(thread), first, generate_metadata(), {"a": 1})
    second = generate_checkpoint(channel_values={"a": 1, "late": "here"})
    second["channel_versions"] = {"a": 1, "late": 2}
    await saver.aput(
        generate_config(thread, "", first["id"]), second, generate_metadata(), {"late": 2}
    )
    got = await saver.aget_tuple(latest(thread))
    assert got.checkpoint["channel_values"] == {"a": 1, "late": "here"}


@check
async def test_put_dropped_channel_absent(saver: Any) -> None:
    thread = new_thread()
    first = generate_checkpoint(channel_values={"a": 1, "gone": 2})
    first["channel_versions"] = {"a": 1, "gone": 1}
    await saver.aput(generate_config(thread), first, generate_metadata(), {"a": 1, "gone": 1})
    second = generate_checkpoint(channel_values={"a": 1})
    second["channel_versions"] = {"a": 1}
    await saver.aput(generate_config(thread, "", first["id"]), second, generate_metadata(), {})
    got = await saver.aget_tuple(latest(thread))
    assert got.checkpoint["channel_values"] == {"a": 1}


@check
async def test_put_empty_marker(saver: Any) -> None:
    thread = new_thread()
    checkpoint = generate_checkpoint(channel_values={"a": 1})
    checkpoint["channel_versions"] = {"a": 1, "empty": 1}
    await saver.aput(generate_config(thread), checkpoint, generate_metadata(), {"a": 1, "empty": 1})
    got = await saver.aget_tuple(latest(thread))
    assert got.checkpoint["channel_values"] == {"a": 1}
    assert "empty" in got.checkpoint["channel_versions"]
