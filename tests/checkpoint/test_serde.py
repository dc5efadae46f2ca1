"""The strict serializer (CONTRACT 1.12, DECISIONS 7-8)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import decimal
import enum
import ipaddress
import os
import pathlib
import re
import sys
import uuid
import zoneinfo
from typing import Any, NamedTuple

import numpy as np
import ormsgpack
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)

from threadloom.checkpoint.serde import event_hooks
from threadloom.checkpoint.serde._arrays import join_arrays
from threadloom.checkpoint.serde._codec import EXT_DATACLASS, EXT_OBJECT
from threadloom.checkpoint.serde.base import (
    SerializerCompat,
    SerializerProtocol,
    dumps_channel,
    maybe_add_typed_methods,
)
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import DisallowedTypeError, SerializationError, UnserializableValueError


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: tuple[int, int] = (0, 0)
    tags: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(frozen=True, slots=True)
class Frozen:
    name: str
    computed: int = dataclasses.field(init=False, default=7)


class Pair(NamedTuple):
    left: int
    right: str


class Model(pydantic.BaseModel):
    name: str
    items: tuple[int, ...] = ()
    when: dt.datetime | None = None
    point: Point | None = None


class Label(str):
    pass


class Plain:
    __slots__ = ("a", "b")

    def __init__(self, a: int, b: list[int]) -> None:
        self.a, self.b = a, b

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plain) and (self.a, self.b) == (other.a, other.b)


USER_TYPES = [Color, Point, Frozen, Pair, Model, Label, Plain]
serde = JsonPlusSerializer()
allowing = JsonPlusSerializer(allowed_msgpack_modules=USER_TYPES)

SAFE_VALUES = [
    None,
    b"raw",
    bytearray(b"ba"),
    0,
    -5,
    2**70,
    -(2**80),
    1.5,
    float("inf"),
    True,
    "text",
    "sur\udc80rogate",
    [1, [2, (3, 4)]],
    (1, "a", (None,)),
    {"k": 1, 2: "int key", (1, 2): "tuple key"},
    {1, 2},
    frozenset({"a"}),
    collections.deque([1, 2], maxlen=3),
    collections.OrderedDict(a=1),
    collections.Counter("aab"),
    complex(1, 2),
    range(1, 9, 2),
    dt.datetime(2026, 1, 2, 3, 4, 5, 6),
    dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 2, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    dt.date(2026, 1, 2),
    dt.time(1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=-3), "X")),
    dt.timedelta(days=-1, seconds=5, microseconds=7),
    dt.timezone(dt.timedelta(hours=5)),
    uuid.uuid4(),
    decimal.Decimal("1.10"),
    pathlib.Path("/a/b"),
    pathlib.PurePosixPath("x/y"),
    pathlib.PureWindowsPath("C:/x"),
    re.compile(r"a+\d", re.I | re.M),
    ipaddress.ip_address("10.0.0.1"),
    ipaddress.ip_address("::1"),
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_interface("10.1.2.3/24"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_interface("fe80::1/64"),
    zoneinfo.ZoneInfo("America/New_York"),
    HumanMessage("hi", id="1", name="me"),
    AIMessage(
        "yo",
        tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1"}],
        usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    ),
    AIMessageChunk("part"),
    SystemMessage("sys"),
    ToolMessage("out", tool_call_id="c1"),
    RemoveMessage(id="1"),
    Document(page_content="doc", metadata={"source": "x"}),
]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, re.Pattern):
        return type(b) is re.Pattern and (a.pattern, a.flags) == (b.pattern, b.flags)
    if isinstance(a, float) and a != a:
        return b != b
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("value", SAFE_VALUES, ids=lambda v: type(v).__name__)
def test_round_trip_keeps_type_and_value(value: Any) -> None:
    back = serde.loads_typed(serde.dumps_typed(value))
    assert same(value, back), (value, back)  # lone surrogates included: nothing is replaced
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        assert type(back.tzinfo) is type(value.tzinfo)


def test_type_tags() -> None:
    assert serde.dumps_typed(None) == ("null", b"")
    assert serde.dumps_typed(b"x") == ("bytes", b"x")
    assert serde.dumps_typed(bytearray(b"x")) == ("bytearray", b"x")
    assert serde.dumps_typed({"a": 1})[0] == "msgpack"
    assert serde.loads_typed(("json", b'{"a": [1]}')) == {"a": [1]}
    with pytest.raises(NotImplementedError, match="Unknown serialization type: nope"):
        serde.loads_typed(("nope", b""))
    with pytest.raises(SerializationError, match="never unpickles"):
        serde.loads_typed(("pickle", b"\x80\x04."))
    with pytest.raises(ValueError, match="pickle_fallback"):
        JsonPlusSerializer(pickle_fallback=True)


def test_exceptions_store_as_repr() -> None:
    assert (
        serde.loads_typed(serde.dumps_typed(ValueError("bad fails"))) == "ValueError('bad fails')"
    )


def test_numpy_arrays_and_scalars() -> None:
    array = np.arange(6, dtype=np.int32).reshape(2, 3)
    back = serde.loads_typed(serde.dumps_typed(array))
    assert back.dtype == array.dtype and (back == array).all() and back.flags.writeable
    scalar = serde.loads_typed(serde.dumps_typed(np.float64(2.5)))
    assert type(scalar) is np.float64 and scalar == 2.5
    with pytest.raises(UnserializableValueError, match="numpy arrays of Python objects"):
        serde.dumps_typed(np.array([object()]))


@pytest.mark.parametrize(
    "value",
    [
        Color.BLUE,
        Point(1, (2, 3), {"a"}),
        Frozen("f"),
        Pair(1, "r"),
        Model(name="m", items=(1, 2), when=dt.datetime(2026, 1, 1), point=Point(3)),
        Label("lbl"),
        Plain(1, [2]),
    ],
    ids=lambda v: type(v).__name__,
)
def test_allowed_user_types_round_trip(value: Any) -> None:
    back = allowing.loads_typed(allowing.dumps_typed(value))
    assert same(value, back)
    if isinstance(value, Model):
        assert back.model_fields_set == value.model_fields_set and type(back.items) is tuple
        assert type(back.point) is Point


class PlainMore(Plain):
    __slots__ = "c"


def test_slotted_objects_of_one_class_encode_their_own_slots() -> None:
    # The encoder remembers per class what it checked; each object still gives its own state,
    # an unset slot included (left out, so it stays unset after loading).
    codec = JsonPlusSerializer(allowed_msgpack_modules=[PlainMore])
    unset = PlainMore(1, [2])
    full = PlainMore(3, [4])
    full.c = "c"
    for _ in range(2):
        back_unset = codec.loads_typed(codec.dumps_typed(unset))
        back_full = codec.loads_typed(codec.dumps_typed(full))
        assert (back_unset.a, back_unset.b, hasattr(back_unset, "c")) == (1, [2], False)
        assert (back_full.a, back_full.b, back_full.c) == (3, [4], "c")
    with pytest.raises(UnserializableValueError):  # another serializer's allow-list still rules
        serde.dumps_typed(full)


def test_a_save_sharing_encodings_encodes_each_object_once_to_the_same_bytes() -> None:
    # A save that meets one object twice (a Send in a task's writes and in the checkpoint's
    # packets) encodes it once; the bytes are what a serializer without sharing writes.
    from threadloom.types import Send

    plain = JsonPlusSerializer(allowed_msgpack_modules=[Point])
    send = Send("worker", {"item": 1, "at": dt.datetime(2024, 1, 2, tzinfo=dt.UTC)})
    point = Point(1, tags={"a"})
    values = [[send, point], {"deeper": [send, (point,)]}, send]
    expected = [plain.dumps_typed(v) for v in values]  # also makes the classes known
    reads: list[Any] = []

    def counted(read: Any) -> Any:
        def read_counted(obj: Any) -> Any:
            reads.append(obj)
            return read(obj)

        return read_counted

    headers = plain._codec._headers  # (a Send's own reader: test_serde_send.py)
    kind, module, qualname, read = headers[Point]  # count how often a point's state is read
    headers[Point] = (kind, module, qualname, counted(read))
    share = plain.sharing_encodings()
    shared = [share.dumps_typed(v) for v in values]
    assert shared == expected
    # once per record depth: lists and dicts add none, the tuple (a record) one
    assert reads.count(point) == 2
    assert plain.loads_typed(shared[2]) == send
    assert plain._memo is None  # the serializer itself keeps nothing alive between saves


@pytest.mark.parametrize("value", [Color.RED, Point(1), Pair(1, "a"), Model(name="x"), Label("l")])
def test_strict_encode_refuses_unregistered_types(value: Any) -> None:
    with pytest.raises(UnserializableValueError) as caught:
        serde.dumps_typed({"outer": [value]}, root="state['k']")
    assert caught.value.path == "state['k']['outer'][0]"
    assert "allow-list" in str(caught.value) and "with_allowlist" in str(caught.value)


def test_error_path_through_messages() -> None:
    messages = [
        HumanMessage("a"),
        SystemMessage("b"),
        AIMessage("c"),
        AIMessage("d", additional_kwargs={"x": {1, lambda: 0}}),
    ]
    with pytest.raises(UnserializableValueError) as caught:
        dumps_channel(serde, "messages", messages)
    assert str(caught.value).startswith(
        "cannot serialize state['messages'][3].additional_kwargs['x']<item "
    )
    assert "code or handles" in str(caught.value)


def test_error_on_unencodable_dict_key() -> None:
    with pytest.raises(UnserializableValueError, match=r"value\['a'\]<key frozenset\(\{1\}\)>"):
        serde.dumps_typed({"a": {frozenset({1}): 1}})
    with pytest.raises(UnserializableValueError, match="within 64 bits"):
        serde.dumps_typed({-(2**63) - 1: 1})


def evil_bytes(code: int, module: str, name: str, payload: Any) -> bytes:
    inner = ormsgpack.packb([module, name, payload])
    return ormsgpack.packb({"state": ormsgpack.Ext(code, inner)})


@pytest.mark.parametrize("code", [EXT_DATACLASS, EXT_OBJECT, 2, 4, 5, 6, 7])
def test_named_types_outside_allowlist_are_never_imported_or_called(
    code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a))
    for module, name in [("os", "system"), ("threadloom_evil_module", "run")]:
        with pytest.raises(DisallowedTypeError) as caught:
            serde.loads_typed(("msgpack", evil_bytes(code, module, name, ["echo pwned"])))
        assert (caught.value.module, caught.value.name) == (module, name)
    assert calls == []
    assert "threadloom_evil_module" not in sys.modules


def test_allowed_name_with_wrong_kind_is_refused() -> None:
    data = evil_bytes(EXT_DATACLASS, "uuid", "UUID", {"hex": "0" * 32})
    permissive = JsonPlusSerializer(allowed_msgpack_modules=True)
    with pytest.raises(SerializationError, match="kind of object it is not"):
        permissive.loads_typed(("msgpack", data))


def test_blocked_event_is_emitted() -> None:
    events: list[Any] = []
    unregister = event_hooks.register_serde_event_listener(events.append)
    try:
        with pytest.raises(DisallowedTypeError):
            serde.loads_typed(("msgpack", evil_bytes(EXT_OBJECT, "os", "system", {})))
    finally:
        unregister()
    assert events == [{"kind": "msgpack_blocked", "module": "os", "name": "system"}]


def test_registering_by_name_and_with_allowlist() -> None:
    data = allowing.dumps_typed(Point(1))
    with pytest.raises(DisallowedTypeError):
        serde.loads_typed(data)
    by_name = JsonPlusSerializer(allowed_msgpack_modules=[(Point.__module__, "Point")])
    assert by_name.loads_typed(data) == Point(1)
    widened = serde.with_allowlist([Point])
    assert widened is not serde and widened.loads_typed(data) == Point(1)
    assert widened.with_allowlist([Point]) is widened  # nothing new: same object
    assert serde.with_allowlist([HumanMessage]) is serde  # already safe
    with pytest.raises(TypeError, match="neither a class"):
        JsonPlusSerializer(allowed_msgpack_modules=["Point"])  # type: ignore[list-item]


def test_allowed_class_that_changed_shape_keeps_raw_data() -> None:
    data = evil_bytes(EXT_DATACLASS, Point.__module__, "Point", {"x": 1})
    lenient = JsonPlusSerializer(allowed_msgpack_modules=[(Point.__module__, "Missing")])
    with pytest.raises(DisallowedTypeError):
        lenient.loads_typed(("msgpack", data))
    gone = evil_bytes(EXT_DATACLASS, "threadloom_gone_module", "Point", {"x": 1})
    remembers = JsonPlusSerializer(allowed_msgpack_modules=[("threadloom_gone_module", "Point")])
    assert remembers.loads_typed(("msgpack", gone)) == {"state": {"x": 1}}


def test_untyped_serializers_are_wrapped() -> None:
    class Untyped:
        def dumps(self, obj: Any) -> bytes:
            return repr(obj).encode()

        def loads(self, data: bytes) -> Any:
            return data.decode()

    wrapped = maybe_add_typed_methods(Untyped())
    assert isinstance(wrapped, SerializerCompat) and isinstance(wrapped, SerializerProtocol)
    assert wrapped.dumps_typed(5) == ("int", b"5")
    assert maybe_add_typed_methods(serde) is serde
    with pytest.raises(TypeError, match="not a serializer"):
        maybe_add_typed_methods(object())


def test_dumps_channel_keeps_foreign_errors_and_notes_the_path() -> None:
    class Failing:
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
            raise RuntimeError("boom")

        def loads_typed(self, data: tuple[str, bytes]) -> Any:
            return None

    with pytest.raises(RuntimeError, match="boom") as caught:  # LangGraph lets it through too
        dumps_channel(Failing(), "x", 1)
    assert caught.value.__notes__ == ["while Failing serialized state['x']"]


def test_join_arrays() -> None:
    parts = [ormsgpack.packb(list(range(n))) for n in (0, 3, 20, 70000)]
    joined = join_arrays(parts)
    assert joined is not None
    assert ormsgpack.unpackb(joined) == [*range(3), *range(20), *range(70000)]
    assert join_arrays([ormsgpack.packb({"a": 1})]) is None


# -- property: any mix of supported values round-trips with types kept (DECISIONS 8) ----------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**100), max_value=2**100),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.uuids(),
    st.decimals(allow_nan=False),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.sampled_from(list(Color)),
    st.builds(Pair, st.integers(-5, 5), st.text(max_size=3)),
)
hashable = st.recursive(
    scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3), max_leaves=6
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        # keys: msgpack map keys (ints within 64 bits); see docs/serialization.md
        st.dictionaries(
            st.one_of(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1)), inner, max_size=4
        ),
        st.sets(hashable, max_size=4),
        st.frozensets(hashable, max_size=3),
        st.builds(Point, st.integers(), st.tuples(st.integers(), st.integers())),
        st.builds(lambda s: HumanMessage(s), st.text(max_size=10)),
    ),
    max_leaves=12,
)


def deep_same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(deep_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_same(v, b[k]) for k, v in a.items())
    if isinstance(a, dt.datetime | dt.time) and a.tzinfo is not None:
        return a == b and a.utcoffset() == b.utcoffset() and type(a.tzinfo) is type(b.tzinfo)
    return bool(a == b)


@settings(max_examples=300, deadline=None)
@given(values)
def test_property_round_trip(value: Any) -> None:
    back = allowing.loads_typed(allowing.dumps_typed(value))
    assert deep_same(value, back), (value, back)
