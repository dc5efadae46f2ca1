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


def test_a_graph_step_kept_as_a_record_holds_untracked_parts_and_reads_back_whole() -> None:
    from typing import TypedDict

    from threadloom.graph import END, START, StateGraph

    class Count(TypedDict):
        n: int

    builder = StateGraph(Count)
    builder.add_node("a", lambda s: {"n": s["n"] + 1})
    builder.add_node("b", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    saver = InMemorySaver()
    graph = builder.compile(checkpointer=saver)
    config: dict[str, Any] = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"n": 0}, config) == {"n": 2}
    (thread,) = saver._threads.values()
    records = [item for item in thread.pending if type(item) is tuple]
    assert len(records) == 3  # the steps wait as records until the thread is read
    assert len(thread.pending) == 4  # after the context of the run that saved them
    settle()
    # each record is one flat tuple of atoms (the whole header every 16 steps aside): once the
    # collector passed over it, nothing of it is tracked
    assert not [record for record in records if gc.is_tracked(record)]
    history = list(graph.get_state_history(config))  # reading settles them into rows
    assert [s.metadata["step"] for s in history] == [2, 1, 0, -1]
    assert [s.metadata["parents"] for s in history] == [{}, {}, {}, {}]
    assert [s.metadata["source"] for s in history] == ["loop", "loop", "loop", "input"]
    stored = saver.get_tuple(config)
    assert stored is not None
    assert type(stored.checkpoint["updated_channels"]) is list
    assert stored.checkpoint["updated_channels"] == ["n"]


def test_only_the_no_value_marker_itself_passes_for_a_channel_without_a_value() -> None:
    from threadloom.checkpoint._memory_steps import NO_VALUE, _all_atoms

    assert _all_atoms(["a", NO_VALUE, 3, None])
    equal = b"".join([NO_VALUE[:1], NO_VALUE[1:]])  # equal bytes, another object
    assert equal == NO_VALUE and equal is not NO_VALUE
    assert not _all_atoms(["a", equal, 3])
    assert not _all_atoms([b"bytes are serialized, never kept as they are"])
