"""DECISIONS 1: an append-only list channel costs bytes proportional to what was appended."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from saver_helpers import config, make_checkpoint

from threadloom.checkpoint import _delta
from threadloom.checkpoint._delta import BlobRow, base_index, plan_list_write, rebuild
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer


def chat(saver: InMemorySaver, thread: str, turns: int, start: int = 0) -> list[Any]:
    """Run ``turns`` chat turns the way the engine does: read the head, extend, put."""
    messages: list[Any] = []
    for n in range(start, start + turns):
        head = saver.get_tuple(config(thread))
        messages = head.checkpoint["channel_values"]["messages"] if head else []
        version = saver.get_next_version(
            head.checkpoint["channel_versions"]["messages"] if head else None
        )
        messages = [*messages, HumanMessage(f"question {n}"), AIMessage(f"answer {n}")]
        checkpoint = make_checkpoint({"messages": messages}, {"messages": version})
        parent = head.checkpoint["id"] if head else None
        saver.put(
            config(thread, "", parent),
            checkpoint,
            {"source": "loop", "step": n},
            {"messages": version},
        )
    return messages


def test_stored_bytes_grow_linearly() -> None:
    saver = InMemorySaver()
    chat(saver, "t", 250)
    at_250 = saver.thread_size_report("t").blob_bytes
    chat(saver, "t", 250, start=250)
    at_500 = saver.thread_size_report("t").blob_bytes
    # Linear growth doubles the bytes; storing each full list (LangGraph) would quadruple them.
    assert at_500 / at_250 < 2.4
    one_copy = len(
        JsonPlusSerializer().dumps_typed(
            saver.get_tuple(config("t")).checkpoint["channel_values"]["messages"]
        )[1]
    )  # type: ignore[union-attr]
    assert at_500 < 6 * one_copy  # a few copies of the conversation, not 250


def test_every_version_reads_back_exactly() -> None:
    saver = InMemorySaver()
    final = chat(saver, "t", 80)
    cold = InMemorySaver()
    cold._threads = saver._threads  # same rows, empty caches: rebuilds from bytes
    history = list(cold.list(config("t")))
    assert [len(h.checkpoint["channel_values"]["messages"]) for h in history] == [
        2 * (80 - i) for i in range(80)
    ]
    assert history[0].checkpoint["channel_values"]["messages"] == final
    for older, newer in zip(history[1:], history, strict=False):
        assert (
            newer.checkpoint["channel_values"]["messages"][
                : len(older.checkpoint["channel_values"]["messages"])
            ]
            == older.checkpoint["channel_values"]["messages"]
        )


def test_reads_return_fresh_lists() -> None:
    saver = InMemorySaver()
    chat(saver, "t", 3)
    first = saver.get_tuple(config("t"))
    assert first is not None
    first.checkpoint["channel_values"]["messages"].append("junk")
    second = saver.get_tuple(config("t"))
    assert second is not None and "junk" not in second.checkpoint["channel_values"]["messages"]


def test_non_extension_is_stored_whole() -> None:
    saver = InMemorySaver()
    chat(saver, "t", 3)
    head = saver.get_tuple(config("t"))
    assert head is not None
    replaced = [HumanMessage("edited"), *head.checkpoint["channel_values"]["messages"][1:]]
    version = saver.get_next_version(head.checkpoint["channel_versions"]["messages"])
    checkpoint = make_checkpoint({"messages": replaced}, {"messages": version})
    saver.put(
        config("t", "", head.checkpoint["id"]),
        checkpoint,
        {"source": "update"},
        {"messages": version},
    )
    got = saver.get_tuple(config("t"))
    assert got is not None and got.checkpoint["channel_values"]["messages"] == replaced
    assert saver._threads["t"].blobs[("", "messages", version)].kind == "value"


def test_fork_from_old_version_extends_that_version() -> None:
    saver = InMemorySaver()
    chat(saver, "t", 5)
    history = list(saver.list(config("t")))
    old = saver.get_tuple(config("t", "", history[3].checkpoint["id"]))  # 2 turns in
    assert old is not None
    messages = [*old.checkpoint["channel_values"]["messages"], HumanMessage("other path")]
    version = saver.get_next_version(history[0].checkpoint["channel_versions"]["messages"])
    checkpoint = make_checkpoint({"messages": messages}, {"messages": version})
    saver.put(
        config("t", "", old.checkpoint["id"]), checkpoint, {"source": "fork"}, {"messages": version}
    )
    row = saver._threads["t"].blobs[("", "messages", version)]
    assert (
        row.kind == "delta" and row.base_version == old.checkpoint["channel_versions"]["messages"]
    )
    cold = InMemorySaver()
    cold._threads = saver._threads
    assert cold.get(config("t"))["channel_values"]["messages"] == messages  # type: ignore[index]


def test_full_value_after_max_deltas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_delta, "MAX_DELTAS", 10)
    saver = InMemorySaver()
    final = chat(saver, "t", 25)
    kinds = [row.kind for (ns, ch, v), row in sorted(saver._threads["t"].blobs.items())]
    assert kinds.count("value") == 3  # turn 0, then after 10 and 20 deltas
    cold = InMemorySaver()
    cold._threads = saver._threads
    assert cold.get(config("t"))["channel_values"]["messages"] == final  # type: ignore[index]


def test_base_index_counter() -> None:
    assert [base_index(k) for k in (1, 7, 8, 9, 16, 63, 64, 65, 72, 512)] == [
        0,
        6,
        0,
        8,
        8,
        62,
        0,
        64,
        64,
        0,
    ]


def test_chains_stay_short_and_disjoint() -> None:
    """Any version rebuilds from at most 7 records per octal digit."""
    known = None
    rows: dict[int, BlobRow] = {}
    value: list[int] = []
    for version in range(1, 700):
        value = [*value, version]
        plan = plan_list_write(known, value, version)
        stored = value[plan.tail_start :]
        rows[version] = BlobRow(
            "delta" if plan.base else "value",
            "list",
            repr(stored).encode(),
            plan.base.version if plan.base else None,
            plan.index,
            len(value),
        )
        known = plan.decoded
        assert len(plan.decoded.chain) <= 7 * 4
    fetched: list[int] = []

    def fetch(v: Any) -> BlobRow:
        fetched.append(v)
        return rows[v]

    decoded = rebuild(699, fetch, lambda r: eval(r.data.decode()))
    assert decoded is not None and decoded.value == list(range(1, 700))
    assert len(fetched) <= 7 * 4


def test_identity_not_equality_decides() -> None:
    """An equal but different element (True vs 1) is not an extension: types must survive."""
    known = plan_list_write(None, [1, 2], "v1").decoded
    assert plan_list_write(known, [True, 2, 3], "v2").base is None
    assert plan_list_write(known, [*known.value, 3], "v2").base is not None


def test_bad_element_error_points_into_full_list() -> None:
    saver = InMemorySaver()
    chat(saver, "t", 2)
    head = saver.get_tuple(config("t"))
    assert head is not None
    messages = [
        *head.checkpoint["channel_values"]["messages"],
        AIMessage("x", additional_kwargs={"bad": object()}),
    ]
    version = saver.get_next_version(head.checkpoint["channel_versions"]["messages"])
    checkpoint = make_checkpoint({"messages": messages}, {"messages": version})
    with pytest.raises(Exception, match=r"state\['messages'\]\[4\]\.additional_kwargs\['bad'\]"):
        saver.put(config("t", "", head.checkpoint["id"]), checkpoint, {}, {"messages": version})
    assert len(list(saver.list(config("t")))) == 2  # nothing stored


def test_each_delta_extends_the_links_of_its_base_and_joins_those_above_it() -> None:
    # Chains are cut and joined by walking back from their end: checked against the rule
    # (links up to the base's index; links above it) over 600 appends, past three octal digits.
    known = None
    value: list[int] = []
    for version in range(1, 601):
        value = [*value, version]
        plan = plan_list_write(known, value, version)
        if known is not None:
            assert plan.base is not None
            expected = tuple(link for link in known.chain if link.index <= plan.base.index)
            assert plan.decoded.chain[:-1] == expected
            above = [link for link in known.chain if link.index > plan.base.index]
            assert _delta.links_between(known.chain, plan.base) == above
        known = plan.decoded
