"""delete_for_runs (extended; CONTRACT 6.2, 7 checks)."""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.conformance.suites._common import collector, ids, latest, new_thread
from threadloom.checkpoint.conformance.test_utils import (
    generate_config,
    generate_metadata,
    put_test_checkpoint,
)

CHECKS, check = collector()


async def _run_checkpoint(saver: Any, thread: str, run_id: str, ns: str = "") -> str:
    _, checkpoint = await put_test_checkpoint(
        saver, thread, checkpoint_ns=ns, metadata=generate_metadata(run_id=run_id)
    )
    return checkpoint["id"]


@check
async def test_delete_for_runs_single(saver: Any) -> None:
    thread = new_thread()
    await _run_checkpoint(saver, thread, "run-a")
    kept = await _run_checkpoint(saver, thread, "run-b")
    await saver.adelete_for_runs(["run-a"])
    assert await ids(saver, latest(thread)) == [kept]


@check
async def test_delete_for_runs_several(saver: Any) -> None:
    thread = new_thread()
    await _run_checkpoint(saver, thread, "run-a")
    await _run_checkpoint(saver, thread, "run-b")
    kept = await _run_checkpoint(saver, thread, "run-c")
    await saver.adelete_for_runs(["run-a", "run-b"])
    assert await ids(saver, latest(thread)) == [kept]


@check
async def test_delete_for_runs_other_runs_untouched(saver: Any) -> None:
    thread, other = new_thread(), new_thread()
    await _run_checkpoint(saver, thread, "run-x")
    kept = await _run_checkpoint(saver, other, "run-y")
    await saver.adelete_for_runs(["run-x"])
    assert await ids(saver, latest(other)) == [kept]


@check
async def test_delete_for_runs_writes(saver: Any) -> None:
    thread = new_thread()
    checkpoint_id = await _run_checkpoint(saver, thread, "run-w")
    config = generate_config(thread, "", checkpoint_id)
    await saver.aput_writes(config, [("a", 1)], "task")
    await saver.adelete_for_runs(["run-w"])
    assert await saver.aget_tuple(config) is None


@check
async def test_delete_for_runs_empty_list(saver: Any) -> None:
    thread = new_thread()
    kept = await _run_checkpoint(saver, thread, "run-e")
    await saver.adelete_for_runs([])
    assert await ids(saver, latest(thread)) == [kept]


@check
async def test_delete_for_runs_unknown_ids(saver: Any) -> None:
    thread = new_thread()
    kept = await _run_checkpoint(saver, thread, "run-k")
    await saver.adelete_for_runs(["no-such-run"])
    assert await ids(saver, latest(thread)) == [kept]


@check
async def test_delete_for_runs_all_namespaces(saver: Any) -> None:
    thread = new_thread()
    await _run_checkpoint(saver, thread, "run-n")
    await _run_checkpoint(saver, thread, "run-n", ns="child:1")
    await saver.adelete_for_runs(["run-n"])
    assert await ids(saver, {"configurable": {"thread_id": thread}}) == []
