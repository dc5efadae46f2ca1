"""list: history queries (CONTRACT 6.2, 16 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.conformance.suites._common import (
    collector,
    ids,
    latest,
    listed,
    new_thread,
)
from threadloom.checkpoint.conformance.test_utils import (
    generate_config,
    generate_metadata,
    put_test_checkpoint,
    put_test_checkpoints,
)

CHECKS, check = collector()


async def _history(saver: Any, count: int = 4) -> tuple[str, list[str]]:
    thread = new_thread()
    made = await put_test_checkpoints(saver, thread, count)
    return thread, [checkpoint["id"] for _, checkpoint in made]


@check
async def test_list_all(saver: Any) -> None:
    thread, made = await _history(saver)
    assert sorted(await ids(saver, latest(thread))) == sorted(made)


@check
async def test_list_unknown_thread(saver: Any) -> None:
    assert await listed(saver, latest(new_thread())) == []


@check
async def test_list_namespace_filter(saver: Any) -> None:
    thread = new_thread()
    _, root = await put_test_checkpoint(saver, thread)
    _, child = await put_test_checkpoint(saver, thread, checkpoint_ns="child:1")
    assert await ids(saver, latest(thread, "child:1")) == [child["id"]]
    assert await ids(saver, latest(thread, "")) == [root["id"]]


@check
async def test_list_newest_first(saver: Any) -> None:
    thread, made = await _history(saver)
    assert await ids(saver, latest(thread)) == made[::-1]


@check
async def test_list_filter_source(saver: Any) -> None:
    thread = new_thread()
    _, first = await put_test_checkpoint(saver, thread, metadata=generate_metadata("input", -1))
    await put_test_checkpoint(saver, thread, parent_id=first["id"])
    assert await ids(saver, latest(thread), filter={"source": "input"}) == [first["id"]]


@check
async def test_list_filter_step(saver: Any) -> None:
    thread, made = await _history(saver)
    assert await ids(saver, latest(thread), filter={"step": 2}) == [made[2]]


@check
async def test_list_filter_several_keys(saver: Any) -> None:
    thread = new_thread()
    _, a = await put_test_checkpoint(saver, thread, metadata=generate_metadata("loop", 1))
    await put_test_checkpoint(saver, thread, metadata=generate_metadata("update", 1))
    await put_test_checkpoint(saver, thread, metadata=generate_metadata("loop", 2))
    assert await ids(saver, latest(thread), filter={"source": "loop", "step": 1}) == [a["id"]]


@check
async def test_list_filter_custom_key(saver: Any) -> None:
    thread = new_thread()
    _, mine = await put_test_checkpoint(saver, thread, metadata=generate_metadata(owner="me"))
    await put_test_checkpoint(saver, thread, metadata=generate_metadata(owner="you"))
    assert await ids(saver, latest(thread), filter={"owner": "me"}) == [mine["id"]]


@check
async def test_list_filter_no_match(saver: Any) -> None:
    thread, _ = await _history(saver)
    assert await ids(saver, latest(thread), filter={"source": "nowhere"}) == []


@check
async def test_list_before(saver: Any) -> None:
    thread, made = await _history(saver)
    before = generate_config(thread, "", made[2])
    assert await ids(saver, latest(thread), before=before) == [made[1], made[0]]


@check
async def test_list_limit_one(saver: Any) -> None:
    thread, made = await _history(saver)
    assert await ids(saver, latest(thread), limit=1) == [made[-1]]


@check
async def test_list_limit_two(saver: Any) -> None:
    thread, made = await _history(saver)
    assert await ids(saver, latest(thread), limit=2) == [made[-1], made[-2]]


@check
async def test_list_before_and_limit(saver: Any) -> None:
    thread, made = await _history(saver)
    before = generate_config(thread, "", made[3])
    assert await ids(saver, latest(thread), before=before, limit=1) == [made[2]]


@check
async def test_list_thread_and_filter(saver: Any) -> None:
    thread, other = new_thread(), new_thread()
    _, mine = await put_test_checkpoint(saver, thread, metadata=generate_metadata(tag="x"))
    await put_test_checkpoint(saver, other, metadata=generate_metadata(tag="x"))
    assert await ids(saver, latest(thread), filter={"tag": "x"}) == [mine["id"]]


@check
async def test_list_pending_writes(saver: Any) -> None:
    thread = new_thread()
    saved, _ = await put_test_checkpoint(saver, thread)
    await saver.aput_writes(saved, [("a", 1)], "task")
    (item,) = await listed(saver, latest(thread))
    assert item.pending_writes == [("task", "a", 1)]


@check
async def test_list_by_checkpoint_id(saver: Any) -> None:
    thread, made = await _history(saver)
    assert await ids(saver, generate_config(thread, "", made[1])) == [made[1]]
