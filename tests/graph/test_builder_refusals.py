"""Builder mistakes LangGraph refuses are refused here too, at the call that makes them, with
the same exception type and a message naming the value and the fix."""

from __future__ import annotations

import warnings
from typing import Any, TypedDict

import pytest

from threadloom.graph import START, StateGraph


class Counter(TypedDict):
    n: int


def builder() -> StateGraph[Any]:
    graph = StateGraph(Counter)
    graph.add_node("inc", lambda s: {"n": s["n"] + 1})
    graph.add_edge(START, "inc")
    return graph


@pytest.mark.parametrize("path", [5, "inc", None, {"x": "inc"}])
def test_a_branch_that_is_no_function_is_refused_when_added(path: Any) -> None:
    graph = builder()
    with pytest.raises(TypeError, match=r"add_conditional_edges\('inc', path=\.\.\.\) needs") as e:
        graph.add_conditional_edges("inc", path)
    assert repr(path) in str(e.value) and "lambda state:" in str(e.value)
    assert graph.branches == {}  # nothing half-added


def test_a_none_state_schema_warns_once_as_in_langgraph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        StateGraph(None)
        StateGraph(Counter)  # a type: no warning
    assert [type(w.message) for w in caught] == [UserWarning]
    assert "Invalid state_schema None" in str(caught[0].message)


@pytest.mark.parametrize("option", ["interrupt_before", "interrupt_after"])
@pytest.mark.parametrize("nodes", [5, 1.5, object])
def test_breakpoints_that_are_no_list_are_refused(option: str, nodes: Any) -> None:
    with pytest.raises(TypeError, match=rf"{option} must be '\*' or a list of node names, got"):
        builder().compile(**{option: nodes})


def test_breakpoints_given_well_still_compile() -> None:
    graph = builder()
    for nodes in (["inc"], ("inc",), "*", None, []):
        graph.compile(interrupt_before=nodes, interrupt_after=nodes)
