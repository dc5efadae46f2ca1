"""A ``Send``'s state is read by its own reader in the codec's header table (``_send_payload``),
not the generic slot walk: the bytes must be exactly those the generic path wrote, so stored
checkpoints read back and a save writes what it wrote before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ormsgpack
import pytest

from threadloom.checkpoint.serde._codec import _SEND_HEAD
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import UnserializableValueError
from threadloom.types import Send, TimeoutPolicy

# Written by the generic path (main before the direct encoder), as (type, hex bytes).
OLD_BYTES: dict[str, tuple[str, str]] = {
    "plain": (
        "msgpack",
        "c7380893b07468726561646c6f6f6d2e7479706573a453656e6483a361726781a46974656d01a46e6f6465a6776f726b6572a774696d656f7574c0",
    ),
    "timeout": (
        "msgpack",
        "c7880893b07468726561646c6f6f6d2e7479706573a453656e6483a361726702a46e6f6465a6776f726b6572a774696d656f7574c7540393b07468726561646c6f6f6d2e7479706573ad54696d656f7574506f6c69637983ab72756e5f74696d656f7574cb3ff8000000000000ac69646c655f74696d656f7574c0aa726566726573685f6f6ea46175746f",
    ),
    "nested": (
        "msgpack",
        "c7b40893b07468726561646c6f6f6d2e7479706573a453656e6483a361726782a5696e6e6572c73f0893b07468726561646c6f6f6d2e7479706573a453656e6483a3617267c70b0192a57475706c6592a17401a46e6f6465a6776f726b6572a774696d656f7574c0a26174c7350192a86461746574696d6599cd07e8010200000000c71d0192a874696d657a6f6e6591c70f0192a974696d6564656c74619300000000a46e6f6465a56f75746572a774696d656f7574c0",
    ),
    "surrogate": (
        "msgpack",
        "c74a0893b07468726561646c6f6f6d2e7479706573a453656e6483a3617267c7160192ae7374722b737572726f6761746573c40461eda080a46e6f6465a6776f726b6572a774696d656f7574c0",
    ),
    "unset_slot": (
        "msgpack",
        "c72a0893b07468726561646c6f6f6d2e7479706573a453656e6482a36172679101a46e6f6465a6776f726b6572",
    ),
    "many": (
        "msgpack",
        "93c7380893b07468726561646c6f6f6d2e7479706573a453656e6483a361726781a46974656d00a46e6f6465a6776f726b6572a774696d656f7574c0c7380893b07468726561646c6f6f6d2e7479706573a453656e6483a361726781a46974656d01a46e6f6465a6776f726b6572a774696d656f7574c0c7380893b07468726561646c6f6f6d2e7479706573a453656e6483a361726781a46974656d02a46e6f6465a6776f726b6572a774696d656f7574c0",
    ),
}


def _unset_slot_send() -> Send:
    """A Send rebuilt from a record written before ``timeout`` existed: that slot is unset."""
    send = Send.__new__(Send)
    send.node, send.arg = "worker", [1]
    return send


def _values() -> dict[str, Any]:
    at = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    return {
        "plain": Send("worker", {"item": 1}),
        "timeout": Send("worker", 2, timeout=TimeoutPolicy(run_timeout=1.5)),
        "nested": Send("outer", {"inner": Send("worker", ("t", 1)), "at": at}),
        "surrogate": Send("worker", "a\ud800"),
        "unset_slot": _unset_slot_send(),
        "many": [Send("worker", {"item": i}) for i in range(3)],
    }


def _state(value: Any) -> Any:
    """What a Send holds (its set slots), recursively: comparable for an unset slot too."""
    if isinstance(value, Send):
        return ("Send", {n: _state(getattr(value, n)) for n in Send.__slots__ if hasattr(value, n)})
    if isinstance(value, list | tuple):
        return type(value)(_state(v) for v in value)
    if isinstance(value, dict):
        return {k: _state(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", sorted(OLD_BYTES))
def test_a_send_encodes_to_the_bytes_the_generic_path_wrote(name: str) -> None:
    serde = JsonPlusSerializer()
    assert serde.dumps_typed(_values()[name]) == (
        OLD_BYTES[name][0],
        bytes.fromhex(OLD_BYTES[name][1]),
    )
    shared = serde.sharing_encodings()  # a save's encoder (with its memo) writes the same
    assert shared.dumps_typed(_values()[name])[1].hex() == OLD_BYTES[name][1]


@pytest.mark.parametrize("name", sorted(OLD_BYTES))
def test_stored_send_bytes_read_back_as_the_same_sends(name: str) -> None:
    kind, data = OLD_BYTES[name]
    back = JsonPlusSerializer().loads_typed((kind, bytes.fromhex(data)))
    assert _state(back) == _state(_values()[name])


def test_a_send_met_twice_in_one_save_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[bytes] = []
    ext = ormsgpack.Ext

    def counted(code: int, data: bytes) -> Any:
        if data.startswith(_SEND_HEAD):
            records.append(data)
        return ext(code, data)

    monkeypatch.setattr(ormsgpack, "Ext", counted)
    send = Send("worker", {"item": 1})
    values = [[send, send], {"again": send}, [send, 0]]  # (a list ending in a Send: one loop)
    plain = [JsonPlusSerializer().dumps_typed(v) for v in values]
    assert len(records) == 4  # without sharing: each occurrence
    records.clear()
    share = JsonPlusSerializer().sharing_encodings()
    assert [share.dumps_typed(v) for v in values] == plain
    assert len(records) == 1


@pytest.mark.parametrize("last", ["plain", "timeout", "nested", "surrogate", "unset_slot"])
def test_a_list_of_sends_encodes_as_each_send_does(last: str) -> None:
    # a list ending in a Send (a step's packets) has its Sends encoded in one loop
    # (Codec._send_records); each kind of Send, first, in the middle or last, makes the
    # bytes it makes alone, and the Sends it cannot encode (a lone surrogate, an unset slot)
    # are left to the general path
    serde = JsonPlusSerializer()
    sends = _values()
    names = ["plain", "timeout", "nested", "surrogate", "unset_slot", last]
    items = [sends[n] for n in names]
    alone = b"".join(bytes.fromhex(OLD_BYTES[n][1]) for n in names)
    for encoder in (serde, serde.sharing_encodings()):
        kind, data = encoder.dumps_typed(items)
        assert (kind, data) == ("msgpack", bytes([0x90 + len(items)]) + alone)
        assert _state(serde.loads_typed((kind, data))) == _state(items)


def test_a_send_that_cannot_be_encoded_names_its_path_in_a_list() -> None:
    class Opaque:
        pass

    items = [Send("worker", 1), Send("worker", {"x": Opaque()})]
    with pytest.raises(UnserializableValueError) as raised:
        JsonPlusSerializer().dumps_typed(items, root="state['tasks']")
    assert "state['tasks'][1].arg['x']" in str(raised.value)


class _CountedMemo(dict[int, Any]):
    """A save's memo that counts its look-ups."""

    gets = 0

    def get(self, key: int, default: Any = None) -> Any:
        self.gets += 1
        return super().get(key, default)


@pytest.mark.parametrize(
    "packets",
    [
        "tail",  # a fan-out step: its tasks channel, after the START task's writes
        "whole",
        "one",
        "other order",
        "one other send",
        "longer",
        "deeper",
    ],
)
def test_packets_after_the_writes_holding_them_reuse_their_records(packets: str) -> None:
    # the START task's writes (values, then its Sends) and the checkpoint's tasks channel
    # (the same Sends, in order) in one save: the channel's records are the writes' own,
    # taken over at C speed; any other list is encoded item by item, to the same bytes
    sends = [Send("worker", {"item": i}) for i in range(5)]
    sends.insert(2, _values()["surrogate"])  # left to the general path, in both lists
    writes: list[Any] = [[1, 2], {"x": 1}, *sends]
    second: Any = {
        "tail": sends,
        "whole": writes,
        "one": sends[-1:],
        "other order": sends[::-1],
        "one other send": [*sends[:-1], Send("worker", {"item": 4})],
        "longer": [sends[0], *writes],
        "deeper": [sends],
    }[packets]
    plain = JsonPlusSerializer()
    share = plain.sharing_encodings()
    memo = share._memo = _CountedMemo()
    assert share.dumps_typed(writes) == plain.dumps_typed(writes)
    memo.gets = 0
    encoded = share.dumps_typed(second)
    assert encoded == plain.dumps_typed(second)
    assert _state(plain.loads_typed(encoded)) == _state(second)
    if packets in ("tail", "whole", "one"):  # the list's look-up, none per Send but for
        # the one left to the general path (whose ``_default`` looks it up)
        assert memo.gets == 1 + any(item is sends[2] for item in second)
