"""DECISIONS 4: a put that states the head it last saw fails if another writer moved it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from saver_helpers import config, make_checkpoint

from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import CheckpointConflictError


def guarded_put(
    saver: InMemorySaver,
    thread: str,
    seen: str | None,
    parent: str | None = None,
    ns: str = "",
    value: Any = 1,
) -> str:
    checkpoint = make_checkpoint({"a": value})
    cfg = config(thread, ns, parent, **{CONFIG_KEY_EXPECTED_HEAD: seen})
    saver.put(cfg, checkpoint, {"source": "loop", "step": 0}, {"a": 1})
    return checkpoint["id"]


def test_put_succeeds_when_head_is_as_seen(saver: InMemorySaver) -> None:
    first = guarded_put(saver, "t", None)
    second = guarded_put(saver, "t", first, parent=first)
    got = saver.get_tuple(config("t"))
    assert got is not None and got.checkpoint["id"] == second


def test_conflict_when_another_writer_moved_the_head(saver: InMemorySaver) -> None:
    first = guarded_put(saver, "t", None)
    other = guarded_put(saver, "t", first, parent=first)  # another run advances the thread
    with pytest.raises(CheckpointConflictError) as caught:
        guarded_put(saver, "t", first, parent=first, value=2)
    error = caught.value
    assert (error.thread_id, error.checkpoint_ns, error.seen_head, error.head) == (
        "t",
        "",
        first,
        other,
    )
    assert "get_state()" in str(error)
    # nothing was stored by the failed put
    assert [c.checkpoint["id"] for c in saver.list(config("t"))] == [other, first]


def test_conflict_when_thread_was_expected_empty(saver: InMemorySaver) -> None:
    guarded_put(saver, "t", None)
    with pytest.raises(CheckpointConflictError):
        guarded_put(saver, "t", None)


def test_conflict_when_expected_head_was_deleted(saver: InMemorySaver) -> None:
    first = guarded_put(saver, "t", None)
    saver.delete_thread("t")
    with pytest.raises(CheckpointConflictError):
        guarded_put(saver, "t", first, parent=first)


def test_time_travel_fork_is_not_a_conflict(saver: InMemorySaver) -> None:
    first = guarded_put(saver, "t", None)
    head = guarded_put(saver, "t", first, parent=first)
    fork = guarded_put(saver, "t", head, parent=first)  # parent is old, seen head is current
    got = saver.get_tuple(config("t", "", fork))
    assert got is not None and got.parent_config == config("t", "", first)


def test_heads_are_per_namespace(saver: InMemorySaver) -> None:
    root = guarded_put(saver, "t", None)
    guarded_put(saver, "t", None, ns="sub:1")  # a subgraph's first checkpoint
    guarded_put(saver, "t", root, parent=root)  # the parent's head is unaffected


def test_without_the_key_put_behaves_as_langgraph(saver: InMemorySaver) -> None:
    for _ in range(3):
        saver.put(config("t"), make_checkpoint({"a": 1}), {"source": "loop", "step": 0}, {"a": 1})
    assert len(list(saver.list(config("t")))) == 3


def test_concurrent_writers_one_wins(saver: InMemorySaver) -> None:
    first = guarded_put(saver, "t", None)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def writer() -> None:
        barrier.wait()
        try:
            guarded_put(saver, "t", first, parent=first)
            outcomes.append("ok")
        except CheckpointConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    assert len(list(saver.list(config("t")))) == 2
