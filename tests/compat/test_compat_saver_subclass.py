"""Savers and serializers written for LangGraph's interface run unchanged (issue 10, group 9).

Expected values were observed by running the same programs on LangGraph 1.2.22.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.graph import END, START, StateGraph


class _S(TypedDict):
    x: int


def _chain() -> StateGraph[Any]:
    builder = StateGraph(_S)
    builder.add_node("a", lambda s: {"x": s["x"] + 1})
    builder.add_node("b", lambda s: {"x": s["x"] * 2})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder


def _fan_out() -> StateGraph[Any]:
    builder = StateGraph(Annotated[str, operator.add])
    builder.add_node("agent", lambda s: "")
    builder.add_node("parallel", lambda s: "")
    builder.add_edge(START, "agent")
    builder.add_edge(START, "parallel")
    return builder


class _ThreeArgSaver(InMemorySaver):
    """LangGraph < 0.3 style: ``put_writes`` without ``task_path``; records what it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[list[str]] = []

    def put_writes(  # type: ignore[override]
        self, config: RunnableConfig, writes: Any, task_id: str
    ) -> None:
        self.seen.append([channel for channel, _ in writes])
        super().put_writes(config, writes, task_id)


def test_three_argument_put_writes_is_called_for_every_task() -> None:
    saver = _ThreeArgSaver()
    graph = _chain().compile(checkpointer=saver)
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}

    assert graph.invoke({"x": 1}, config) == {"x": 4}
    # LangGraph 1.2.22: the input task, then a, then b, each through put_writes
    assert saver.seen == [["x", "branch:to:a"], ["x", "branch:to:b"], ["x"]]
    assert graph.get_state(config).values == {"x": 4}


async def test_three_argument_sync_put_writes_serves_the_async_run() -> None:
    # LangGraph raises TypeError here (its aput_writes passes task_path); threadloom adapts
    saver = _ThreeArgSaver()
    graph = _chain().compile(checkpointer=saver)

    assert await graph.ainvoke({"x": 1}, {"configurable": {"thread_id": "t"}}) == {"x": 4}
    assert saver.seen == [["x", "branch:to:a"], ["x", "branch:to:b"], ["x"]]


@pytest.mark.parametrize("durability", ["sync", "async"])
def test_an_overridden_put_writes_that_fails_fails_the_run(durability: Any) -> None:
    class Faulty(InMemorySaver):
        def put_writes(  # type: ignore[override]
            self, config: RunnableConfig, writes: Any, task_id: str
        ) -> None:
            raise ValueError("Faulty put_writes")

    graph = _fan_out().compile(checkpointer=Faulty())
    with pytest.raises(ValueError, match="Faulty put_writes"):
        graph.invoke("", {"configurable": {"thread_id": "t"}}, durability=durability)


async def test_an_overridden_aput_writes_that_fails_fails_the_async_run() -> None:
    class Faulty(InMemorySaver):
        async def aput_writes(  # type: ignore[override]
            self, config: RunnableConfig, writes: Any, task_id: str
        ) -> None:
            raise ValueError("Faulty aput_writes")

    graph = _fan_out().compile(checkpointer=Faulty())
    with pytest.raises(ValueError, match="Faulty aput_writes"):
        await graph.ainvoke("", {"configurable": {"thread_id": "t"}})


def test_exit_durability_saves_no_writes_through_put_writes() -> None:
    saver = _ThreeArgSaver()
    graph = _fan_out().compile(checkpointer=saver)
    graph.invoke("", {"configurable": {"thread_id": "t"}}, durability="exit")
    assert saver.seen == []  # as LangGraph: the run's end saves only the checkpoint


def test_a_sqlite_subclass_with_task_path_keeps_it(tmp_path: Any) -> None:
    paths: list[str] = []

    class Recording(SqliteSaver):
        def put_writes(
            self, config: RunnableConfig, writes: Any, task_id: str, task_path: str = ""
        ) -> None:
            paths.append(task_path)
            super().put_writes(config, writes, task_id, task_path)

    with Recording.from_conn_string(str(tmp_path / "c.db")) as saver:
        graph = _chain().compile(checkpointer=saver)
        assert graph.invoke({"x": 1}, {"configurable": {"thread_id": "t"}}) == {"x": 4}
    assert len(paths) == 3 and all(path.startswith("~__pregel_pull") for path in paths[1:])


class _LangGraphStyleSerde:
    """``dumps_typed(obj)`` without ``root=``, as LangGraph's protocol has it."""

    def __init__(self) -> None:
        self.inner = JsonPlusSerializer()
        self.dumped = 0

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        self.dumped += 1
        return self.inner.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self.inner.loads_typed(data)


def test_a_serializer_without_root_stores_and_reads_back(tmp_path: Any) -> None:
    serde = _LangGraphStyleSerde()
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
        saver.serde = serde
        graph = _chain().compile(checkpointer=saver)
        assert graph.invoke({"x": 1}, config) == {"x": 4}
        assert graph.get_state(config).values == {"x": 4}
    assert serde.dumped > 0


def test_a_failing_serializer_error_reaches_the_caller() -> None:
    class Faulty(JsonPlusSerializer):
        def dumps_typed(self, obj: Any) -> tuple[str, bytes]:  # type: ignore[override]
            raise ValueError("Faulty serializer")

    graph = _fan_out().compile(checkpointer=InMemorySaver(serde=Faulty()))
    with pytest.raises(ValueError, match="Faulty serializer"):
        graph.invoke("", {"configurable": {"thread_id": "t"}})
