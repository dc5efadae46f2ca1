"""LangGraph's deprecated names and arguments warn where LangGraph 1.2.22 warns (with its
``LangGraphDeprecatedSince*`` classes, so programs filtering them keep working) and still work."""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any, NotRequired

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import GraphInterrupt, NodeInterrupt
from threadloom.func import entrypoint
from threadloom.graph import START, StateGraph
from threadloom.types import Interrupt, Send
from threadloom.warnings import LangGraphDeprecatedSinceV10


class Context(TypedDict):
    user: str


class Durability(TypedDict):
    durability: NotRequired[str]


def _durability_graph() -> Any:
    def node(state: Durability, config: RunnableConfig) -> Durability:
        return {"durability": config["configurable"]["__pregel_durability"]}

    builder = StateGraph(Durability).add_node("node", node).add_edge(START, "node")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize(("checkpoint_during", "durability"), [(True, "async"), (False, "exit")])
def test_checkpoint_during_warns_and_sets_the_durability(
    checkpoint_during: bool, durability: str
) -> None:
    graph, config = _durability_graph(), {"configurable": {"thread_id": "1"}}
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`checkpoint_during` is deprecated"):
        assert graph.invoke({}, config, checkpoint_during=checkpoint_during) == {
            "durability": durability
        }
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`checkpoint_during` is deprecated"):
        chunks = list(graph.stream({}, config, checkpoint_during=checkpoint_during))
    assert chunks == [{"node": {"durability": durability}}]


def test_checkpoint_during_and_durability_together_are_refused() -> None:
    graph = _durability_graph()
    config = {"configurable": {"thread_id": "1"}}
    with (
        pytest.warns(LangGraphDeprecatedSinceV10),
        pytest.raises(ValueError, match="checkpoint_during=True and durability='sync'"),
    ):
        graph.invoke({}, config, checkpoint_during=True, durability="sync")


def test_config_schema_methods_warn_and_describe_the_context() -> None:
    builder = StateGraph(Durability, context_schema=Context)
    graph = builder.add_node("n", lambda s: s).add_edge(START, "n").compile()
    assert graph.context_schema is Context
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`config_schema` is deprecated"):
        model = graph.config_schema(include=["tags"])
    assert set(model.model_fields) == {"configurable", "tags"}
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`get_config_jsonschema` is deprecated"):
        schema = graph.get_config_jsonschema()
    assert schema["properties"]["configurable"]["$ref"].endswith("Context")


def test_entrypoint_config_schema_is_the_context_schema() -> None:
    with pytest.warns(LangGraphDeprecatedSinceV10, match="`config_schema` is deprecated"):

        @entrypoint(config_schema=Context)
        def run(value: int) -> int:
            return value

    assert run.context_schema is Context


def test_a_mistyped_config_parameter_warns_when_the_node_is_added() -> None:
    builder = StateGraph(Durability)

    def typed_dict(state: Durability, config: dict[str, Any]) -> Durability:
        return state

    def typed_any(state: Durability, config: Any) -> Durability:
        return state

    for node in (typed_dict, typed_any):
        with pytest.warns(UserWarning, match="'config' parameter should be typed as"):
            builder.add_node(node)

    def good(state: Durability, config: RunnableConfig) -> Durability:
        return state

    def optional(state: Durability, config: RunnableConfig | None = None) -> Durability:
        return state

    def untyped(state, config):  # type: ignore[no-untyped-def]
        return state

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for node in (good, optional, untyped):
            builder.add_node(node)
        builder.add_edge(START, "good")
        builder.compile()  # and no second warning when compiling


def test_node_interrupt_warns_and_still_interrupts() -> None:
    with pytest.warns(LangGraphDeprecatedSinceV10, match="NodeInterrupt is deprecated"):
        error = NodeInterrupt("why?")
    assert isinstance(error, GraphInterrupt)
    assert [i.value for i in error.interrupts] == ["why?"]


def test_message_graph_warns_and_merges_messages() -> None:
    from threadloom.graph.message import MessageGraph

    with pytest.warns(LangGraphDeprecatedSinceV10, match="MessageGraph is deprecated"):
        builder = MessageGraph()
    builder.add_node("reply", lambda messages: AIMessage("hi", id="a1"))
    builder.set_entry_point("reply")
    result = builder.compile().invoke(HumanMessage("hello", id="h1"))
    assert [(type(m).__name__, m.content) for m in result] == [
        ("HumanMessage", "hello"),
        ("AIMessage", "hi"),
    ]


def test_moved_names_import_with_a_warning() -> None:
    import threadloom.constants as constants

    with pytest.warns(LangGraphDeprecatedSinceV10, match="Please use 'from threadloom.types"):
        assert constants.Send is Send
    with pytest.warns(LangGraphDeprecatedSinceV10, match="Please use 'from threadloom.types"):
        assert constants.Interrupt is Interrupt
    with pytest.warns(LangGraphDeprecatedSinceV10, match="now private"):
        assert constants.PREVIOUS == "__previous__"
    with pytest.raises(AttributeError, match="NOT_A_NAME"):
        constants.NOT_A_NAME  # noqa: B018
    sys.modules.pop("threadloom.pregel.types", None)
    with pytest.warns(LangGraphDeprecatedSinceV10, match="threadloom.pregel.types is deprecated"):
        moved = importlib.import_module("threadloom.pregel.types")
    assert moved.Send is Send
