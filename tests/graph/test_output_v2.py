"""``version="v2"`` outputs: GraphOutput from invoke, typed dict chunks from stream."""

import operator
import warnings
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from threadloom.graph import START, StateGraph
from threadloom.types import GraphOutput, interrupt


class State(BaseModel):
    a: str
    log: Annotated[list[str], operator.add] = []


def graph(ask: bool) -> Any:
    def n1(state: State) -> dict[str, Any]:
        return {"a": state.a + "1", "log": ["n1"]}

    def question(state: State) -> dict[str, Any]:
        return {"log": [interrupt("q") if ask else "no question"]}

    builder = StateGraph(State).add_node("n1", n1).add_node("ask", question)
    return builder.add_edge(START, "n1").add_edge("n1", "ask").compile()


def test_invoke_v2_returns_graph_output_of_the_output_type() -> None:
    result = graph(ask=True).invoke({"a": "x"}, version="v2")
    assert isinstance(result, GraphOutput)
    assert result.value == State(a="x1", log=["n1"])
    assert [i.value for i in result.interrupts] == ["q"]
    done = graph(ask=False).invoke({"a": "x"}, version="v2")
    assert done.interrupts == () and done.value.log == ["n1", "no question"]
    with pytest.warns(DeprecationWarning, match="result.value"):
        assert done["a"] == "x1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert "a" in done and "__interrupt__" not in done


def test_stream_v2_chunks() -> None:
    chunks = list(
        graph(ask=True).stream({"a": "x"}, stream_mode=["values", "updates"], version="v2")
    )
    assert [c["type"] for c in chunks] == ["values", "updates", "values", "updates", "values"]
    assert all(c["ns"] == () for c in chunks)
    assert chunks[0]["data"] == State(a="x") and chunks[0]["interrupts"] == ()
    last = chunks[-1]
    assert last["data"] == State(a="x1", log=["n1"])
    assert [i.value for i in last["interrupts"]] == ["q"]
    updates = graph(ask=False).invoke({"a": "x"}, stream_mode="updates", version="v2")
    assert updates == [
        {"type": "updates", "ns": (), "data": {"n1": {"a": "x1", "log": ["n1"]}}},
        {"type": "updates", "ns": (), "data": {"ask": {"log": ["no question"]}}},
    ]
