"""``ValidationNode`` checks tool calls against schemas without running tools, as
langgraph-prebuilt 1.1.3's does (this file runs unchanged on LangGraph 1.2.22 with the import
root swapped: ``benchmarks/setup.sh``'s ``.bench-venv``)."""

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from threadloom.graph import START, MessagesState, StateGraph
from threadloom.prebuilt import ValidationNode


class Person(BaseModel):
    name: str
    age: int


def birthday(name: str, year: int) -> str:
    return f"{name} {year}"


@tool
def lookup(term: str) -> str:
    """Looks a term up."""
    return term


def calls(name: str, *args: dict[str, Any]) -> AIMessage:
    return AIMessage(
        "", tool_calls=[{"name": name, "args": a, "id": f"c{i}"} for i, a in enumerate(args)]
    )


@pytest.mark.parametrize("schema", [Person, birthday, lookup], ids=["model", "function", "tool"])
def test_each_call_is_validated_without_running_anything(schema: Any) -> None:
    name = getattr(schema, "name", getattr(schema, "__name__", ""))
    good = {"Person": {"name": "Ann", "age": 3}, "birthday": {"name": "Ann", "year": 1990}}
    args = good.get(name, {"term": "x"})
    bad = {key: [1, 2] for key in args}
    node = ValidationNode([schema])
    for out in (
        node.invoke([calls(name, args, bad)]),
        asyncio.run(node.ainvoke([calls(name, args, bad)])),
    ):
        ok, error = out
        assert json.loads(ok.content) == args and not ok.additional_kwargs.get("is_error")
        assert (ok.name, ok.tool_call_id, error.tool_call_id) == (name, "c0", "c1")
        assert error.additional_kwargs == {"is_error": True}
        assert error.content.endswith("\n\nRespond after fixing all validation errors.")


def test_in_a_graph_it_answers_the_calls_and_formats_errors_as_asked() -> None:
    node = ValidationNode([Person], format_error=lambda error, call, schema: f"fix {call['id']}")
    graph = StateGraph(MessagesState).add_node("validation", node)
    graph = graph.add_edge(START, "validation").compile()
    out = graph.invoke({"messages": [calls("Person", {"name": "Ann"})]})
    assert [m.content for m in out["messages"][1:]] == ["fix c0"]
    with pytest.raises(ValueError, match="Last message is not an AIMessage"):
        node.invoke([("user", "hi")])
    with pytest.raises(ValueError, match="Unsupported input to ValidationNode"):
        ValidationNode([42])  # type: ignore[list-item]
