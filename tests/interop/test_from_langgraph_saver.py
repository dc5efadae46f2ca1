"""``from_langgraph_saver``: threadloom graphs and entrypoints run on LangGraph's checkpointers,
and what they save stays LangGraph's own format (LangGraph reads the same threads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langgraph.checkpoint.sqlite")

from langgraph.checkpoint.memory import InMemorySaver as LangGraphInMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver as LangGraphAsyncSqliteSaver
from migrate_sources import build, config, outcome, summary

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import LangGraphObjectError
from threadloom.func import entrypoint, task
from threadloom.interop.langgraph import from_langgraph_saver
from threadloom.types import Command, Interrupt, interrupt


def run_threadloom(graph: Any) -> list[Any]:
    """Two threads: one interrupted at the root and answered twice, one edited by update_state."""
    results = [graph.invoke({"items": ["start"]}, config("a"))]
    results.append(graph.invoke(Command(resume="yes"), config("a")))
    results.append(graph.invoke(Command(resume="ok"), config("a")))
    results.append(graph.invoke({"items": ["start"]}, config("b")))
    graph.update_state(config("b"), {"items": ["edited"]})
    return results


def test_a_threadloom_graph_runs_on_langgraph_sqlite_saver(tmp_path: Path) -> None:
    builder, _ = build("threadloom")
    path = str(tmp_path / "lg.db")
    with LangGraphSqliteSaver.from_conn_string(path) as saver:
        graph = builder.compile(checkpointer=from_langgraph_saver(saver))
        results = run_threadloom(graph)
        assert isinstance(results[0]["__interrupt__"][0], Interrupt)  # threadloom's, converted
        assert outcome(results[1]) == (
            {"items": ["start", "plan", "side"], "answer": "yes"},
            ["sub approve?"],
        )
        assert results[2]["items"][-1] == "sub-ok"
        state = graph.get_state(config("b"))
        assert state.values["items"][-1] == "edited" and "ask" in state.next
        history = list(graph.get_state_history(config("a")))
        assert [s.metadata["step"] for s in history] == sorted(
            (s.metadata["step"] for s in history), reverse=True
        )
        assert history[-1].metadata["source"] == "input"
        # the same file under LangGraph's engine shows the same threads: LangGraph's format
        lg_builder, lg_command = build("langgraph")
        lg_graph = lg_builder.compile(checkpointer=saver)
        for thread_id in ("a", "b"):
            assert summary(lg_graph, thread_id) == summary(graph, thread_id)
        # and a thread interrupted under threadloom resumes under LangGraph
        assert lg_graph.invoke(lg_command(resume="no"), config("b"))["answer"] == "no"


async def test_a_threadloom_graph_runs_async_on_langgraph_async_sqlite_saver(
    tmp_path: Path,
) -> None:
    builder, _ = build("threadloom")
    async with LangGraphAsyncSqliteSaver.from_conn_string(str(tmp_path / "lg.db")) as saver:
        graph = builder.compile(checkpointer=from_langgraph_saver(saver))
        first = await graph.ainvoke({"items": ["start"]}, config("a"))
        assert [i.value for i in first["__interrupt__"]] == [{"question": "approve?"}]
        second = await graph.ainvoke(Command(resume="yes"), config("a"))
        assert outcome(second)[1] == ["sub approve?"]
        state = await graph.aget_state(config("a"), subgraphs=True)
        assert state.tasks[0].state.values["items"][-1] == "sub"  # the subgraph's checkpoint
        third = await graph.ainvoke(Command(resume="ok"), config("a"))
        assert third["items"][-1] == "sub-ok"
        assert len([s async for s in graph.aget_state_history(config("a"))]) > 4


def test_an_entrypoint_with_tasks_and_interrupt_runs_on_langgraph_in_memory_saver() -> None:
    calls: list[int] = []

    @task
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    saver = from_langgraph_saver(LangGraphInMemorySaver())

    @entrypoint(checkpointer=saver)
    def flow(x: int) -> dict[str, Any]:
        doubled = double(x).result()
        answer = interrupt(f"keep {doubled}?")
        return {"doubled": doubled, "answer": answer}

    cfg = {"configurable": {"thread_id": "f"}}
    flow.invoke(3, cfg)
    assert flow.get_state(cfg).interrupts[0].value == "keep 6?"
    assert flow.invoke(Command(resume="yes"), cfg) == {"doubled": 6, "answer": "yes"}
    assert calls == [3]  # the task's saved result was reused on resume


def test_a_threadloom_graph_runs_on_langgraph_postgres_saver(pg_dsn: str) -> None:
    pytest.importorskip("langgraph.checkpoint.postgres")
    from langgraph.checkpoint.postgres import PostgresSaver as LangGraphPostgresSaver

    builder, _ = build("threadloom")
    with LangGraphPostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
        graph = builder.compile(checkpointer=from_langgraph_saver(saver))
        results = run_threadloom(graph)
        assert results[2]["items"][-1] == "sub-ok"
        assert graph.get_state(config("b")).values["items"][-1] == "edited"


def test_a_bare_langgraph_saver_is_refused_naming_from_langgraph_saver() -> None:
    builder, _ = build("threadloom")
    with pytest.raises(LangGraphObjectError, match="from_langgraph_saver") as raised:
        builder.compile(checkpointer=LangGraphInMemorySaver())
    assert "from threadloom.checkpoint.memory import InMemorySaver" in str(raised.value)
    with pytest.raises(LangGraphObjectError, match="from_langgraph_saver"):
        entrypoint(checkpointer=LangGraphInMemorySaver())(lambda x: x)


def test_from_langgraph_saver_refuses_what_is_not_a_langgraph_saver() -> None:
    with pytest.raises(TypeError, match="take as it is"):
        from_langgraph_saver(InMemorySaver())
    with pytest.raises(TypeError, match="needs a LangGraph checkpointer"):
        from_langgraph_saver(LangGraphSqliteSaver.from_conn_string(":memory:"))
    wrapped = from_langgraph_saver(LangGraphInMemorySaver())
    assert from_langgraph_saver(wrapped) is wrapped
