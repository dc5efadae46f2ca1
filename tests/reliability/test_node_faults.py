"""A node failing mid-step, on the in-memory and the SQLite saver: what the thread keeps.

Same outcomes as LangGraph 1.2.22 for the same programs (checked with the import root swapped):
- a node raising beside a parallel sibling: the run raises the node's error; the sibling's writes
  are kept (shown as the state, its task done), the failed task shows its error, and resuming
  runs only the failed node;
- ``KeyboardInterrupt`` / ``SystemExit`` in a node: it reaches the caller as it is, nothing of
  the interrupted step is saved, and ``invoke(None)`` resumes the thread at that node.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
    else:
        with SqliteSaver.from_conn_string(str(tmp_path / "threads.db")) as sqlite:
            yield sqlite


def test_a_failing_node_keeps_its_parallel_siblings_writes(saver: Any) -> None:
    calls = {"b": 0, "c": 0}
    broken = [True]

    def b(state: Log) -> dict[str, Any]:
        calls["b"] += 1
        if broken[0]:
            raise ValueError("b broke")
        return {"log": ["b"]}

    def c(state: Log) -> dict[str, Any]:
        calls["c"] += 1
        return {"log": ["c"]}

    builder = StateGraph(Log)
    builder.add_node("a", lambda state: {"log": ["a"]})
    builder.add_node("b", b)
    builder.add_node("c", c)
    builder.add_node("d", lambda state: {"log": ["d"]})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge(["b", "c"], "d")
    builder.add_edge("d", END)
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    with pytest.raises(ValueError, match="b broke"):
        graph.invoke({"log": []}, config)
    state = graph.get_state(config)
    assert state.next == ("b",)
    assert state.values == {"log": ["a", "c"]}
    # the failed task shows its error (as its repr, LangGraph's form); the sibling's is done
    assert {task.name: task.error for task in state.tasks} == {
        "b": repr(ValueError("b broke")),
        "c": None,
    }

    broken[0] = False
    assert graph.invoke(None, config) == {"log": ["a", "b", "c", "d"]}
    assert calls == {"b": 2, "c": 1}  # c's write was kept: it did not run again


class Count(TypedDict):
    n: int


@pytest.mark.parametrize("stop", [KeyboardInterrupt, SystemExit])
def test_a_node_stopped_by_the_process_saves_nothing_and_resumes(
    saver: Any, stop: type[BaseException]
) -> None:
    raised = []

    def second(state: Count) -> dict[str, Any]:
        if not raised:
            raised.append(stop)
            raise stop()
        return {"n": state["n"] + 10}

    builder = StateGraph(Count)
    builder.add_node("first", lambda state: {"n": state["n"] + 1})
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    with pytest.raises(stop):
        graph.invoke({"n": 0}, config)
    state = graph.get_state(config)
    assert (state.next, state.values) == (("second",), {"n": 1})
    assert [task.error for task in state.tasks] == [None]  # not recorded as the node's error
    assert len(list(graph.get_state_history(config))) == 3  # input, start, after first

    assert graph.invoke(None, config) == {"n": 11}
    assert len(list(graph.get_state_history(config))) == 4
