"""What ``InMemorySaver`` keeps of a run is, as far as it can be, invisible to the garbage
collector: a kept container the collector tracks is traversed again by every collection of
its generation, so a long-lived process holding many threads pays for it on every later step.
The collector stops tracking an exact tuple of untracked items when it passes over it, one
level of nesting per pass, so these tests look at what is still tracked after a few passes
(``settle``), the collector's own measure of that cost."""

from __future__ import annotations

import gc
from typing import Any

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task


def settle() -> None:
    """Collect as often as the deepest kept nesting needs (a few passes)."""
    for _ in range(4):
        gc.collect()


def kept_writes(saver: InMemorySaver) -> list[Any]:
    """Every pending-writes entry the saver stores: whole batches and writes by key."""
    kept: list[Any] = []
    for thread in saver._threads.values():
        for stored in thread.writes.values():
            kept.extend(stored.values() if type(stored) is dict else [stored])
    return kept


def test_the_writes_of_task_calls_made_of_atoms_stop_being_tracked() -> None:
    @task
    def label(n: int) -> str:
        return f"item {n}"

    saver = InMemorySaver()

    @entrypoint(checkpointer=saver)
    def fan_out(count: int) -> list[str]:
        return [f.result() for f in [label(n) for n in range(count)]]

    assert fan_out.invoke(4, {"configurable": {"thread_id": "t"}}) == [
        f"item {n}" for n in range(4)
    ]
    settle()
    writes = kept_writes(saver)
    assert len(writes) >= 4  # the four calls' results, by key
    assert not [w for w in writes if gc.is_tracked(w)]


def test_writes_holding_a_container_stay_encoded_and_read_back_equal() -> None:
    saver = InMemorySaver()
    config = saver.put(
        {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
        {
            "v": 4,
            "id": "1",
            "ts": "2026-01-01T00:00:00+00:00",
            "channel_values": {},
            "channel_versions": {},
            "versions_seen": {},
            "updated_channels": None,
        },
        {},
        {},
    )
    saver.put_writes(config, [("a", {"k": [1, 2]}), ("b", "plain")], "task-1")
    saver.put_writes(config, [("c", 3)], "task-2")
    settle()
    assert not [w for w in kept_writes(saver) if gc.is_tracked(w)]
    stored = saver.get_tuple(config)
    assert stored is not None
    assert sorted(stored.pending_writes) == [
        ("task-1", "a", {"k": [1, 2]}),
        ("task-1", "b", "plain"),
        ("task-2", "c", 3),
    ]
