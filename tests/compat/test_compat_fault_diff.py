"""Differences `benchmarks/fault_diff.py` found between threadloom and LangGraph 1.2.22, now fixed.

That fuzzer runs random graphs and entrypoints, sync and async, with nodes and tasks that fail
once, ask questions and fan out, edits their state between runs and compares what a user sees.
Each test is one difference; it passes on LangGraph 1.2.22 with the import root swapped.
"""

from __future__ import annotations

from typing import Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph


async def test_an_async_entrypoint_streams_its_finished_calls_before_its_own_values() -> None:
    # both calls finish before the entrypoint awaits the second: its update used to be streamed
    # after the run's values (one loop turn late)
    @task
    async def first(x: int) -> int:
        return x + 1

    @task
    async def second(x: int) -> int:
        return x + 2

    @entrypoint(checkpointer=InMemorySaver())
    async def program(x: int) -> list[int]:
        futures = [first(x), second(x)]
        return [await f for f in futures]

    for thread in range(5):
        config: Any = {"configurable": {"thread_id": str(thread)}}
        chunks = [c async for c in program.astream(1, config, stream_mode=["updates", "values"])]
        assert chunks[-2:] == [("updates", {"program": [2, 3]}), ("values", [2, 3])]
        assert sorted(str(c) for c in chunks[:-2]) == [
            "('updates', {'first': 2})",
            "('updates', {'second': 3})",
        ]


class _Key(TypedDict):
    my_key: str


def _doubly_nested() -> Any:
    """parent_1 → child → parent_2, where child runs a grandchild that stops before its second
    node (``interrupt_before``); only the parent has a saver (LangGraph's own test)."""
    grandchild = StateGraph(_Key)
    grandchild.add_node("grandchild_1", lambda s: {"my_key": s["my_key"] + " here"})
    grandchild.add_node("grandchild_2", lambda s: {"my_key": s["my_key"] + " and there"})
    grandchild.add_edge(START, "grandchild_1")
    grandchild.add_edge("grandchild_1", "grandchild_2")
    child = StateGraph(_Key)
    child.add_node("child_1", grandchild.compile(interrupt_before=["grandchild_2"]))
    child.add_edge(START, "child_1")
    parent = StateGraph(_Key)
    parent.add_node("parent_1", lambda s: {"my_key": "hi " + s["my_key"]})
    parent.add_node("child", child.compile())
    parent.add_node("parent_2", lambda s: {"my_key": s["my_key"] + " and back again"})
    parent.add_edge(START, "parent_1")
    parent.add_edge("parent_1", "child")
    parent.add_edge("child", "parent_2")
    return parent.compile(checkpointer=InMemorySaver())


def test_a_breakpoint_two_subgraphs_down_pauses_the_root() -> None:
    # it paused only the middle graph's task, which then ended as if its subgraph had finished
    graph = _doubly_nested()
    config: Any = {"configurable": {"thread_id": "1"}}
    assert graph.invoke({"my_key": "my value"}, config) == {"my_key": "hi my value"}
    state = graph.get_state(config, subgraphs=True)
    assert state.next == ("child",)
    assert state.tasks[0].state.next == ("child_1",)
    assert graph.invoke(None, config) == {"my_key": "hi my value here and there and back again"}


def test_only_the_root_streams_a_deep_breakpoint() -> None:
    graph = _doubly_nested()
    config: Any = {"configurable": {"thread_id": "1"}}
    chunks = [
        (len(ns), update) for ns, update in graph.stream({"my_key": "v"}, config, subgraphs=True)
    ]
    assert chunks == [
        (0, {"parent_1": {"my_key": "hi v"}}),
        (2, {"grandchild_1": {"my_key": "hi v here"}}),
        (0, {"__interrupt__": ()}),
    ]
