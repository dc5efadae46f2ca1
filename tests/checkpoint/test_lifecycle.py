"""DECISIONS 5: delete, copy, prune (LangGraph's and ours) and the size report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from saver_helpers import MakeSaver, config, make_checkpoint
from test_deltas import chat

from threadloom.checkpoint.base import INTERRUPT
from threadloom.checkpoint.memory import InMemorySaver


def put(
    saver: InMemorySaver,
    thread: str,
    value: Any,
    parent: str | None = None,
    ns: str = "",
    run_id: str | None = None,
    ts: str | None = None,
) -> str:
    checkpoint = make_checkpoint({"a": value}, {"a": str(value)})
    if ts is not None:
        checkpoint["ts"] = ts
    cfg = config(thread, ns, parent)
    if run_id:
        cfg["metadata"] = {"run_id": run_id}
    saver.put(cfg, checkpoint, {"source": "loop", "step": 0}, {"a": str(value)})
    return checkpoint["id"]


def ids(saver: InMemorySaver, thread: str, ns: str | None = None) -> list[str]:
    cfg: Any = {"configurable": {"thread_id": thread}}
    if ns is not None:
        cfg["configurable"]["checkpoint_ns"] = ns
    return [t.checkpoint["id"] for t in saver.list(cfg)]


def test_delete_thread_all_namespaces(saver: InMemorySaver) -> None:
    a = put(saver, "t", 1)
    put(saver, "t", 2, ns="sub:1")
    saver.put_writes(config("t", "", a), [("a", 1)], "task")
    keep = put(saver, "other", 1)
    saver.delete_thread("t")
    saver.delete_thread("missing")
    assert ids(saver, "t") == [] and saver.thread_size_report("t").total_bytes == 0
    assert ids(saver, "other") == [keep]


def test_copy_thread_keeps_ids_values_writes(saver: InMemorySaver) -> None:
    first = put(saver, "src", 1)
    second = put(saver, "src", 2, parent=first)
    sub = put(saver, "src", 3, ns="sub:1")
    saver.put_writes(config("src", "", second), [("a", "w")], "task")
    saver.copy_thread("src", "dst")
    # Across namespaces the order is the backend's (per namespace or by id, as in LangGraph).
    assert sorted(ids(saver, "dst")) == sorted(ids(saver, "src")) == sorted([second, first, sub])
    assert ids(saver, "dst", "") == [second, first]
    copied = saver.get_tuple(config("dst"))
    assert copied is not None and copied.checkpoint["channel_values"] == {"a": 2}
    assert copied.pending_writes == [("task", "a", "w")]
    assert copied.parent_config == config("dst", "", first)
    saver.delete_thread("dst")
    assert sorted(ids(saver, "src")) == sorted([second, first, sub])  # source untouched
    saver.copy_thread("missing", "dst2")
    assert ids(saver, "dst2") == []


def test_copy_then_continue_both_threads_with_deltas(saver: InMemorySaver) -> None:
    chat(saver, "src", 5)
    saver.copy_thread("src", "dst")
    final_src = chat(saver, "src", 3, start=5)
    final_dst = chat(saver, "dst", 2, start=50)
    assert saver.get(config("src"))["channel_values"]["messages"] == final_src  # type: ignore[index]
    assert saver.get(config("dst"))["channel_values"]["messages"] == final_dst  # type: ignore[index]


def test_delete_for_runs(saver: InMemorySaver) -> None:
    a = put(saver, "t", 1, run_id="r1")
    b = put(saver, "t", 2, parent=a, run_id="r2")
    c = put(saver, "t", 3, ns="sub:1", run_id="r1")
    saver.put_writes(config("t", "", a), [("a", 9)], "task")
    saver.delete_for_runs([])
    saver.delete_for_runs(["unknown"])
    assert len(ids(saver, "t")) == 3
    saver.delete_for_runs(["r1"])
    assert ids(saver, "t") == [b]
    assert saver.get_tuple(config("t", "", a)) is None and c not in ids(saver, "t")
    assert saver.get(config("t", "", b))["channel_values"] == {"a": 2}  # type: ignore[index]


def test_prune_keep_latest_and_delete(saver: InMemorySaver) -> None:
    a = put(saver, "t", 1)
    b = put(saver, "t", 2, parent=a)
    saver.put_writes(config("t", "", b), [("a", "w")], "task")
    s1 = put(saver, "t", 3, ns="sub:1")
    s2 = put(saver, "t", 4, ns="sub:1", parent=s1)
    other = put(saver, "u", 1)
    saver.prune([])
    saver.prune(["missing"])
    saver.prune(["t"])
    assert ids(saver, "t", "") == [b] and ids(saver, "t", "sub:1") == [s2]
    kept = saver.get_tuple(config("t"))
    assert kept is not None and kept.pending_writes == [("task", "a", "w")]
    assert kept.checkpoint["channel_values"] == {"a": 2}
    assert saver.thread_size_report("t").blobs == 2  # unused values were collected
    saver.prune(["t"], strategy="delete")
    assert ids(saver, "t") == [] and ids(saver, "u") == [other]


def test_prune_keep_last_and_before(saver: InMemorySaver) -> None:
    now = datetime.now(UTC)
    parent = None
    made = []
    for days_ago in (5, 4, 3, 2, 1):
        parent = put(
            saver, "t", days_ago, parent=parent, ts=(now - timedelta(days=days_ago)).isoformat()
        )
        made.append(parent)
    saver.prune(["t"], keep_last=4)
    assert ids(saver, "t") == made[1:][::-1]
    saver.prune(["t"], keep_last=1, before=now - timedelta(days=2, hours=12))
    assert ids(saver, "t") == made[3:][::-1]  # only the ones older than 2.5 days went
    saver.prune(["t"], before=(now - timedelta(days=1, hours=12)).replace(tzinfo=None))
    assert ids(saver, "t") == [made[4]]


def test_prune_never_drops_pending_interrupt(saver: InMemorySaver) -> None:
    root = put(saver, "t", 1)
    paused = put(saver, "t", 2, parent=root)  # a branch paused on a question
    saver.put_writes(config("t", "", paused), [(INTERRUPT, ["approve?"])], "task")
    resumed_elsewhere = put(saver, "t", 3, parent=root)  # the user forked from root instead
    answered = put(saver, "t", 4, parent=resumed_elsewhere)
    saver.put_writes(config("t", "", resumed_elsewhere), [(INTERRUPT, ["old"])], "task")
    saver.prune(["t"])
    assert sorted(ids(saver, "t")) == sorted([answered, paused])
    kept = saver.get_tuple(config("t", "", paused))
    assert kept is not None and kept.pending_writes == [("task", INTERRUPT, ["approve?"])]


def test_prune_keeps_delta_chains(make_saver: MakeSaver) -> None:
    saver = make_saver()
    final = chat(saver, "t", 40)  # past a base-32 place too (the Postgres saver's counter)
    saver.prune(["t"])
    assert len(ids(saver, "t")) == 1
    report = saver.thread_size_report("t")
    assert 1 < report.blobs < 40  # bases of the head's chain survived, the rest went
    if isinstance(saver, InMemorySaver):
        cold = InMemorySaver()
        cold._threads = saver._threads
    else:
        cold = make_saver()  # a new connection: nothing remembered, the chain is read
    assert cold.get(config("t"))["channel_values"]["messages"] == final  # type: ignore[index]
    assert chat(saver, "t", 1, start=40)[:-2] == final


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "delete", "keep_last": 2}, "keep_last/before"),
        ({"keep_last": 0}, "at least 1"),
        ({"strategy": "oldest"}, "unknown"),
    ],
)
def test_prune_rejects_meaningless_arguments(
    saver: InMemorySaver, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        saver.prune(["t"], **kwargs)


def test_size_report(saver: InMemorySaver) -> None:
    chat(saver, "t", 10)
    cid = saver.get(config("t"))["id"]  # type: ignore[index]
    saver.put_writes(config("t", "", cid), [("x", "hello")], "task")
    put(saver, "t", 1, ns="sub:1")
    report = saver.thread_size_report("t")
    assert (report.checkpoints, report.namespaces, report.writes) == (11, 2, 1)
    assert report.blobs == 11 and report.delta_blobs == 9
    assert report.total_bytes == report.checkpoint_bytes + report.blob_bytes + report.write_bytes
    assert report.write_bytes > 0 and report.blob_bytes > 0
    assert saver.thread_size_report("none").total_bytes == 0
