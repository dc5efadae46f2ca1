"""The compiled graph as a LangChain ``Runnable``: composition, retry, tool, schemas.

The expected schemas were observed on LangGraph 1.2.22 for the same state classes.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import pytest
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel
from typing_extensions import TypedDict

from threadloom.func import entrypoint
from threadloom.graph import START, StateGraph, add_messages


class State(TypedDict):
    x: int
    messages: Annotated[list[Any], add_messages]


class In(TypedDict):
    x: int


class Out(TypedDict):
    messages: list[Any]


class Model(BaseModel):
    x: int = 0
    y: str


@dataclasses.dataclass
class Data:
    x: int
    z: list[str] = dataclasses.field(default_factory=list)


class Context(TypedDict):
    user: str


def _bump(state: Any) -> dict[str, Any]:
    x = state["x"] if isinstance(state, dict) else state.x
    return {"x": x + 1}


def _compiled(schema: Any, **kwargs: Any) -> Any:
    builder = StateGraph(schema, **kwargs)
    builder.add_node("bump", _bump)
    builder.add_edge(START, "bump")
    return builder.compile()


def test_a_compiled_graph_composes_as_a_runnable() -> None:
    graph = _compiled(In)
    assert isinstance(graph, Runnable)
    assert graph.get_name() == "LangGraph"
    assert (graph | RunnableLambda(lambda out: out["x"] * 10)).invoke({"x": 1}) == 20
    assert graph.with_retry(stop_after_attempt=2).invoke({"x": 1}) == {"x": 2}
    assert graph.pick("x").invoke({"x": 4}) == 5
    assert graph.batch([{"x": 1}, {"x": 2}]) == [{"x": 2}, {"x": 3}]
    bound = graph.with_config(tags=["a"])
    assert type(bound) is type(graph)  # still ours (get_state etc.)
    assert bound.invoke({"x": 5}) == {"x": 6}


def test_as_tool_takes_the_input_keys_as_arguments() -> None:
    graph = _compiled(In)
    with pytest.warns(Warning):  # langchain-core marks as_tool beta
        as_tool = graph.as_tool(name="bump", description="Add one to x")
    assert as_tool.args == {"x": {"title": "X", "type": "integer"}}
    assert as_tool.invoke({"x": 1}) == {"x": 2}


def test_typed_dict_schemas() -> None:
    graph = _compiled(State)
    assert graph.InputType is State
    assert graph.OutputType is None
    schema = {
        "properties": {
            "messages": {"items": {}, "title": "Messages", "type": "array"},
            "x": {"title": "X", "type": "integer"},
        },
        "required": ["x", "messages"],
        "title": "State",
        "type": "object",
    }
    assert graph.get_input_jsonschema() == schema
    assert graph.get_output_jsonschema() == schema
    assert graph.input_schema.__name__ == "LangGraphInput"
    assert graph.output_schema.__name__ == "LangGraphOutput"
    assert graph.output_schema.model_json_schema() == {
        "properties": {
            "x": {"default": None, "title": "X", "type": "integer"},
            "messages": {"default": None, "items": {}, "title": "Messages", "type": "array"},
        },
        "title": "LangGraphOutput",
        "type": "object",
    }
    assert graph.get_context_jsonschema() is None
    assert graph.config_specs == []


def test_input_and_output_schemas_apart() -> None:
    graph = _compiled(State, input_schema=In, output_schema=Out)
    assert graph.InputType is In
    assert graph.get_input_jsonschema()["title"] == "In"
    assert graph.get_input_jsonschema()["required"] == ["x"]
    assert graph.get_output_jsonschema() == {
        "properties": {"messages": {"items": {}, "title": "Messages", "type": "array"}},
        "required": ["messages"],
        "title": "Out",
        "type": "object",
    }


def test_pydantic_and_dataclass_schemas() -> None:
    graph = _compiled(Model)
    assert graph.input_schema is Model
    assert graph.get_input_jsonschema() == Model.model_json_schema()
    assert graph.get_output_jsonschema() == Model.model_json_schema()

    graph = _compiled(Data)
    expected = {
        "properties": {
            "x": {"title": "X", "type": "integer"},
            "z": {"default": [], "items": {"type": "string"}, "title": "Z", "type": "array"},
        },
        "required": ["x"],
        "type": "object",
    }
    assert graph.get_input_jsonschema() == {**expected, "title": "LangGraphInput"}
    assert graph.get_output_jsonschema() == {**expected, "title": "LangGraphOutput"}


def test_context_schema() -> None:
    graph = _compiled(State, context_schema=Context)
    assert graph.get_context_jsonschema() == {
        "properties": {"user": {"title": "User", "type": "string"}},
        "required": ["user"],
        "title": "Context",
        "type": "object",
    }


def test_entrypoint_schemas_come_from_its_annotations() -> None:
    @entrypoint()
    def typed(x: int) -> str:
        return str(x)

    @entrypoint()
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    assert typed.InputType is int
    assert typed.OutputType is str
    assert typed.get_input_jsonschema() == {"title": "LangGraphInput", "type": "integer"}
    assert typed.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}
    assert untyped.get_input_jsonschema() == {"title": "LangGraphInput"}
    assert (typed | RunnableLambda(len)).invoke(12345) == 5


def test_an_entrypoint_returning_final_outputs_the_value_type() -> None:
    @entrypoint()
    def bare(x: int, *, previous: Any) -> entrypoint.final:  # type: ignore[type-arg]
        return entrypoint.final(value=x, save=x)

    @entrypoint()
    def typed(x: int, *, previous: Any) -> entrypoint.final[str, int]:
        return entrypoint.final(value=str(x), save=x)

    assert bare.get_output_jsonschema() == {"title": "LangGraphOutput"}
    assert typed.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}
