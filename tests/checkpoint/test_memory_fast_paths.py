"""InMemorySaver's per-step shortcuts keep the contract, and reads do not grow with the thread.

The shortcuts (``_memory_rows``): headers of engine puts kept by reference, plain immutable
values kept as objects, the writes of one call stored as one batch. Each test checks what a
caller can observe: copies on read, strict serialization, idempotency, lifecycle, sizes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from saver_helpers import config

from threadloom.checkpoint._delta import BlobRow
from threadloom.checkpoint._memory_rows import ENGINE_KEYS, is_atom
from threadloom.checkpoint._memory_steps import _all_atoms
from threadloom.checkpoint._plain_metadata import plain_metadata
from threadloom.checkpoint._records import EMPTY_ROW
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    INTERRUPT,
    Checkpoint,
    get_checkpoint_metadata,
    next_string_version,
)
from threadloom.checkpoint.id import uuid6
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.encrypted import EncryptedSerializer
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import UnserializableValueError


class CountingSerializer(JsonPlusSerializer):
    """The default serializer, counting decodes: a read's work, without timing it.

    A subclass, so the saver serializes every value and header through it (the object
    shortcuts apply to the default serializer only): each stored row read is one decode.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        self.loads += 1
        return super().loads_typed(data)


class Chain:
    """Puts checkpoints on one thread the way a graph run does: fresh version dicts per step,
    unchanged inner ``versions_seen`` dicts shared, the head it saw carried on every put."""

    def __init__(self, saver: InMemorySaver, thread: str = "t", *, engine: bool = True) -> None:
        self.saver, self.thread, self.engine = saver, thread, engine
        self.head: str | None = None
        self.versions: dict[str, Any] = {}
        self.seen: dict[str, dict[str, Any]] = {}
        self.step = -1

    def put(self, values: dict[str, Any], writes: list[tuple[str, Any]] | None = None) -> str:
        self.step += 1
        bumped = {c: next_string_version(self.versions.get(c)) for c in values}
        self.versions = {**self.versions, **bumped}  # a fresh dict per checkpoint
        node = f"node{self.step}"
        self.seen = {**self.seen, node: {c: v for c, v in bumped.items()}}  # others shared
        checkpoint: Checkpoint = {
            "v": 4,
            "id": str(uuid6(clock_seq=self.step)),
            "ts": datetime.now(UTC).isoformat(),
            "channel_values": dict(values),
            "channel_versions": self.versions,
            "versions_seen": self.seen,
            "updated_channels": sorted(values),
        }
        configurable: dict[str, Any] = {"thread_id": self.thread, "checkpoint_ns": ""}
        if self.head is not None:
            configurable["checkpoint_id"] = self.head
        if self.engine:
            configurable[CONFIG_KEY_EXPECTED_HEAD] = self.head
        metadata: Any = {"source": "loop", "step": self.step, "parents": {}}
        saved = self.saver.put({"configurable": configurable}, checkpoint, metadata, bumped)
        self.head = saved["configurable"]["checkpoint_id"]
        if writes is not None:
            self.saver.put_writes(config(self.thread, "", self.head), writes, f"task{self.step}")
        return self.head


# -- reads do not grow with the thread (DECISIONS 2) ------------------------------------------


def _decodes_to_read(puts: int, engine: bool, read: Any) -> int:
    serde = CountingSerializer()
    saver = InMemorySaver(serde=serde)
    chain = Chain(saver, engine=engine)
    for i in range(puts):
        chain.put({"count": i, "note": {"n": i}}, writes=[("count", i), ("note", {"n": i})])
    serde.loads = 0
    read(saver, chain)
    return serde.loads


@pytest.mark.parametrize("engine", [True, False], ids=["engine-put", "direct-put"])
@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda s, c: s.get_tuple({"configurable": {"thread_id": "t"}}), id="latest"),
        pytest.param(lambda s, c: s.get_tuple(config("t", "", c.head)), id="by-id"),
        pytest.param(lambda s, c: list(s.list(config("t"), limit=2)), id="list-limit"),
        pytest.param(
            lambda s, c: list(s.list(config("t"), before=config("t", "", c.head), limit=1)),
            id="list-before-limit",
        ),
    ],
)
def test_reading_the_head_does_the_same_work_for_10_or_400_checkpoints(
    engine: bool, read: Any
) -> None:
    short = _decodes_to_read(10, engine, read)
    long = _decodes_to_read(400, engine, read)
    assert short > 0  # the read did decode something: the count means something
    assert long == short


def test_list_limit_touches_only_the_returned_rows() -> None:
    saver = InMemorySaver()
    chain = Chain(saver)
    ids = [chain.put({"count": i}) for i in range(50)]
    stored = saver._threads["t"].checkpoints[""]
    assert stored.newest_first(None, 3) == ids[:-4:-1]
    assert stored.newest_first(ids[10], 2) == [ids[9], ids[8]]
    assert stored.newest_first(ids[0], None) == []


def test_list_order_survives_out_of_order_ids() -> None:
    saver = InMemorySaver()
    newer, older = Chain(saver, "a"), Chain(saver, "b")
    older_ids = [older.put({"x": 1})]  # made first, so its id is older
    newer_ids = [newer.put({"x": 1}) for _ in range(2)]
    saver.copy_thread("b", "a")  # an older id arrives after newer ones
    got = [t.checkpoint["id"] for t in saver.list(config("a"))]
    assert got == sorted(newer_ids + older_ids, reverse=True)
    latest = saver.get_tuple({"configurable": {"thread_id": "a"}})
    assert latest is not None and latest.checkpoint["id"] == newer_ids[-1]


# -- engine headers kept by reference ---------------------------------------------------------


def test_engine_header_reads_are_copies() -> None:
    saver = InMemorySaver()
    chain = Chain(saver)
    chain.put({"a": 1})
    first = saver.get_tuple(config("t"))
    assert first is not None
    checkpoint = first.checkpoint
    checkpoint["channel_versions"]["a"] = "bogus"
    checkpoint["versions_seen"]["node0"]["a"] = "bogus"
    checkpoint["versions_seen"]["new"] = {}
    checkpoint["updated_channels"].append("bogus")  # type: ignore[union-attr]
    again = saver.get_tuple(config("t"))
    assert again is not None
    assert again.checkpoint["channel_versions"] == {"a": chain.versions["a"]}
    assert again.checkpoint["versions_seen"] == {"node0": {"a": chain.versions["a"]}}
    assert again.checkpoint["updated_channels"] == ["a"]


def test_engine_headers_round_trip_over_a_history() -> None:
    saver = InMemorySaver()
    chain = Chain(saver)
    expected = []
    for i in range(5):
        chain.put({"count": i, f"branch:to:node{i}": None})
        expected.append((dict(chain.versions), {k: dict(v) for k, v in chain.seen.items()}))
    history = list(saver.list(config("t")))[::-1]
    got = [(t.checkpoint["channel_versions"], t.checkpoint["versions_seen"]) for t in history]
    assert got == expected
    assert all(t.checkpoint.keys() == ENGINE_KEYS for t in history)


def test_direct_put_header_is_a_copy() -> None:
    saver = InMemorySaver()
    chain = Chain(saver, engine=False)  # no expected head: LangGraph's callers may reuse dicts
    chain.put({"a": 1})
    chain.versions["a"] = "changed after put"
    chain.seen["node0"]["a"] = "changed after put"
    got = saver.get_tuple(config("t"))
    assert got is not None
    assert got.checkpoint["channel_versions"]["a"] != "changed after put"
    assert got.checkpoint["versions_seen"]["node0"]["a"] != "changed after put"


def test_engine_put_with_unknown_keys_round_trips_them() -> None:
    saver = InMemorySaver()
    checkpoint: Any = {
        "v": 4,
        "id": str(uuid6(clock_seq=0)),
        "ts": datetime.now(UTC).isoformat(),
        "channel_values": {"a": 1},
        "channel_versions": {"a": "1"},
        "versions_seen": {},
        "updated_channels": None,
        "pending_sends": [],
        "extra": {"kept": True},
    }
    cfg = config("t", **{CONFIG_KEY_EXPECTED_HEAD: None})
    saver.put(cfg, checkpoint, {"source": "loop", "step": 0}, {"a": "1"})
    checkpoint["extra"]["kept"] = False  # serialized at put: later changes are not seen
    got = saver.get_tuple(config("t"))
    assert got is not None
    assert got.checkpoint["extra"] == {"kept": True}  # type: ignore[typeddict-item]
    assert got.checkpoint["pending_sends"] == []


def test_prune_and_collect_with_engine_headers() -> None:
    saver = InMemorySaver()
    chain = Chain(saver)
    for i in range(6):
        chain.put({"count": i, "log": [f"line {j}" for j in range(i + 1)]})
    saver.prune(["t"], keep_last=2)
    history = list(saver.list(config("t")))
    assert [t.checkpoint["channel_values"]["count"] for t in history] == [5, 4]
    assert history[0].checkpoint["channel_values"]["log"] == [f"line {j}" for j in range(6)]
    report = saver.thread_size_report("t")
    assert report.checkpoints == 2 and report.checkpoint_bytes > 0
    assert report.blobs == 4  # the values of the two kept checkpoints, nothing else


# -- plain metadata kept as a dict ------------------------------------------------------------

_KEYS = st.sampled_from(["source", "step", "run_id", "user", "writes", "thread_id", "__x", "é"])
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False),
    st.text(alphabet="ab\x00é", max_size=3),
    st.tuples(st.integers()),
)
_PLAINISH = st.dictionaries(
    _KEYS, st.one_of(_VALUES, st.dictionaries(st.text("ab\x00é", max_size=2), _VALUES))
)


@settings(suppress_health_check=[HealthCheck.too_slow])  # a loaded machine draws slowly
@given(metadata=_PLAINISH, run_metadata=_PLAINISH, configurable=_PLAINISH)
def test_plain_metadata_is_the_general_merge_or_declines(
    metadata: dict[str, Any], run_metadata: dict[str, Any], configurable: dict[str, Any]
) -> None:
    run_config: Any = {"metadata": run_metadata, "configurable": configurable}
    plain = plain_metadata(run_config, metadata)
    if plain is not None:
        assert plain == get_checkpoint_metadata(run_config, metadata)  # type: ignore[arg-type]


def test_plain_metadata_is_a_private_copy() -> None:
    saver = InMemorySaver()
    parents = {"": "parent-id"}
    checkpoint: Any = {
        "v": 4,
        "id": str(uuid6(clock_seq=0)),
        "ts": datetime.now(UTC).isoformat(),
        "channel_values": {},
        "channel_versions": {},
        "versions_seen": {},
        "updated_channels": [],
    }
    run_config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": "", "user": "bob"}}
    run_config["configurable"][CONFIG_KEY_EXPECTED_HEAD] = None
    saved = saver.put(run_config, checkpoint, {"source": "loop", "parents": parents}, {})
    parents[""] = "changed after put"
    first = saver.get_tuple(saved)
    assert first is not None
    assert first.metadata == {"source": "loop", "parents": {"": "parent-id"}, "user": "bob"}
    first.metadata["parents"][""] = "changed by a reader"  # type: ignore[typeddict-item]
    again = saver.get_tuple(saved)
    assert again is not None and again.metadata["parents"] == {"": "parent-id"}


# -- plain immutable values kept as objects ---------------------------------------------------


ATOMS = [None, True, False, 0, -(2**63), 2**64 - 1, 1.5, float("inf"), "", "plain ascii"]
NOT_ATOMS = [2**64, -(2**63) - 1, "héllo", b"bytes", (1, 2), [1], {"a": 1}]


def test_what_counts_as_an_atom() -> None:
    assert all(is_atom(v) for v in ATOMS)
    assert not any(is_atom(v) for v in NOT_ATOMS)


def test_a_step_is_all_atoms_exactly_when_each_value_is_one() -> None:
    # the whole-list check (by type, at C speed) says what the value-by-value rule says,
    # with EMPTY_ROW (a channel without a value) allowed and any other BlobRow not
    other_row = BlobRow("empty", "empty", b"x")
    assert _all_atoms([]) and _all_atoms([EMPTY_ROW]) and _all_atoms([*ATOMS, EMPTY_ROW])
    for bad in [*NOT_ATOMS, other_row, 2**64 + 7]:
        for at in range(len(ATOMS) + 1):
            values = [*ATOMS[:at], bad, *ATOMS[at:], EMPTY_ROW]
            assert not _all_atoms(values), values
    assert _all_atoms(["a", "b", 3, -4, None, EMPTY_ROW, 2**64 - 1])
    assert not _all_atoms(["a", "b", 3, -4, None, EMPTY_ROW, "é"])


@pytest.mark.parametrize("value", ATOMS + NOT_ATOMS, ids=repr)
@pytest.mark.parametrize(
    "serde", [None, CountingSerializer()], ids=["default-serde", "serde-subclass"]
)
def test_values_and_writes_round_trip_with_their_type(value: Any, serde: Any) -> None:
    saver = InMemorySaver(serde=serde)
    chain = Chain(saver)
    chain.put({"v": value, "other": 1}, writes=[("v", value), ("w", "x")])
    got = saver.get_tuple(config("t"))
    assert got is not None
    stored = got.checkpoint["channel_values"]["v"]
    assert stored == value and type(stored) is type(value)
    assert got.pending_writes is not None
    written = got.pending_writes[0][2]
    assert written == value and type(written) is type(value)


def test_unserializable_values_still_fail_at_put_with_their_path() -> None:
    saver = InMemorySaver()
    chain = Chain(saver)
    with pytest.raises(UnserializableValueError, match=r"state\['bad'\]\[1\]"):
        chain.put({"ok": 1, "bad": [1, object()]})
    assert saver.get_tuple(config("t")) is None  # nothing half-stored
    chain.step, chain.versions, chain.seen = -1, {}, {}
    head = chain.put({"ok": 1})
    with pytest.raises(UnserializableValueError, match=r"writes\['bad'\]"):
        saver.put_writes(config("t", "", head), [("ok", 1), ("bad", object())], "task")
    got = saver.get_tuple(config("t"))
    assert got is not None and got.pending_writes == []


def test_an_encrypting_serializer_sees_every_value() -> None:
    class Tagging:
        def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
            return "rev", plaintext[::-1]

        def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
            assert ciphername == "rev"
            return ciphertext[::-1]

    saver = InMemorySaver(serde=EncryptedSerializer(Tagging()))
    chain = Chain(saver)
    head = chain.put({"n": 3, "s": "text"}, writes=[("n", 3)])
    rows = saver._threads["t"].blobs.values()
    assert all(getattr(row, "type", "").endswith("+rev") for row in rows)
    got = saver.get_tuple(config("t", "", head))
    assert got is not None and got.checkpoint["channel_values"] == {"n": 3, "s": "text"}
    assert got.pending_writes == [("task0", "n", 3)]


# -- the writes of one call stored together ---------------------------------------------------


def test_write_batches_keep_the_idempotency_rules() -> None:
    saver = InMemorySaver()
    head = Chain(saver).put({"a": 1})
    cfg = config("t", "", head)
    saver.put_writes(cfg, [("a", 1), ("b", {"x": 1})], "t1", "~p")
    saver.put_writes(cfg, [("a", 2), ("b", {"x": 2}), ("c", 3)], "t1", "~p")  # first wins
    saver.put_writes(cfg, [(INTERRUPT, "first")], "t1", "~p")
    saver.put_writes(cfg, [(INTERRUPT, "second")], "t1", "~p")  # special only: replaces
    saver.put_writes(cfg, [("z", 0)], "t0", "~p")
    got = saver.get_tuple(cfg)
    assert got is not None
    assert got.pending_writes == [
        ("t0", "z", 0),
        ("t1", INTERRUPT, "second"),
        ("t1", "a", 1),
        ("t1", "b", {"x": 1}),
        ("t1", "c", 3),
    ]
    report = saver.thread_size_report("t")
    assert report.writes == 5 and report.write_bytes > 0


def test_copied_writes_stay_apart_from_the_source() -> None:
    saver = InMemorySaver()
    head = Chain(saver).put({"a": 1})
    saver.put_writes(config("t", "", head), [("a", 1)], "one")  # a single call so far
    saver.copy_thread("t", "copy")
    saver.put_writes(config("t", "", head), [("a", 2)], "two")
    saver.put_writes(config("copy", "", head), [("a", 3)], "three")
    source = saver.get_tuple(config("t", "", head))
    copy = saver.get_tuple(config("copy", "", head))
    assert source is not None and copy is not None
    assert source.pending_writes == [("one", "a", 1), ("two", "a", 2)]
    assert copy.pending_writes == [("one", "a", 1), ("three", "a", 3)]
    saver.copy_thread("t", "copy")  # merged into the copy's writes
    again = saver.get_tuple(config("copy", "", head))
    assert again is not None
    assert again.pending_writes == [("one", "a", 1), ("three", "a", 3), ("two", "a", 2)]


def test_writes_read_back_are_copies() -> None:
    saver = InMemorySaver()
    head = Chain(saver).put({"a": 1})
    value = {"nested": [1]}
    saver.put_writes(config("t", "", head), [("a", value)], "task")
    value["nested"].append(2)
    first = saver.get_tuple(config("t"))
    assert first is not None and first.pending_writes == [("task", "a", {"nested": [1]})]
    first.pending_writes[0][2]["nested"].append(3)
    again = saver.get_tuple(config("t"))
    assert again is not None and again.pending_writes == [("task", "a", {"nested": [1]})]


# -- versions ---------------------------------------------------------------------------------


def test_next_string_version_after_another_version() -> None:
    first = next_string_version(None)
    second = next_string_version(first)  # the version made last: its number is remembered
    other = next_string_version("00000000000000000000000000000041.5")
    again = next_string_version(first)  # not the last one made any more: parsed
    assert [v.split(".")[0] for v in (first, second, other, again)] == [
        f"{1:032}",
        f"{2:032}",
        f"{42:032}",
        f"{2:032}",
    ]
    assert next_string_version(7).startswith(f"{8:032}.") and first < second < other
