"""A low-level ``Pregel``'s input and output schemas come from its channels' types.

Expected values are what LangGraph 1.2.22 returns for the same programs (checked with the import
root swapped): one channel gives that channel's type as the whole value, a list of channels a
dict of optional fields, each typed by its channel (the update type for input, the value type
for output).
"""

from __future__ import annotations

import operator
from typing import Any

from threadloom.channels import BinaryOperatorAggregate, LastValue, Topic
from threadloom.pregel import NodeBuilder, Pregel


def _app(inputs: str | list[str], outputs: str | list[str]) -> Pregel:
    node = NodeBuilder().subscribe_only("count").do(lambda n: f"{n}!").write_to("label")
    return Pregel(
        nodes={"label": node},
        channels={
            "count": LastValue(int),
            "label": LastValue(str),
            "seen": Topic(int, accumulate=True),
            "total": BinaryOperatorAggregate(list, operator.add),
        },
        input_channels=inputs,
        output_channels=outputs,
    )


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    field: dict[str, Any] = schema["properties"][name]
    return field


def test_one_input_and_one_output_channel_are_typed_by_the_channel() -> None:
    app = _app("count", "label")
    assert app.input_schema.model_json_schema() == {"title": "LangGraphInput", "type": "integer"}
    assert app.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}
    assert (app.InputType, app.OutputType) == (int, str)
    assert app.invoke(3) == "3!"


def test_lists_of_channels_are_dicts_of_optional_typed_fields() -> None:
    app = _app(["count"], ["label", "seen", "total"])
    assert app.get_input_jsonschema() == {
        "title": "LangGraphInput",
        "type": "object",
        "properties": {"count": {"title": "Count", "type": "integer", "default": None}},
    }
    out = app.output_schema.model_json_schema()
    assert out["title"] == "LangGraphOutput"
    assert list(out["properties"]) == ["label", "seen", "total"]
    assert _field(out, "label") == {"title": "Label", "type": "string", "default": None}
    # a Topic's value is a sequence of its type
    assert _field(out, "seen")["items"] == {"type": "integer"}
    assert (app.InputType, app.OutputType) == (None, None)
    assert app.invoke({"count": 2}) == {"label": "2!", "total": []}


def test_an_input_topic_takes_one_value_or_a_list() -> None:
    node = NodeBuilder().subscribe_to("count", "more").do(lambda d: d["count"]).write_to("seen")
    app = Pregel(
        nodes={"n": node},
        channels={"count": LastValue(int), "seen": Topic(int), "more": Topic(int)},
        input_channels=["count", "more"],
        output_channels="seen",
    )
    more = _field(app.get_input_jsonschema(), "more")
    assert more["anyOf"] == [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]
    assert app.get_output_jsonschema() == {
        "title": "LangGraphOutput",
        "type": "array",
        "items": {"type": "integer"},
    }


def test_input_channels_reads_back_as_given() -> None:
    assert _app(["count"], "label").input_channels == ["count"]
    assert _app("count", "label").input_channels == "count"
    # with_config keeps the low-level schemas
    assert _app("count", "label").with_config(tags=["x"]).InputType is int
