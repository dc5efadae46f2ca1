"""The root invoke's start picks its saver, checks its thread id and reads its relay in place
(``call_setup.setup``, ``Pregel._invoke_call``): each branch it takes without a call, pinned."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import MissingThreadIdError
from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _inner(checkpointer: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("child", lambda s: {"log": ["child"]})
    builder.add_edge(START, "child")
    builder.add_edge("child", END)
    return builder.compile(checkpointer=checkpointer)


def _outer(inner: Any, saver: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("sub", inner)
    builder.add_edge(START, "sub")
    builder.add_edge("sub", END)
    return builder.compile(checkpointer=saver)


def test_a_non_str_thread_id_is_saved_as_its_str() -> None:
    saver = InMemorySaver()
    graph = _inner(saver)
    assert graph.invoke({"log": []}, {"configurable": {"thread_id": 7}}) == {"log": ["child"]}
    assert graph.get_state({"configurable": {"thread_id": "7"}}).values == {"log": ["child"]}


@pytest.mark.parametrize(
    "config", [{}, {"configurable": {}}, {"configurable": {"thread_id": None}}, None]
)
def test_a_run_with_a_saver_needs_a_thread_id(config: Any) -> None:
    with pytest.raises(MissingThreadIdError, match="thread_id"):
        _inner(InMemorySaver()).invoke({"log": []}, config)


def test_no_thread_id_is_needed_without_a_saver() -> None:
    assert _inner(None).invoke({"log": []}) == {"log": ["child"]}
    assert _inner(False).invoke({"log": []}) == {"log": ["child"]}


def test_a_root_graph_compiled_with_checkpointer_true_refuses_to_run() -> None:
    with pytest.raises(RuntimeError, match="checkpointer=True cannot be used for root graphs"):
        _inner(True).invoke({"log": []}, {"configurable": {"thread_id": "1"}})


@pytest.mark.parametrize("own", [None, True, False, "own saver"])
def test_a_subgraph_saves_with_its_parents_saver_unless_compiled_without_one(own: Any) -> None:
    saver, own_saver = InMemorySaver(), InMemorySaver()
    graph = _outer(_inner(own_saver if own == "own saver" else own), saver)
    config = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"log": []}, config) == {"log": ["child"]}
    namespaces = {c.config["configurable"]["checkpoint_ns"] for c in saver.list(None)}
    assert (namespaces != {""}) is (own is not False)
    assert list(own_saver.list(None)) == []


def test_an_entrypoint_invoked_in_a_task_pauses_its_parent_and_resumes() -> None:
    @entrypoint()
    def inner(x: int) -> int:
        return x + int(interrupt("more?"))

    @task
    def call_inner(x: int) -> int:
        return int(inner.invoke(x))

    @entrypoint(checkpointer=InMemorySaver())
    def outer(x: int) -> int:
        return call_inner(x).result()

    config = {"configurable": {"thread_id": "n"}}
    paused = outer.invoke(1, config)
    assert [i.value for i in paused["__interrupt__"]] == ["more?"]
    assert outer.invoke(Command(resume="41"), config) == 42
