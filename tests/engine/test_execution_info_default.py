"""``Runtime.execution_info``: None on a runtime made outside a run, as LangGraph 1.2.22's
(checked with the import root swapped), so code can tell it runs under no graph; every task of
a run gets its own. Patching a runtime that has none raises a ``RuntimeError``."""

from __future__ import annotations

from typing import Any

import pytest
from typing_extensions import TypedDict

from threadloom.graph import END, START, StateGraph
from threadloom.runtime import ExecutionInfo, Runtime


class State(TypedDict):
    seen: list[Any]


def test_a_runtime_made_outside_a_run_has_none() -> None:
    assert Runtime().execution_info is None
    info = ExecutionInfo(checkpoint_id="c1", checkpoint_ns="", task_id="t1")
    assert Runtime(execution_info=info).merge(Runtime()).execution_info is info
    assert Runtime().merge(Runtime(execution_info=info)).execution_info is info
    patched = Runtime(execution_info=info).patch_execution_info(node_attempt=2)
    assert patched.execution_info == info.patch(node_attempt=2)
    assert (patched.execution_info.node_attempt, info.node_attempt) == (2, 1)


def test_patching_a_runtime_without_one_raises() -> None:
    with pytest.raises(RuntimeError, match="before it has been set"):
        Runtime().patch_execution_info(thread_id="t")


def test_every_task_of_a_run_gets_one() -> None:
    def look(state: State, runtime: Runtime) -> dict[str, Any]:
        info = runtime.execution_info
        assert info is not None
        return {"seen": [(info.node_attempt, bool(info.task_id))]}

    builder = StateGraph(State)
    builder.add_node("look", look)
    builder.add_edge(START, "look")
    builder.add_edge("look", END)
    assert builder.compile().invoke({"seen": []}) == {"seen": [(1, True)]}


def test_threadloom_names_the_fields_and_the_fix() -> None:
    from threadloom.errors import ExecutionInfoNotSetError

    with pytest.raises(ExecutionInfoNotSetError, match=r"\(node_attempt, thread_id\).*outside"):
        Runtime().patch_execution_info(thread_id="t", node_attempt=2)
