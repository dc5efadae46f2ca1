"""A ``put_writes`` call of one write (a task's return or one-key update, most calls) is stored
by ``encode_batch``'s own short path: the batch must be the one the general path stores.

The reference below builds the batch from the rules (``_memory_writes.WriteBatch``), so the
short path cannot drift from them: values kept as objects only when atoms under the default
serializer, a special channel making the call an upsert, an unencodable value named by path.
"""

from __future__ import annotations

from typing import Any

import pytest
from saver_helpers import config

from threadloom.checkpoint._memory_rows import is_atom
from threadloom.checkpoint._memory_writes import WriteBatch, encode_batch
from threadloom.checkpoint.base import WRITES_IDX_MAP, empty_checkpoint
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.constants import ERROR, RETURN, TASKS
from threadloom.errors import UnserializableValueError
from threadloom.types import Send

VALUES: list[Any] = [
    None, True, 1.5, 7, 2**70, "ascii", "ünï", "\ud800", [1, 2], {"k": "v"}, (1,),
    Send("worker", {"item": 1}),
]  # fmt: skip
CHANNELS = ["results", RETURN, ERROR, TASKS]


def reference(serde: Any, channel: str, value: Any) -> WriteBatch:
    """The batch of one write as the rules of ``WriteBatch`` state it."""
    upsert = channel in WRITES_IDX_MAP
    if type(serde) is JsonPlusSerializer and is_atom(value):
        return ("t", "p", (channel,), upsert, None, (value,))
    return ("t", "p", (channel,), upsert, serde.dumps_typed([value]), None)


class Subclassed(JsonPlusSerializer):
    """Not the default serializer: every value is serialized, atoms too."""


@pytest.mark.parametrize("serde", [JsonPlusSerializer(), Subclassed()], ids=["default", "other"])
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_one_write_batch_is_the_rules_batch(serde: Any, channel: str, value: Any) -> None:
    assert encode_batch(serde, [(channel, value)], "t", "p") == reference(serde, channel, value)


def test_one_write_as_a_tuple_or_list_reads_back() -> None:
    saver = InMemorySaver()
    cfg = saver.put(config("t"), empty_checkpoint(), {}, {})
    saver.put_writes(cfg, (("a", [1]),), "task1")
    saver.put_writes(cfg, [("b", "x")], "task2")
    saver.put_writes(cfg, [(ERROR, "boom")], "task1")
    saver.put_writes(cfg, [(ERROR, "again")], "task1")  # a special channel: the call replaces
    got = saver.get_tuple(cfg)
    assert got is not None
    assert sorted(got.pending_writes) == [
        ("task1", ERROR, "again"), ("task1", "a", [1]), ("task2", "b", "x"),
    ]  # fmt: skip


def test_one_unencodable_write_names_its_channel() -> None:
    with pytest.raises(UnserializableValueError, match=r"writes\['out'\]"):
        encode_batch(JsonPlusSerializer(), [("out", object())], "t", "p")
