"""Edges of the serializer: lone surrogates, huge ints, deep nesting, and where errors point.

Issue 7 defects 4 and 5: a value round-trips exactly or is refused with the path to it, and
stored bytes that do not decode raise our ``CorruptDataError`` with the byte offset and path.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import ormsgpack
import pydantic
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from threadloom.checkpoint.serde._codec import EXT_DATACLASS, EXT_STDLIB, MAX_OBJECT_DEPTH
from threadloom.checkpoint.serde.base import dumps_channel
from threadloom.checkpoint.serde.encrypted import EncryptedSerializer
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import (
    CorruptDataError,
    DisallowedTypeError,
    UnserializableValueError,
    shown_value,
)


@dataclasses.dataclass
class Node:
    child: Any = None
    label: str = ""


NODE_KEY = [Node.__module__, Node.__qualname__]


class Note(pydantic.BaseModel):
    text: str


class Tag(str):
    pass


serde = JsonPlusSerializer(allowed_msgpack_modules=[Node, Note, Tag])

SURROGATE = "a\ud800b"  # a lone high surrogate
ESCAPED = "file-\udcff.txt"  # what os.fsdecode makes of an undecodable byte


def round_trip(value: Any) -> Any:
    return serde.loads_typed(serde.dumps_typed(value))


# -- lone surrogates: kept exactly, or refused with the path ----------------------------------


@pytest.mark.parametrize(
    "value",
    [
        SURROGATE,
        ESCAPED,
        "\udc80" * 3,
        [SURROGATE, "plain", {"k": ESCAPED}],
        {"x": (SURROGATE, 1), "s": {ESCAPED}},
        Node(child=Node(label=SURROGATE), label=ESCAPED),
        Note(text=SURROGATE),
        Tag(SURROGATE),
        HumanMessage(SURROGATE, id="m1"),
        {"messages": [AIMessage("ok"), AIMessage(ESCAPED, additional_kwargs={"raw": SURROGATE})]},
    ],
    ids=lambda v: type(v).__name__,
)
def test_lone_surrogates_round_trip_exactly(value: Any) -> None:
    back = round_trip(value)
    assert back == value and type(back) is type(value)
    assert ascii(back) == ascii(value)  # same code points, not "?" replacements


def test_plain_strings_keep_their_native_encoding() -> None:
    # Only strings with lone surrogates pay for the lossless record.
    assert serde.dumps_typed(["é", "x"])[1] == ormsgpack.packb(["é", "x"])


def test_dict_key_with_a_lone_surrogate_is_refused_with_its_path() -> None:
    with pytest.raises(UnserializableValueError) as caught:
        dumps_channel(serde, "files", {"ok": {ESCAPED: 1}})
    assert caught.value.path.startswith("state['files']['ok']<key ")
    assert "lone surrogate" in str(caught.value)


def test_corrupt_surrogate_record_is_our_error() -> None:
    inner = ormsgpack.packb(["str+surrogates", b"\xff\xfe"])  # not UTF-8 even with surrogates
    with pytest.raises(CorruptDataError) as caught:
        serde.loads_typed(("msgpack", ormsgpack.packb([ormsgpack.Ext(EXT_STDLIB, inner)])))
    assert caught.value.path == "value[0]<stdlib>" and caught.value.offset == 1


# -- huge ints and values that cannot be shown -----------------------------------------------


def test_huge_int_is_refused_with_a_clear_message() -> None:
    with pytest.raises(UnserializableValueError) as caught:
        serde.dumps_typed({"n": [10**5000]})
    assert caught.value.path == "value['n'][0]"
    assert "16610 bits" in str(caught.value) and "set_int_max_str_digits" in str(caught.value)


def test_ints_up_to_the_digit_limit_round_trip() -> None:
    big = 10 ** (sys.get_int_max_str_digits() - 1)
    assert round_trip(-big) == -big


def test_stored_huge_int_is_corrupt_not_a_raw_value_error() -> None:
    record = ormsgpack.Ext(EXT_STDLIB, ormsgpack.packb(["bigint", "9" * 10_000]))
    with pytest.raises(CorruptDataError, match="ValueError"):
        serde.loads_typed(("msgpack", ormsgpack.packb({"n": record})))


def test_shown_value_never_raises() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    assert shown_value(10**5000) == "<int of 16610 bits>"
    assert "repr() failed" in shown_value([10**5000])
    assert len(shown_value(deep)) <= 120
    assert shown_value(Broken())  # reprlib's placeholder, no exception


# -- nesting limits ---------------------------------------------------------------------------


def nested_lists(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = [value]
    return value


def nested_nodes(depth: int) -> Any:
    value: Any = None
    for _ in range(depth):
        value = Node(child=value)
    return value


def test_deepest_allowed_values_round_trip() -> None:
    assert round_trip(nested_lists(255)) == nested_lists(255)
    assert round_trip(nested_nodes(MAX_OBJECT_DEPTH)) == nested_nodes(MAX_OBJECT_DEPTH)


@pytest.mark.parametrize(
    ("value", "path_start"),
    [
        (nested_lists(100_000), "state['x'][0][0][0]"),
        (nested_nodes(MAX_OBJECT_DEPTH + 1), "state['x']"),
        (nested_nodes(3_000), "state['x'].child.child"),
        ({"ok": 1, "deep": nested_lists(300)}, "state['x']['deep'][0]"),
    ],
    ids=["lists", "objects-just-over", "objects", "inside-dict"],
)
def test_too_deep_values_are_refused_with_a_path(value: Any, path_start: str) -> None:
    with pytest.raises(UnserializableValueError) as caught:
        dumps_channel(serde, "x", value)
    assert caught.value.path.startswith(path_start)
    assert "nests too deeply" in str(caught.value)
    assert len(str(caught.value)) < 1_000  # a very deep path is shortened


def test_deep_nesting_in_stored_bytes_is_corrupt_with_offset() -> None:
    with pytest.raises(CorruptDataError, match="lists and dicts nest") as caught:
        serde.loads_typed(("msgpack", b"\x91" * 5_000 + b"\xc0"))
    assert caught.value.offset == 1022  # the first container past the limit


def test_deep_object_records_in_stored_bytes_are_corrupt_not_recursion() -> None:
    data = ormsgpack.packb(None)
    for _ in range(5_000):  # tuples inside tuples, each its own record
        data = ormsgpack.packb(ormsgpack.Ext(EXT_STDLIB, b"\x92\xa5tuple\x91" + data))
    with pytest.raises(CorruptDataError, match=f"more than {MAX_OBJECT_DEPTH} objects nest"):
        serde.loads_typed(("msgpack", data))


# -- where decoding errors point --------------------------------------------------------------


def test_corrupt_string_inside_a_message_names_offset_and_path() -> None:
    tag, data = serde.dumps_typed({"messages": [AIMessage("first"), HumanMessage("héllo")]})
    at = data.index("héllo".encode()) + 1  # the first byte of "é"
    broken = data[:at] + b"\xff" + data[at + 1 :]
    with pytest.raises(CorruptDataError) as caught:
        serde.loads_typed((tag, broken))
    assert caught.value.offset == at
    assert caught.value.path is not None
    assert caught.value.path.startswith("value['messages'][1]<message>")
    assert "not valid UTF-8" in str(caught.value)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (ormsgpack.Ext(77, b"\xc0"), "unknown extension code 77"),
        (ormsgpack.Ext(EXT_STDLIB, ormsgpack.packb(["nope", 1])), "unknown standard-library"),
        (ormsgpack.Ext(EXT_STDLIB, ormsgpack.packb(["datetime", [2020, 13]])), "TypeError"),
        (ormsgpack.Ext(EXT_STDLIB, ormsgpack.packb(["tuple"])), "not [tag, arguments]"),
        (ormsgpack.Ext(EXT_DATACLASS, ormsgpack.packb([1, 2, {}])), "non-strings"),
        (ormsgpack.Ext(EXT_DATACLASS, ormsgpack.packb([*NODE_KEY, [1]])), "misshapen"),
        (ormsgpack.Ext(EXT_DATACLASS, b""), "an object record is empty"),
    ],
    ids=["code", "tag", "args", "shape", "names", "fields", "empty"],
)
def test_malformed_records_are_corrupt_with_their_position(record: Any, reason: str) -> None:
    data = ormsgpack.packb({"a": [1, record]})
    with pytest.raises(CorruptDataError) as caught:
        serde.loads_typed(("msgpack", data))
    assert reason in str(caught.value)
    assert caught.value.offset == data.index(ormsgpack.packb(record))
    assert caught.value.path is not None and caught.value.path.startswith("value['a'][1]<")


def test_disallowed_type_is_still_a_refusal_not_corruption() -> None:
    record = ormsgpack.Ext(EXT_DATACLASS, ormsgpack.packb(["os", "system", {}]))
    with pytest.raises(DisallowedTypeError):
        serde.loads_typed(("msgpack", ormsgpack.packb([record])))


def test_truncated_bytes_are_corrupt_at_every_length() -> None:
    tag, data = serde.dumps_typed({"messages": [HumanMessage("hi", id="1")], "n": (1, {2})})
    for end in range(len(data)):
        with pytest.raises(CorruptDataError) as caught:
            serde.loads_typed((tag, data[:end]))
        assert caught.value.offset is not None and caught.value.offset <= end


def test_bad_legacy_json_and_tampered_ciphertext_are_our_errors() -> None:
    with pytest.raises(CorruptDataError, match="legacy JSON"):
        serde.loads_typed(("json", b'{"a": '))

    class Checked:
        def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
            return "sum", bytes([sum(plaintext) % 256]) + plaintext

        def decrypt(self, name: str, data: bytes) -> bytes:
            if data[0] != sum(data[1:]) % 256:
                raise ValueError("MAC check failed")
            return data[1:]

    encrypted = EncryptedSerializer(Checked(), serde)
    tag, data = encrypted.dumps_typed({"pin": 1234})
    assert encrypted.loads_typed((tag, data)) == {"pin": 1234}
    with pytest.raises(CorruptDataError, match="MAC check failed") as caught:
        encrypted.loads_typed((tag, data[:-1] + bytes([data[-1] ^ 1])))
    assert isinstance(caught.value.__cause__, ValueError)
