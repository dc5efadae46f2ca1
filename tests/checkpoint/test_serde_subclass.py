"""A ``JsonPlusSerializer`` subclass keeps its class through ``with_msgpack_allowlist``, as in
LangGraph: a graph widens its saver's allow-list with the state's types when it compiles, and
that must not swap a custom serializer for the plain one."""

from __future__ import annotations

import dataclasses

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer


@dataclasses.dataclass
class Point:
    x: int


class Tagged(JsonPlusSerializer):
    def __init__(self) -> None:  # takes no arguments, as LangGraph's test subclass
        super().__init__(allowed_msgpack_modules=None)
        self.tag = "mine"


def test_widening_keeps_the_subclass_and_its_attributes() -> None:
    serde = Tagged()
    widened = serde.with_msgpack_allowlist([Point])
    assert type(widened) is Tagged and widened is not serde
    assert widened.tag == "mine"
    assert widened.loads_typed(widened.dumps_typed(Point(1))) == Point(1)
    assert serde.with_msgpack_allowlist(()) is serde  # nothing added: the same serializer


def test_a_saver_widened_for_a_graph_keeps_its_serializer_class() -> None:
    saver = InMemorySaver(serde=Tagged())
    widened = saver.with_allowlist([(Point.__module__, Point.__name__)])
    assert type(widened.serde) is Tagged
    assert widened.serde.tag == "mine"  # type: ignore[attr-defined]
