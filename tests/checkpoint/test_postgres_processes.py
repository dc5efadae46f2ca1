"""Four worker processes against one PostgreSQL database: no lost update, no silent fork.

Each worker runs steps like a graph does: read the head, compute the next state from it, save
the step (a task write and the checkpoint, one transaction) with the head it read as the
expected head. On one shared thread the workers race: a step that lost the race must raise
``CheckpointConflictError`` (the worker reloads and retries), so in the end the thread is ONE
chain holding every worker's every step: ``n`` counts them all (no lost update), the list
channel (stored as deltas) holds each (worker, step) once, and each checkpoint's parent is the
one before it (no fork). On separate threads nothing conflicts.

CI runs 4 × 60 steps; ``THREADLOOM_PG_STEPS=250 pytest tests/checkpoint/test_postgres_processes.py``
runs the issue's 4 × 250.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import traceback
from pathlib import Path
from typing import Any

from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, empty_checkpoint
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.errors import CheckpointConflictError

STEPS = int(os.environ.get("THREADLOOM_PG_STEPS", "60"))
WORKERS = 4


def _step(saver: PostgresSaver, thread_id: str, worker: int, i: int) -> None:
    """One step from the head the worker reads now; raises CheckpointConflictError if beaten."""
    head = saver.get_tuple({"configurable": {"thread_id": thread_id}})
    if head is None:
        n, log, version, head_id = 0, [], None, None
    else:
        n = head.checkpoint["channel_values"]["n"]
        log = head.checkpoint["channel_values"]["log"]
        version = head.checkpoint["channel_versions"]["n"]
        head_id = head.checkpoint["id"]
    new_version = saver.get_next_version(version, None)
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"n": n + 1, "log": [*log, [worker, i]]}
    checkpoint["channel_versions"] = {"n": new_version, "log": new_version}
    configurable: dict[str, Any] = {
        "thread_id": thread_id,
        "checkpoint_ns": "",
        CONFIG_KEY_EXPECTED_HEAD: head_id,
    }
    writes: list[Any] = []
    if head_id is not None:
        configurable["checkpoint_id"] = head_id
        writes = [(f"task-{worker}-{i}", "", [("n", n + 1)])]
    saver.put_step(
        {"configurable": configurable},
        writes,
        checkpoint,
        {"source": "loop", "step": n + 1, "worker": worker},
        {"n": new_version, "log": new_version},
    )


def _worker(dsn: str, thread_id: str, worker: int, steps: int, out: str) -> None:
    try:
        conflicts = 0
        with PostgresSaver.from_conn_string(dsn) as saver:
            for i in range(steps):
                while True:
                    try:
                        _step(saver, thread_id, worker, i)
                        break
                    except CheckpointConflictError:
                        conflicts += 1  # reported: reload the head and try again
        Path(out).write_text(json.dumps({"conflicts": conflicts}))
    except BaseException:
        Path(out + ".err").write_text(traceback.format_exc())  # the parent sees only an exit code
        raise


def _run(dsn: str, tmp_path: Path, threads: list[str]) -> list[int]:
    context = multiprocessing.get_context("spawn")
    outs = [str(tmp_path / f"w{w}.json") for w in range(WORKERS)]
    workers = [
        context.Process(target=_worker, args=(dsn, threads[w], w, STEPS, outs[w]))
        for w in range(WORKERS)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
    errors = [p.read_text() for p in sorted(tmp_path.glob("*.err"))]
    assert errors == [] and [p.exitcode for p in workers] == [0] * WORKERS
    return [json.loads(Path(o).read_text())["conflicts"] for o in outs]


def _check_chain(saver: PostgresSaver, thread_id: str, expected: list[list[int]]) -> None:
    history = list(saver.list({"configurable": {"thread_id": thread_id}}))
    assert len(history) == len(expected)
    head = history[0]
    assert head.checkpoint["channel_values"]["n"] == len(expected)  # no lost update
    assert sorted(head.checkpoint["channel_values"]["log"]) == sorted(expected)
    oldest_first = history[::-1]
    assert oldest_first[0].parent_config is None
    for parent, child in itertools.pairwise(oldest_first):  # one chain, no fork
        assert child.parent_config is not None
        assert child.parent_config["configurable"]["checkpoint_id"] == parent.checkpoint["id"]
        assert (
            child.checkpoint["channel_values"]["n"] == parent.checkpoint["channel_values"]["n"] + 1
        )


def test_four_processes_on_one_thread_lose_nothing_and_never_fork(
    pg_dsn: str, tmp_path: Path
) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    conflicts = _run(pg_dsn, tmp_path, ["shared"] * WORKERS)
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        _check_chain(saver, "shared", [[w, i] for w in range(WORKERS) for i in range(STEPS)])
        report = saver.thread_size_report("shared")
    # Every step after the first left one task write: only the committed attempts' writes.
    assert report.writes == WORKERS * STEPS - 1
    print(f"conflicts reported per worker: {conflicts}")


def test_four_processes_on_their_own_threads_never_conflict(pg_dsn: str, tmp_path: Path) -> None:
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    threads = [f"own-{w}" for w in range(WORKERS)]
    assert _run(pg_dsn, tmp_path, threads) == [0] * WORKERS
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        for w, thread_id in enumerate(threads):
            _check_chain(saver, thread_id, [[w, i] for i in range(STEPS)])
