"""State schemas as LangGraph 1.2.22 reads them: a value passed where a schema type belongs warns,
a node's return annotation declares state keys, a callable object's annotations count, a router
annotated with its own schema reads that schema's keys, ``StateGraph.managed``, and the private
helpers of ``graph.state`` that LangGraph programs import."""

from __future__ import annotations

import operator
import warnings
from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from threadloom.channels import EphemeralValue, Topic
from threadloom.graph import END, START, StateGraph
from threadloom.graph.state import _get_node_name, _is_field_channel, _warn_invalid_state_schema
from threadloom.managed import IsLastStep, RemainingSteps


class Model(BaseModel):
    foo: str


class Keys(TypedDict):
    foo: str


@pytest.mark.parametrize("value", [{"foo": "bar"}, ["hi"], Model(foo="x"), Keys(foo="x")])
def test_a_value_given_as_a_schema_warns(value: Any) -> None:
    with pytest.warns(UserWarning, match="Invalid state_schema"):
        _warn_invalid_state_schema(value)
    with pytest.warns(UserWarning, match="Invalid state_schema"):
        StateGraph(Keys, input_schema=value)


@pytest.mark.parametrize("schema", [Keys, Model, dict, Annotated[list, operator.add]])
def test_a_type_does_not_warn(schema: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_invalid_state_schema(schema)
        StateGraph(schema)


def test_node_names_as_langgraph_derives_them() -> None:
    class Callable:
        def __call__(self, state: Any) -> Any:
            return state

        def method(self, state: Any) -> Any:
            return state

    assert _get_node_name(lambda s: s) == "<lambda>"
    assert _get_node_name(Callable()) == "Callable"
    assert _get_node_name(Callable().method) == "method"


def test_field_channels_are_found_anywhere_in_the_metadata() -> None:
    found = _is_field_channel(Annotated[str, "doc", EphemeralValue, "more"])
    assert isinstance(found, EphemeralValue) and found.typ is str
    given = Topic(int)
    assert _is_field_channel(Annotated[int, "doc", given]) is given
    assert _is_field_channel(int) is None
    assert _is_field_channel(Annotated[int, "just doc"]) is None


class In(TypedDict):
    question: str


class Out(TypedDict):
    answer: str


class Extra(TypedDict):
    note: str


def test_return_annotations_and_callable_objects_declare_state_keys() -> None:
    def first(state: In) -> Extra:
        return {"note": "from a key only the return annotation declares"}

    class Second:
        def __call__(self, state: Extra) -> Out:
            return {"answer": state["note"]}

    graph = (
        StateGraph(In, output_schema=Out)
        .add_node("first", first)
        .add_node("second", Second())
        .add_edge(START, "first")
        .add_edge("first", "second")
        .compile()
    )
    assert graph.invoke({"question": "?"}) == {
        "answer": "from a key only the return annotation declares"
    }


class Overall(TypedDict):
    foo: Annotated[int, operator.add]
    bar: str


class Private(TypedDict):
    baz: str


def test_a_router_reads_the_keys_of_its_own_schema() -> None:
    seen: dict[str, Any] = {}

    def node(state: Overall) -> dict[str, Any]:
        return {"foo": 1, "bar": "b", "baz": "z", "not_a_key": 0}

    def typed(state: Overall) -> str:
        seen["typed"] = state
        return END

    def private(state: Private) -> str:
        seen["private"] = state
        return END

    builder = StateGraph(Overall).add_node("node", node).add_edge(START, "node")
    builder.add_conditional_edges("node", typed)
    builder.add_conditional_edges("node", private)
    assert builder.compile().invoke({"foo": 1}) == {"foo": 2, "bar": "b"}
    assert seen == {"typed": {"foo": 2, "bar": "b"}, "private": {"baz": "z"}}


def test_managed_keys_of_the_graph() -> None:
    class State(TypedDict):
        remaining: RemainingSteps
        last: IsLastStep
        value: int

    assert set(StateGraph(State).managed) == {"remaining", "last"}
