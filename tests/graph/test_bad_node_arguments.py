"""Bad ``add_node`` arguments and a ``None`` thread id fail at once with LangGraph 1.2.22's kind of
error (observed by running the same calls on it) and a message that names the value and the fix."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import InvalidUpdateError, MissingNodeFunctionError, MissingThreadIdError
from threadloom.graph import START, StateGraph
from threadloom.types import Command, RetryPolicy


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


@pytest.mark.parametrize("key", ["interrupt_before", "interrupt_after"])
def test_a_lone_node_name_as_breakpoints_is_a_type_error_as_in_langgraph(key: str) -> None:
    builder = StateGraph(State).add_node("ab", node).add_edge(START, "ab")
    with pytest.raises(TypeError, match=rf"{key} must be '\*' or a list.*Pass {key}=\['ab'\]"):
        builder.compile(**{key: "ab"})
    assert builder.compile(**{key: "*"}) is not None  # "*" is every node
    assert builder.compile(**{key: ["ab"]}) is not None


def test_get_state_of_a_thread_without_checkpoints_returns_the_config_as_given() -> None:
    graph = StateGraph(State).add_node("a", node).add_edge(START, "a")
    compiled = graph.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "1", "user": "u"}, "tags": ["t"]}
    snapshot = compiled.get_state(config)
    # LangGraph 1.2.22: no run metadata is added to it
    assert (snapshot.values, snapshot.config, snapshot.metadata) == ({}, config, None)


def test_a_list_of_pairs_updates_the_state_only_inside_a_command() -> None:
    pairs = [("a", 5)]
    returns_pairs = StateGraph(State).add_node("n", lambda s: pairs).add_edge(START, "n")
    message = r"Expected dict, got \[\('a', 5\)\] \(a list of \(key, value\) pairs updates"
    with pytest.raises(InvalidUpdateError, match=message):  # as LangGraph 1.2.22
        returns_pairs.compile().invoke({"a": 0})
    graph = StateGraph(State).add_node("n", lambda s: {}).add_edge(START, "n")
    compiled = graph.compile(checkpointer=InMemorySaver())
    with pytest.raises(InvalidUpdateError, match=message):
        compiled.invoke(pairs, {"configurable": {"thread_id": "1"}})
    config: Any = {"configurable": {"thread_id": "2"}}
    compiled.invoke({"a": 0}, config)
    with pytest.raises(InvalidUpdateError, match=message):
        compiled.update_state(config, pairs)
    assert compiled.invoke(Command(update=pairs), config) == {"a": 5}
    commands = StateGraph(State).add_node("n", lambda s: Command(update=pairs)).add_edge(START, "n")
    assert commands.compile().invoke({"a": 0}) == {"a": 5}


@pytest.mark.parametrize("config", [{}, {"configurable": {}}, {"configurable": {"user": "u"}}])
async def test_a_missing_thread_id_is_both_of_langgraphs_kinds_everywhere(config: Any) -> None:
    """LangGraph 1.2.22 raises ValueError (invoke with no configurable) or KeyError (the state
    API, a configurable without thread_id): one error, both kinds, at every entry point."""
    graph = StateGraph(State).add_node("a", node).add_edge(START, "a")
    compiled = graph.compile(checkpointer=InMemorySaver())
    calls = [
        lambda: compiled.invoke({"a": 0}, config),
        lambda: list(compiled.stream({"a": 0}, config)),
        lambda: compiled.get_state(config),
        lambda: list(compiled.get_state_history(config)),
        lambda: compiled.update_state(config, {"a": 1}),
    ]
    for call in calls:
        with pytest.raises(MissingThreadIdError, match=r"^Checkpointer requires") as caught:
            call()
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, KeyError)
    with pytest.raises(MissingThreadIdError):
        await compiled.ainvoke({"a": 0}, config)
