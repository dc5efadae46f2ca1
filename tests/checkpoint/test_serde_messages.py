"""langchain-core messages on the serializer's direct path (``EXT_MESSAGE``): exact readback.

A message is stored with its fields read from the instance, defaults left out, and rebuilt
without validation. These tests build many message shapes and check that each comes back as
the same class, equal, with the same fields, fields set and extras, and equal to what the
generic pydantic path (how files written before the direct path hold messages) rebuilds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import ormsgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from layout_helpers import DATA, load_maker

from threadloom.checkpoint.serde._kinds import EXT_MESSAGE, EXT_PYDANTIC, kind_of, payload_reader
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import CorruptDataError, DisallowedTypeError

serde = JsonPlusSerializer()

text = st.text(max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
kwargs = st.dictionaries(text, json_values, max_size=3)
ids = st.none() | st.text(min_size=1, max_size=10)
content = text | st.lists(
    st.fixed_dictionaries({"type": st.just("text"), "text": text})
    | st.fixed_dictionaries({"type": st.just("image"), "url": text}),
    max_size=3,
)
tool_calls = st.lists(
    st.fixed_dictionaries(
        {"name": text, "args": st.dictionaries(text, json_values, max_size=2), "id": ids}
    ).map(lambda call: {**call, "type": "tool_call"}),
    max_size=2,
)
invalid_tool_calls = st.lists(
    st.fixed_dictionaries(
        {"name": st.none() | text, "args": st.none() | text, "id": ids, "error": st.none() | text}
    ).map(lambda call: {**call, "type": "invalid_tool_call"}),
    max_size=2,
)
usage = st.none() | st.fixed_dictionaries(
    {"input_tokens": st.integers(0, 10**6), "output_tokens": st.integers(0, 10**6)}
).map(lambda u: {**u, "total_tokens": u["input_tokens"] + u["output_tokens"]})
# Keyword arguments that are not fields become the message's extras.
extras = st.dictionaries(st.sampled_from(["lang", "score", "meta"]), json_values, max_size=2)


def _common(draw: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"content": draw(content)}
    for name, strategy in (("id", ids), ("name", st.none() | text)):
        if draw(st.booleans()):  # given, even as its default: the fields set must say so
            found[name] = draw(strategy)
    if draw(st.booleans()):
        found["additional_kwargs"] = draw(kwargs)
    if draw(st.booleans()):
        found["response_metadata"] = draw(kwargs)
    return {**found, **draw(extras)}


@st.composite
def messages(draw: Any) -> BaseMessage:
    kind = draw(st.sampled_from(range(9)))
    common = _common(draw)
    if kind == 0:
        return HumanMessage(**common)
    if kind == 1:
        return SystemMessage(**common)
    if kind == 2:
        return AIMessage(
            **common,
            tool_calls=draw(tool_calls),
            invalid_tool_calls=draw(invalid_tool_calls),
            usage_metadata=draw(usage),
        )
    if kind == 3:
        return ToolMessage(
            **common,
            tool_call_id=draw(text),
            artifact=draw(json_values),
            status=draw(st.sampled_from(["success", "error"])),
        )
    if kind == 4:
        return ChatMessage(**common, role=draw(text))
    if kind == 5:
        common.pop("name", None)
        return FunctionMessage(**common, name=draw(text))
    if kind == 6:
        return RemoveMessage(id=draw(st.text(min_size=1, max_size=10)))
    if kind == 7:
        return AIMessageChunk(
            **common,
            tool_call_chunks=draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "name": st.none() | text,
                            "args": st.none() | text,
                            "id": ids,
                            "index": st.none() | st.integers(0, 5),
                        }
                    ),
                    max_size=2,
                )
            ),
        )
    return HumanMessageChunk(**common)


def _same(back: Any, message: BaseMessage) -> None:
    assert type(back) is type(message)
    assert back == message
    assert back.__dict__ == message.__dict__
    assert back.model_fields_set == message.model_fields_set
    assert back.__pydantic_extra__ == message.__pydantic_extra__
    assert back.__pydantic_private__ == message.__pydantic_private__


def _generic_record(message: BaseMessage) -> bytes:
    """The message as the generic pydantic path writes it (how older files hold messages)."""
    cls = type(message)
    fields = payload_reader(cls, EXT_PYDANTIC)(message)
    inner = serde._codec.pack([cls.__module__, cls.__qualname__, *fields], 1)
    return ormsgpack.packb(ormsgpack.Ext(EXT_PYDANTIC, inner))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_messages_come_back_exactly_and_as_the_generic_path_rebuilds_them(
    message: BaseMessage,
) -> None:
    assert kind_of(type(message)) == EXT_MESSAGE
    tag, data = serde.dumps_typed(message)
    back = serde.loads_typed((tag, data))
    _same(back, message)
    generic = _generic_record(message)
    _same(serde.loads_typed(("msgpack", generic)), message)  # older files read as before
    assert len(data) <= len(generic)  # defaults left out


def _fields_by_rule(message: BaseMessage) -> dict[str, Any]:
    """The fields a message record holds, by the rule, one field at a time: each field whose
    value is not of its default's type or differs from it, in field order, then the extras."""
    fields = {}
    for name, field in type(message).model_fields.items():
        value = message.__dict__[name]
        if field.is_required():
            fields[name] = value
            continue
        default = field.default_factory() if field.default_factory else field.default
        if type(value) is not type(default) or value != default:
            fields[name] = value
    return {**fields, **(message.__pydantic_extra__ or {})}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.sampled_from([None, (1, "a"), 1.5, True, {"k": [1]}]))
def test_a_message_record_holds_the_fields_off_their_defaults_in_order(
    message: BaseMessage, odd: Any
) -> None:
    # The reader compares every field at once when all hold plain values, else one by one
    # (a tuple, say, in a field typed Any): both keep the same fields, in the same order.
    if isinstance(message, ToolMessage) and odd is not None:
        message.artifact = odd
    read = payload_reader(type(message), EXT_MESSAGE)(message)
    expected = _fields_by_rule(message)
    assert list(read[0].items()) == list(expected.items())
    assert read[1] == sorted(message.model_fields_set)
    _same(serde.loads_typed(serde.dumps_typed(message)), message)


@settings(max_examples=50, deadline=None)
@given(st.lists(messages(), max_size=4))
def test_a_history_comes_back_exactly(history: list[BaseMessage]) -> None:
    back = serde.loads_typed(serde.dumps_typed({"messages": history}))["messages"]
    assert len(back) == len(history)
    for got, message in zip(back, history, strict=True):
        _same(got, message)


def test_a_rebuilt_message_owns_its_defaults() -> None:
    first, second = (serde.loads_typed(serde.dumps_typed(AIMessage("x"))) for _ in range(2))
    first.additional_kwargs["k"] = 1
    first.tool_calls.append({"name": "f", "args": {}, "id": "c", "type": "tool_call"})
    assert second.additional_kwargs == {} and second.tool_calls == []
    assert serde.loads_typed(serde.dumps_typed(AIMessage("x"))).additional_kwargs == {}


class MyMessage(AIMessage):
    """A user's subclass: its validators and state are its own, so it takes the generic path."""


def test_a_users_message_subclass_takes_the_generic_path() -> None:
    assert kind_of(MyMessage) == EXT_PYDANTIC
    lenient = JsonPlusSerializer(allowed_msgpack_modules=[MyMessage])
    message = MyMessage("hi", id="m1")
    _same(lenient.loads_typed(lenient.dumps_typed(message)), message)


def _message_record(module: str, qualname: str) -> bytes:
    inner = ormsgpack.packb([module, qualname, {"content": "x"}, ["content"]])
    return ormsgpack.packb(ormsgpack.Ext(EXT_MESSAGE, inner))


def test_a_message_record_naming_a_class_that_is_not_a_message_is_refused() -> None:
    strict = JsonPlusSerializer(allowed_msgpack_modules=[MyMessage])
    with pytest.raises(CorruptDataError, match="is a kind of object it is not"):
        strict.loads_typed(("msgpack", _message_record(__name__, "MyMessage")))
    with pytest.raises(DisallowedTypeError):
        serde.loads_typed(("msgpack", _message_record("os", "system")))


def test_a_file_written_before_message_records_reads_the_same(tmp_path: Path) -> None:
    maker = load_maker("make_messages_v1")
    path = tmp_path / "chat.sqlite"
    shutil.copy(DATA / "messages_v1.sqlite", path)
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = maker.build(saver)
        stored = graph.get_state(maker.THREAD).values["messages"]
        assert len(stored) == len(maker.history())
        for got, message in zip(stored, maker.history(), strict=True):
            _same(got, message)
        graph.invoke({"messages": [HumanMessage("and tomorrow?", id="h2")]}, maker.THREAD)
        again = graph.get_state(maker.THREAD).values["messages"]
    # the answer's messages carry the same ids: replaced in place, after the new question
    assert [m.id for m in again] == ["s1", "h1", "a1", "t1", "a2", "h2"]
    for got, message in zip(again, maker.history(), strict=False):
        _same(got, message)
