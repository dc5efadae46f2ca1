"""InMemorySaver against the saver contract (CONTRACT 1.1-1.9)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from saver_helpers import config, make_checkpoint

from threadloom.checkpoint.base import (
    ERROR,
    INTERRUPT,
    RESUME,
    SCHEDULED,
    CheckpointTuple,
)
from threadloom.checkpoint.memory import InMemorySaver, MemorySaver


def put(
    saver: InMemorySaver,
    thread: str,
    values: dict[str, Any],
    parent: str | None = None,
    ns: str = "",
    versions: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    **configurable: Any,
) -> str:
    checkpoint = make_checkpoint(values, versions)
    new_versions = new if new is not None else checkpoint["channel_versions"]
    saved = saver.put(
        config(thread, ns, parent, **configurable),
        checkpoint,
        metadata or {"source": "loop", "step": 0, "parents": {}},
        new_versions,
    )
    return str(saved["configurable"]["checkpoint_id"])


def test_memory_saver_alias() -> None:
    assert MemorySaver is InMemorySaver


def test_put_returns_config_of_new_checkpoint(saver: InMemorySaver) -> None:
    checkpoint = make_checkpoint({"a": 1})
    returned = saver.put(
        config("t", "child:1"), checkpoint, {"source": "input", "step": -1}, {"a": 1}
    )
    assert returned == {
        "configurable": {
            "thread_id": "t",
            "checkpoint_ns": "child:1",
            "checkpoint_id": checkpoint["id"],
        }
    }


def test_round_trip_values_and_fields(saver: InMemorySaver) -> None:
    values = {"s": "x", "i": 3, "l": [1, "a"], "d": {"k": {"n": None}}, "t": (1, 2)}
    checkpoint = make_checkpoint(values, versions_seen={"node": {"s": 1}}, updated_channels=["s"])
    saver.put(
        config("t"), checkpoint, {"source": "loop", "step": 3}, checkpoint["channel_versions"]
    )
    got = saver.get_tuple(config("t"))
    assert got is not None
    assert got.checkpoint["channel_values"] == values
    assert type(got.checkpoint["channel_values"]["t"]) is tuple  # DECISIONS 8
    assert got.checkpoint["versions_seen"] == {"node": {"s": 1}}
    assert got.checkpoint["updated_channels"] == ["s"]
    assert got.checkpoint["id"] == checkpoint["id"] and got.checkpoint["ts"] == checkpoint["ts"]
    assert got.checkpoint["v"] == checkpoint["v"]
    assert got.checkpoint["pending_sends"] == []  # unknown/legacy keys round-trip
    assert saver.get(config("t")) == got.checkpoint


def test_values_are_copies(saver: InMemorySaver) -> None:
    value = {"nested": [1, 2]}
    put(saver, "t", {"d": value, "l": [1]})
    value["nested"].append(3)
    first = saver.get_tuple(config("t"))
    assert first is not None and first.checkpoint["channel_values"]["d"] == {"nested": [1, 2]}
    first.checkpoint["channel_values"]["d"]["nested"].append(9)
    first.checkpoint["channel_values"]["l"].append(9)
    again = saver.get_tuple(config("t"))
    assert again is not None
    assert again.checkpoint["channel_values"] == {"d": {"nested": [1, 2]}, "l": [1]}


def test_get_tuple_latest_exact_missing(saver: InMemorySaver) -> None:
    assert saver.get_tuple(config("nobody")) is None
    first = put(saver, "t", {"a": 1})
    second = put(saver, "t", {"a": 2}, parent=first, versions={"a": 2})
    latest = saver.get_tuple({"configurable": {"thread_id": "t"}})  # ns defaults to ""
    assert latest is not None and latest.checkpoint["id"] == second
    assert latest.config == config("t", "", second)
    exact = saver.get_tuple(config("t", "", first))
    assert exact is not None and exact.checkpoint["channel_values"] == {"a": 1}
    assert saver.get_tuple(config("t", "", "1f000000-0000-6000-8000-000000000000")) is None
    assert saver.get_tuple(config("t", "other-ns")) is None


def test_exact_get_echoes_request_config(memory_saver: InMemorySaver) -> None:
    saver = memory_saver
    cid = put(saver, "t", {"a": 1})
    request = {"configurable": {"thread_id": "t", "checkpoint_id": cid, "extra": 1}}
    got = saver.get_tuple(request)
    assert got is not None
    assert got.config["configurable"] == {
        "thread_id": "t",
        "checkpoint_id": cid,
        "extra": 1,
        "checkpoint_ns": "",
    }


def test_parent_config(saver: InMemorySaver) -> None:
    first = put(saver, "t", {"a": 1}, ns="n")
    second = put(saver, "t", {"a": 2}, parent=first, ns="n", versions={"a": 2})
    root = saver.get_tuple(config("t", "n", first))
    child = saver.get_tuple(config("t", "n", second))
    assert root is not None and root.parent_config is None
    assert child is not None and child.parent_config == config("t", "n", first)


def test_incremental_blobs(saver: InMemorySaver) -> None:
    """Only new_versions are stored; unchanged channels load from older versions."""
    first = put(saver, "t", {"a": "a1", "b": "b1"}, versions={"a": 1, "b": 1})
    second = put(
        saver, "t", {"a": "a2", "b": "b1"}, parent=first, versions={"a": 2, "b": 1}, new={"a": 2}
    )
    assert saver.thread_size_report("t").blobs == 3
    got2 = saver.get_tuple(config("t", "", second))
    got1 = saver.get_tuple(config("t", "", first))
    assert got2 is not None and got2.checkpoint["channel_values"] == {"a": "a2", "b": "b1"}
    assert got1 is not None and got1.checkpoint["channel_values"] == {"a": "a1", "b": "b1"}


def test_channel_appearing_later_and_dropped_channel(saver: InMemorySaver) -> None:
    first = put(saver, "t", {"a": 1}, versions={"a": 1})
    second = put(
        saver, "t", {"a": 1, "c": 5}, parent=first, versions={"a": 1, "c": 2}, new={"c": 2}
    )
    third = put(saver, "t", {"c": 5}, parent=second, versions={"c": 2}, new={})
    assert saver.get(config("t", "", second))["channel_values"] == {"a": 1, "c": 5}  # type: ignore[index]
    assert saver.get(config("t", "", third))["channel_values"] == {"c": 5}  # type: ignore[index]


def test_versioned_channel_without_value_is_empty(saver: InMemorySaver) -> None:
    first = put(saver, "t", {"a": 1, "b": 2}, versions={"a": 1, "b": 1})
    second = put(saver, "t", {"a": 1}, parent=first, versions={"a": 1, "b": 2}, new={"b": 2})
    got = saver.get_tuple(config("t", "", second))
    assert got is not None
    assert got.checkpoint["channel_values"] == {"a": 1}
    assert got.checkpoint["channel_versions"] == {"a": 1, "b": 2}


def test_reput_same_id_upserts_header(saver: InMemorySaver) -> None:
    checkpoint = make_checkpoint({"a": 1})
    saver.put(config("t"), checkpoint, {"source": "loop", "step": 1}, {"a": 1})
    saver.put(config("t"), checkpoint, {"source": "update", "step": 2}, {"a": 1})
    listed = list(saver.list(config("t")))
    assert len(listed) == 1 and listed[0].metadata["source"] == "update"


def test_metadata_merge_rules(saver: InMemorySaver) -> None:
    """CONTRACT 1.4: the observed example, NUL stripping, excluded keys."""
    checkpoint = make_checkpoint({})
    cfg = {
        "configurable": {
            "thread_id": "r",
            "checkpoint_ns": "",
            "user_id": "u",
            "num": 3,
            "obj": {"x": 1},
            "__secret": "s",
            "langgraph_step": 4,
        },
        "metadata": {"run_id": "meta-run", "tag": "t"},
    }
    saver.put(cfg, checkpoint, {"source": "loop", "step": 0, "parents": {}, "note": "a\x00b"}, {})
    got = saver.get_tuple(config("r"))
    assert got is not None
    assert got.metadata == {
        "source": "loop",
        "step": 0,
        "parents": {},
        "note": "ab",
        "run_id": "meta-run",
        "tag": "t",
        "user_id": "u",
        "num": 3,
    }


def test_string_versions(saver: InMemorySaver) -> None:
    v1 = saver.get_next_version(None)
    v2 = saver.get_next_version(v1)
    v10 = saver.get_next_version("00000000000000000000000000000009.5")
    assert v1.startswith("0" * 31 + "1.") and v2.startswith("0" * 31 + "2.")
    assert v10.startswith("00000000000000000000000000000010.")
    assert v1 < v2 < v10 and saver.get_next_version(7).startswith("0" * 31 + "8.")


def test_pending_writes_sorted_and_idempotent(saver: InMemorySaver) -> None:
    cid = put(saver, "t", {"a": 1})
    cfg = config("t", "", cid)
    saver.put_writes(cfg, [("b", 2), ("c", 3)], "task-2", "~__pregel_pull, z")
    saver.put_writes(cfg, [("a", 1)], "task-1", "~__pregel_pull, y")
    saver.put_writes(cfg, [("x", 0)], "task-0")  # no task path: sorts first
    saver.put_writes(cfg, [("b", 99)], "task-2", "~__pregel_pull, z")  # same key: ignored
    got = saver.get_tuple(cfg)
    assert got is not None
    assert got.pending_writes == [
        ("task-0", "x", 0),
        ("task-1", "a", 1),
        ("task-2", "b", 2),
        ("task-2", "c", 3),
    ]


def test_special_writes_replace(saver: InMemorySaver) -> None:
    cid = put(saver, "t", {"a": 1})
    cfg = config("t", "", cid)
    saver.put_writes(cfg, [(ERROR, ValueError("bad fails"))], "task")
    saver.put_writes(cfg, [(ERROR, ValueError("worse"))], "task")
    saver.put_writes(cfg, [(INTERRUPT, ["question"]), (RESUME, ["answer"])], "task2")
    saver.put_writes(cfg, [(SCHEDULED, None)], "task3")
    got = saver.get_tuple(cfg)
    assert got is not None
    assert ("task", ERROR, "ValueError('worse')") in got.pending_writes  # errors store as repr
    by_channel = {(t, c): v for t, c, v in got.pending_writes}
    assert by_channel[("task2", INTERRUPT)] == ["question"]
    assert by_channel[("task2", RESUME)] == ["answer"]
    assert len(got.pending_writes) == 4
    # special channels come first within a task (negative indexes)
    order = [c for t, c, _ in got.pending_writes if t == "task2"]
    assert order == [RESUME, INTERRUPT]


def test_new_checkpoint_starts_without_writes(saver: InMemorySaver) -> None:
    first = put(saver, "t", {"a": 1})
    saver.put_writes(config("t", "", first), [("a", 2)], "task")
    second = put(saver, "t", {"a": 2}, parent=first, versions={"a": 2})
    child = saver.get_tuple(config("t", "", second))
    parent = saver.get_tuple(config("t", "", first))
    assert child is not None and child.pending_writes == []
    assert parent is not None and parent.pending_writes == [("task", "a", 2)]


def test_put_writes_needs_checkpoint_id(saver: InMemorySaver) -> None:
    with pytest.raises(ValueError, match="checkpoint_id"):
        saver.put_writes(config("t"), [("a", 1)], "task")


def test_writes_isolated_by_namespace(saver: InMemorySaver) -> None:
    root = put(saver, "t", {"a": 1})
    child = put(saver, "t", {"a": 1}, ns="sub:1")
    saver.put_writes(config("t", "", root), [("a", "root")], "task")
    saver.put_writes(config("t", "sub:1", child), [("a", "child")], "task")
    got_root = saver.get_tuple(config("t", "", root))
    got_child = saver.get_tuple(config("t", "sub:1", child))
    assert got_root is not None and got_root.pending_writes == [("task", "a", "root")]
    assert got_child is not None and got_child.pending_writes == [("task", "a", "child")]


def _ids(tuples: list[CheckpointTuple]) -> list[str]:
    return [t.checkpoint["id"] for t in tuples]


def test_list_order_filters_before_limit(saver: InMemorySaver) -> None:
    ids = []
    parent = None
    for step in range(5):
        parent = put(
            saver,
            "t",
            {"a": step},
            parent=parent,
            versions={"a": step + 1},
            metadata={
                "source": "loop" if step else "input",
                "step": step,
                "parents": {},
                "owner": "me" if step % 2 else "you",
            },
        )
        ids.append(parent)
    put(saver, "other", {"a": 1})
    newest_first = ids[::-1]
    assert _ids(list(saver.list(config("t")))) == newest_first
    assert _ids(list(saver.list(config("t"), limit=2))) == newest_first[:2]
    assert _ids(list(saver.list(config("t"), before=config("t", "", ids[3])))) == ids[:3][::-1]
    assert _ids(list(saver.list(config("t"), before=config("t", "", ids[3]), limit=1))) == [ids[2]]
    assert _ids(list(saver.list(config("t"), filter={"source": "input"}))) == [ids[0]]
    assert _ids(list(saver.list(config("t"), filter={"owner": "me", "step": 3}))) == [ids[3]]
    assert _ids(list(saver.list(config("t"), filter={"owner": "nobody"}))) == []
    assert _ids(list(saver.list(config("t", "", ids[1])))) == [ids[1]]
    assert len(list(saver.list(None))) == 6
    assert list(saver.list(config("missing"))) == []


def test_list_namespaces(saver: InMemorySaver) -> None:
    root = put(saver, "t", {"a": 1})
    child = put(saver, "t", {"a": 2}, ns="sub:1")
    listed = _ids(list(saver.list({"configurable": {"thread_id": "t"}})))
    assert sorted(listed) == sorted([root, child])  # across namespaces: the backend's order
    assert _ids(list(saver.list(config("t", "sub:1")))) == [child]


def test_list_carries_pending_writes(saver: InMemorySaver) -> None:
    cid = put(saver, "t", {"a": 1})
    saver.put_writes(config("t", "", cid), [("a", 5)], "task")
    (listed,) = list(saver.list(config("t")))
    assert listed.pending_writes == [("task", "a", 5)]


def test_list_survives_deletes_while_iterating(saver: InMemorySaver) -> None:
    for _ in range(3):
        put(saver, "t", {"a": 1})
    seen = []
    for item in saver.list(config("t")):
        seen.append(item)
        saver.delete_thread("t")
    assert len(seen) == 1  # every listing is lazy: what was deleted meanwhile is skipped


def test_async_twins(memory_saver: InMemorySaver) -> None:
    saver = memory_saver

    async def scenario() -> None:
        checkpoint = make_checkpoint({"a": 1})
        saved = await saver.aput(config("t"), checkpoint, {"source": "loop", "step": 0}, {"a": 1})
        await saver.aput_writes(saved, [("a", 2)], "task")
        got = await saver.aget_tuple(config("t"))
        assert got is not None and got.pending_writes == [("task", "a", 2)]
        assert await saver.aget(config("t")) == got.checkpoint
        assert [t async for t in saver.alist(config("t"))] == [got]
        assert (await saver.athread_size_report("t")).checkpoints == 1
        await saver.acopy_thread("t", "u")
        await saver.aprune(["u"], strategy="delete")
        await saver.adelete_for_runs(["nothing"])
        await saver.adelete_thread("t")
        assert await saver.aget_tuple(config("t")) is None
        async with saver as same:
            assert same is saver

    asyncio.run(scenario())


def test_context_manager_and_factory() -> None:
    with InMemorySaver() as saver:
        assert saver.config_specs == []
    with pytest.raises(ValueError, match="SqliteSaver"):
        InMemorySaver(factory=list)
