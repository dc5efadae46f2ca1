"""Ids, versions and the helpers of checkpoint.base (CONTRACT 1.2-1.5, 1.8)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from saver_helpers import make_checkpoint

from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    EXCLUDED_METADATA_KEYS,
    LATEST_VERSION,
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    copy_checkpoint,
    create_checkpoint,
    empty_checkpoint,
    get_checkpoint_id,
    get_checkpoint_metadata,
    get_serializable_checkpoint_metadata,
    writes_sort_key,
)
from threadloom.checkpoint.id import uuid6
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import EmptyChannelError


def test_uuid6_sorts_chronologically_and_masks_step() -> None:
    ids = [str(uuid6(clock_seq=step)) for step in [-1, 0, 2, *range(2000)]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids[0].split("-")[3] == "bfff" and ids[1].split("-")[3] == "8000"
    assert ids[2].split("-")[3] == "8002"
    assert uuid.UUID(ids[0]).version == 6


def test_constants() -> None:
    assert WRITES_IDX_MAP == {
        "__error__": -1,
        "__scheduled__": -2,
        "__interrupt__": -3,
        "__resume__": -4,
    }
    assert {
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
    } <= EXCLUDED_METADATA_KEYS
    assert CONFIG_KEY_EXPECTED_HEAD.startswith("__")
    assert LATEST_VERSION == 4


def test_metadata_merge_precedence() -> None:
    cfg: Any = {
        "configurable": {
            "thread_id": "t",
            "k": "from-configurable",
            "flag": True,
            CONFIG_KEY_EXPECTED_HEAD: "x",
            "checkpoint_map": "m",
        },
        "metadata": {"k": "from-metadata", "nested": {"no": 1}, "writes": 1},
    }
    merged = get_checkpoint_metadata(cfg, {"source": "loop", "step": 1, "parents": {"": "p\x00"}})
    assert merged == {
        "source": "loop",
        "step": 1,
        "parents": {"": "p"},
        "k": "from-metadata",
        "flag": True,
        "writes": 1,
    }
    assert "writes" not in get_serializable_checkpoint_metadata(cfg, {"source": "loop"})


def test_writes_sort_key_orders_pathless_first() -> None:
    keys = [("~b", "t1", 0), ("", "t9", 1), ("~a", "t2", -3), ("~a", "t2", 0), ("", "t0", 5)]
    assert sorted(keys, key=writes_sort_key) == [
        ("", "t0", 5),
        ("", "t9", 1),
        ("~a", "t2", -3),
        ("~a", "t2", 0),
        ("~b", "t1", 0),
    ]


def test_checkpoint_helpers() -> None:
    empty = empty_checkpoint()
    assert empty["v"] == LATEST_VERSION and empty["channel_values"] == {}
    assert empty["pending_sends"] == []
    made_id = uuid.UUID(empty["id"])  # a UUIDv6 with the step -2 as its clock sequence
    assert made_id.version == 6 and made_id.clock_seq == 0x3FFE and str(made_id) == empty["id"]
    assert empty_checkpoint()["id"] > empty["id"]  # time-ordered
    base = make_checkpoint({"a": 1, "b": 2}, versions_seen={"n": {"a": 1}})
    copied = copy_checkpoint(base)
    copied["channel_values"]["a"] = 9
    copied["versions_seen"]["n"]["a"] = 9
    assert base["channel_values"]["a"] == 1 and base["versions_seen"]["n"]["a"] == 1

    class Chan:
        def __init__(self, value: Any) -> None:
            self.value = value

        def checkpoint(self) -> Any:
            if self.value is None:
                raise EmptyChannelError()
            return self.value

    made = create_checkpoint(
        base, {"a": Chan(5), "b": Chan(None), "c": Chan(1)}, 3, updated_channels=["b", "a"]
    )
    assert made["channel_values"] == {"a": 5}  # empty and unversioned channels are absent
    assert made["id"] != base["id"] and made["id"].split("-")[3] == "8003"
    assert made["updated_channels"] == ["a", "b"]
    assert create_checkpoint(base, None, 1)["channel_values"] == {"a": 1, "b": 2}
    assert get_checkpoint_id({"configurable": {"checkpoint_id": "x"}}) == "x"
    assert get_checkpoint_id({"configurable": {}}) is None


def test_base_saver_defaults() -> None:
    saver: BaseCheckpointSaver[int] = BaseCheckpointSaver()
    assert saver.get_next_version(None) == 1 and saver.get_next_version(4) == 5
    with pytest.raises(NotImplementedError, match="string version"):
        saver.get_next_version("1.0")  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        saver.get_tuple({"configurable": {"thread_id": "t"}})
    with pytest.raises(NotImplementedError):
        saver.delete_for_runs(["r"])
    assert saver.config_specs == []
    assert isinstance(saver.serde, JsonPlusSerializer)


def test_with_allowlist_clones_and_shares_storage() -> None:
    class Thing:
        def __init__(self, n: int) -> None:
            self.n = n

    saver = InMemorySaver()
    assert saver.with_allowlist([]) is saver
    widened = saver.with_allowlist([Thing])
    assert widened is not saver and type(widened) is InMemorySaver
    checkpoint = make_checkpoint({"t": Thing(3)})
    widened.put(
        {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
        checkpoint,
        {"source": "loop", "step": 0},
        {"t": 1},
    )
    got = widened.get({"configurable": {"thread_id": "t"}})
    assert got is not None and got["channel_values"]["t"].n == 3
    # the user's saver sees the same thread, and still refuses the type it was not given
    with pytest.raises(Exception, match="allow-list"):
        saver.get({"configurable": {"thread_id": "t"}})


def test_with_allowlist_warns_for_foreign_serializer(caplog: pytest.LogCaptureFixture) -> None:
    class Plain:
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
            return "x", b""

        def loads_typed(self, data: tuple[str, bytes]) -> Any:
            return None

    saver = InMemorySaver(serde=Plain())
    assert saver.with_allowlist([int]) is saver
    assert "cannot widen" in caplog.text
