"""A ``put_writes`` call naming a special channel twice stores it once, the last value winning,
on every saver (LangGraph's savers store writes one by one, so the last one replaces the first;
our Postgres saver upserts them in one statement, which used to fail on the repeated row)."""

from __future__ import annotations

from typing import Any

from saver_helpers import config, make_checkpoint

from threadloom.checkpoint.base import ERROR, INTERRUPT, SCHEDULED


def test_repeated_special_channel_keeps_the_last_value(saver: Any) -> None:
    stored = saver.put(config("t"), make_checkpoint({"a": 1}), {"source": "input", "step": 0}, {})
    writes = [(SCHEDULED, "first"), (INTERRUPT, "i"), (SCHEDULED, "last"), (ERROR, "e")]
    saver.put_writes(stored, writes, "task")
    pending = saver.get_tuple(stored).pending_writes
    assert sorted(pending) == sorted(
        [("task", SCHEDULED, "last"), ("task", INTERRUPT, "i"), ("task", ERROR, "e")]
    )


def test_repeated_regular_channel_keeps_every_write(saver: Any) -> None:
    stored = saver.put(config("t"), make_checkpoint({"a": 1}), {"source": "input", "step": 0}, {})
    saver.put_writes(stored, [("a", 1), ("a", 2), (SCHEDULED, "s"), (SCHEDULED, "t")], "task")
    pending = saver.get_tuple(stored).pending_writes
    assert [w for w in pending if w[1] == "a"] == [("task", "a", 1), ("task", "a", 2)]
    assert len([w for w in pending if w[1] == SCHEDULED]) == 1
