"""Parameters of LangGraph's signatures threadloom does not implement yet raise, never vanish.

A program that relies on a parameter threadloom does not implement must not run silently without
it. Passing the default (``None``) still works. (``add_node(trace_policy=)`` is implemented:
tests/compat/test_compat_trace_policy.py; ``timeout=`` and ``error_handler=`` work:
tests/compat/test_public_timeouts.py; node caching, ``cache=`` and ``cache_policy=``, works:
tests/cache/.)
"""

from __future__ import annotations

from typing import TypedDict

import pytest

from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph


class State(TypedDict):
    n: int


def bump(state: State) -> State:
    return {"n": state["n"] + 1}


def test_add_node_refuses_a_trace_policy_of_another_type() -> None:
    builder = StateGraph(State)
    with pytest.raises(TypeError, match="must be a TracePolicy") as caught:
        builder.add_node("bump", bump, trace_policy=object())
    assert "TracePolicy(process_inputs=omit_payload)" in str(caught.value)
    assert "bump" not in builder.nodes  # nothing half-added


def test_add_node_with_defaults_still_runs() -> None:
    builder = StateGraph(State)
    builder.add_node(
        "bump", bump, cache_policy=None, error_handler=None, timeout=None, trace_policy=None
    )
    builder.add_edge(START, "bump")
    assert builder.compile().invoke({"n": 1}) == {"n": 2}


def test_compile_refuses_a_transformer_instance() -> None:
    """Transformers are built once per scope (the run and each subgraph): an instance cannot
    be, so it is refused (as LangGraph refuses it)."""
    from threadloom.stream import UpdatesTransformer

    builder = StateGraph(State).add_node("bump", bump).add_edge(START, "bump")
    with pytest.raises(TypeError, match="pre-built instance"):
        builder.compile(transformers=[UpdatesTransformer()])
    graph = builder.compile(cache=None, transformers=None)
    assert graph.invoke({"n": 0}) == {"n": 1}


def test_compile_refuses_an_unknown_keyword_as_langgraph_does() -> None:
    builder = StateGraph(State).add_node("bump", bump).add_edge(START, "bump")
    with pytest.raises(TypeError, match="unexpected keyword argument 'checkpoint'"):
        builder.compile(checkpoint=None)  # type: ignore[call-arg]


def test_task_timeout_on_a_sync_function_is_the_value_error_langgraph_raises() -> None:
    def fetch(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="only supported for async"):
        task(timeout=1.0)(fetch)


def test_entrypoint_and_task_with_defaults_still_run() -> None:
    @task(cache_policy=None, timeout=None)
    def double(x: int) -> int:
        return 2 * x

    @entrypoint(cache=None, cache_policy=None, timeout=None)
    def flow(x: int) -> int:
        return int(double(x).result())

    assert flow.invoke(4) == 8
