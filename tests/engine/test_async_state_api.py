"""The async state API only calls a saver's async methods: on every async saver, a subgraph's
snapshot, the history and updates read and write through ``a*`` calls (issue 9)."""

import operator
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


@pytest.fixture(params=["memory", "async-sqlite", "async-postgres"])
async def saver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
    elif request.param == "async-sqlite":
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "threads.db")) as saver:
            yield saver
    else:
        dsn = request.getfixturevalue("pg_dsn")
        async with AsyncPostgresSaver.from_conn_string(dsn) as saver:
            await saver.setup()
            yield saver


def build(saver: Any) -> Any:
    def first(state: State) -> dict[str, Any]:
        return {"log": ["first"]}

    def ask(state: State) -> dict[str, Any]:
        return {"log": [f"ask:{interrupt('ok?')}"]}

    sub = StateGraph(State).add_node("first", first).add_node("ask", ask)
    sub.add_edge(START, "first").add_edge("first", "ask")
    parent = StateGraph(State).add_node("sub", sub.compile())
    parent.add_edge(START, "sub")
    return parent.compile(checkpointer=saver)


CONFIG: Any = {"configurable": {"thread_id": "t"}}


async def test_aget_state_with_subgraphs_reads_the_subgraph_snapshot(saver: Any) -> None:
    graph = build(saver)
    await graph.ainvoke({"log": []}, CONFIG)
    state = await graph.aget_state(CONFIG, subgraphs=True)
    [task] = state.tasks
    assert task.name == "sub"
    assert task.state.next == ("ask",)
    assert task.state.values == {"log": ["first"]}
    assert [i.value for i in task.state.interrupts] == ["ok?"]
    plain = await graph.aget_state(CONFIG)
    assert plain.tasks[0].state["configurable"]["checkpoint_ns"].startswith("sub:")


async def test_async_history_and_update_use_the_async_saver(saver: Any) -> None:
    graph = build(saver)
    await graph.ainvoke({"log": []}, CONFIG)
    history = [s async for s in graph.aget_state_history(CONFIG)]
    assert [s.metadata["source"] for s in history] == ["loop", "input"]
    updated = await graph.aupdate_state(CONFIG, {"log": ["edited"]}, as_node="sub")
    state = await graph.aget_state(updated)
    assert state.values["log"] == ["edited"]
    assert state.metadata["source"] == "update"


async def test_functional_calls_are_saved_through_the_async_saver(saver: Any) -> None:
    calls: list[str] = []

    @task
    async def double(x: int) -> int:
        calls.append("double")
        return 2 * x

    @task
    def triple(x: int) -> int:  # a sync task, run in the executor by the async run
        calls.append("triple")
        return 3 * x

    @entrypoint(checkpointer=saver)
    async def workflow(x: int) -> list[Any]:
        values = [await double(x), await triple(x)]
        return [*values, interrupt("ok?")]

    assert (await workflow.ainvoke(1, CONFIG))["__interrupt__"][0].value == "ok?"
    assert await workflow.ainvoke(Command(resume="yes"), CONFIG) == [2, 3, "yes"]
    assert calls == ["double", "triple"]  # the resumed run reused both saved results


async def test_sync_entrypoint_in_an_async_run_saves_its_calls(saver: Any) -> None:
    calls: list[int] = []

    @task
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @entrypoint(checkpointer=saver)
    def workflow(xs: list[int]) -> list[Any]:  # runs on an executor thread, off the loop
        futures = [square(x) for x in xs]
        return [*[f.result() for f in futures], interrupt("ok?")]

    await workflow.ainvoke([1, 2], CONFIG)
    assert await workflow.ainvoke(Command(resume="y"), CONFIG) == [1, 4, "y"]
    assert sorted(calls) == [1, 2]
