"""``get_delta_channel_history`` (LangGraph's DeltaChannel contract) on every saver backend.

The contract, observed on LangGraph 1.2.22: for each asked channel, the writes of the target's
ancestors (oldest first, the target's own pending writes left out) back to the nearest ancestor
storing a value, given as ``seed``; no ``seed`` when no ancestor stores one; the walk follows the
parent chain, so a fork's history is its own path. Async savers answer the async method on their
loop and the sync one from other threads.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, TypedDict

from saver_helpers import config, make_checkpoint

from threadloom.channels.delta import DeltaChannel
from threadloom.checkpoint.base import BaseCheckpointSaver
from threadloom.graph import START, StateGraph


def concat(state: list[str], writes: list[Any]) -> list[str]:
    out = list(state)
    for write in writes:
        out.extend(write if isinstance(write, list) else [write])
    return out


class State(TypedDict, total=False):
    items: Annotated[list[str], DeltaChannel(concat)]
    other: str


def build(saver: BaseCheckpointSaver[Any]) -> Any:
    def a(state: State) -> dict[str, Any]:
        return {"items": ["a"], "other": "x"}

    def b(state: State) -> dict[str, Any]:
        return {"items": "b"}

    builder = StateGraph(State)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    return builder.compile(checkpointer=saver)


def history(saver: Any, config: Any, channels: list[str]) -> Any:
    if hasattr(saver, "loop"):  # async savers: the async method, on the saver's own loop
        walk = saver.aget_delta_channel_history(config=config, channels=channels)
        return asyncio.run_coroutine_threadsafe(walk, saver.loop).result()
    return saver.get_delta_channel_history(config=config, channels=channels)


def test_seed_and_writes_rebuild_every_checkpoint_a_step_made(saver: Any) -> None:
    graph = build(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": ["x"]}, config)
    graph.invoke({"items": ["y"]}, config)
    graph.update_state(config, {"items": ["u"]})
    graph.invoke({"items": ["z"]}, config)
    snapshots = list(graph.get_state_history(config))
    assert snapshots[0].values["items"] == ["x", "a", "b", "y", "a", "b", "u", "z", "a", "b"]
    # An update_state checkpoint holds its value itself: its update is no write of its parent.
    for snapshot in [s for s in snapshots if s.metadata["source"] == "loop"]:
        found = history(saver, snapshot.config, ["items"])["items"]
        channel = DeltaChannel(concat, list).from_checkpoint(found.get("seed", []))
        channel.replay_writes(found["writes"])
        assert channel.get() == snapshot.values.get("items", [])
        assert all(write[1] == "items" for write in found["writes"])


def test_a_channel_nobody_stores_has_writes_but_no_seed(saver: Any) -> None:
    graph = build(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": ["x"]}, config)
    head = graph.get_state(config).config
    found = history(saver, head, ["nowhere", "other"])
    assert found["nowhere"] == {"writes": []}
    assert found["other"]["seed"] == "x"
    assert history(saver, head, []) == {}


def test_the_walk_follows_the_parent_chain_of_a_fork(saver: Any) -> None:
    # Checkpoints that store no value for "items" (as LangGraph's engine saves a DeltaChannel),
    # in two branches off c2: each target sees its own path's writes only.
    def put(parent: str | None, values: dict[str, Any], writes: list[tuple[str, Any]]) -> str:
        checkpoint = make_checkpoint(values)
        at = config("t", checkpoint_id=parent) if parent else config("t")
        new_versions = checkpoint["channel_versions"]
        stored = saver.put(at, checkpoint, {"source": "loop", "step": 0}, new_versions)
        task_id = f"task-{checkpoint['id']}"
        saver.put_writes(stored, writes, task_id)
        return str(checkpoint["id"])

    c1 = put(None, {"items": ["s"]}, [("items", "a")])
    c2 = put(c1, {}, [("items", "b"), ("other", 1)])
    c3 = put(c2, {}, [("items", "c")])
    c4 = put(c3, {}, [("items", "pending")])
    c5 = put(c2, {}, [("items", "z")])
    c6 = put(c5, {}, [])

    def values(target: str) -> tuple[list[Any], Any]:
        found = history(saver, config("t", checkpoint_id=target), ["items"])["items"]
        return [write[2] for write in found["writes"]], found.get("seed")

    assert values(c4) == (["a", "b", "c"], ["s"])
    assert values(c6) == (["a", "b", "z"], ["s"])
    assert values(c1) == ([], None)
    whole = history(saver, config("t", checkpoint_id=c4), ["items", "other"])
    assert whole["other"]["writes"][0][1:] == ("other", 1)
    assert "seed" not in whole["other"]


def test_the_target_writes_are_pending_and_left_out(saver: Any) -> None:
    graph = build(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": ["x"]}, config)
    root = list(graph.get_state_history(config))[-1]  # the input checkpoint: only pending writes
    assert history(saver, root.config, ["items"]) == {"items": {"writes": []}}


def test_the_walk_stops_when_a_put_made_the_parent_links_loop(saver: Any) -> None:
    # A put may re-use a checkpoint id under a new parent (LangGraph's savers store it): "a"
    # put again under its own child "b" makes the parent links loop a -> b -> a. The walk reads
    # each checkpoint once and ends (it looped forever: the test timed out).
    a = saver.put(config("t"), make_checkpoint(id="cid-a"), {}, {})
    b = saver.put(a, make_checkpoint(id="cid-b"), {}, {})
    saver.put(b, make_checkpoint(id="cid-a"), {}, {})
    assert history(saver, b, ["items"]) == {"items": {"writes": []}}
