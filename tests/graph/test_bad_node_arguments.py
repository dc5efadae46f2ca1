"""Bad ``add_node`` arguments and a ``None`` thread id fail at once with LangGraph 1.2.22's kind of
error (observed by running the same calls on it) and a message that names the value and the fix."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import MissingNodeFunctionError
from threadloom.graph import START, StateGraph
from threadloom.types import RetryPolicy


class State(TypedDict, total=False):
    a: int


def node(state: State) -> dict[str, int]:
    return {"a": 1}


@pytest.mark.parametrize("args", [("a",), ("a", None), (None, node), (None,)])
def test_a_node_without_a_function_is_a_runtime_error_as_in_langgraph(args: tuple[Any]) -> None:
    with pytest.raises(RuntimeError, match="add_node got no function for node") as caught:
        StateGraph(State).add_node(*args)
    assert isinstance(caught.value, MissingNodeFunctionError)
    assert isinstance(caught.value, ValueError)  # what threadloom raised before


@pytest.mark.parametrize("func", [3, "b", 1.5])
def test_a_node_that_is_not_callable_is_a_type_error_as_in_langgraph(func: Any) -> None:
    builder = StateGraph(State)
    with pytest.raises(TypeError, match=rf"Node 'a' must be a function.*got {type(func).__name__}"):
        builder.add_node("a", func)
    assert builder.nodes == {}


@pytest.mark.parametrize("policy", [5, [5], "retry", [RetryPolicy(), None]])
def test_a_retry_policy_of_the_wrong_kind_fails_when_the_node_is_added(policy: Any) -> None:
    with pytest.raises(TypeError, match=r"retry_policy must be a RetryPolicy or a sequence"):
        StateGraph(State).add_node("a", node, retry_policy=policy)
    with pytest.raises(TypeError, match=r"retry_policy must be a RetryPolicy or a sequence"):
        StateGraph(State).set_node_defaults(retry_policy=policy)
    builder = StateGraph(State).add_node("a", node, retry_policy=[RetryPolicy(max_attempts=2)])
    assert builder.nodes["a"].retry_policy == (RetryPolicy(max_attempts=2),)


def test_destinations_of_the_wrong_kind_fail_when_the_node_is_added() -> None:
    with pytest.raises(TypeError, match=r"destinations of node 'a' must be a tuple"):
        StateGraph(State).add_node("a", node, destinations=5)  # type: ignore[arg-type]


def test_a_none_thread_id_says_it_is_none() -> None:
    builder = StateGraph(State).add_node("a", node).add_edge(START, "a")
    graph = builder.compile(checkpointer=InMemorySaver())
    with pytest.raises(ValueError, match=r"\['thread_id'\] is None; pass the thread's name"):
        graph.invoke({"a": 0}, {"configurable": {"thread_id": None}})
    with pytest.raises(ValueError, match=r"has no 'thread_id' \(keys given: \['user'\]\)"):
        graph.invoke({"a": 0}, {"configurable": {"user": "u"}})
