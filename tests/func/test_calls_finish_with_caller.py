"""A ``@task`` call its caller never waited for still finishes inside the run, as in LangGraph:
the run does not end (return, raise or pause) while a call it started runs on (on the async
driver a failed caller's calls are cancelled instead), and a call finished before a pause is
saved, so the resume does not run it again. Each call here takes a
little while, so a run that did not wait for it would return first."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, interrupt

CONFIG: Any = {"configurable": {"thread_id": "t"}}
ENDINGS = ["pause", "return", "raise"]


def sync_workflow(ending: str, ran: list[str]) -> Any:
    @task
    def slow(x: str) -> str:
        time.sleep(0.05)
        ran.append(x)
        return x + "!"

    @entrypoint(checkpointer=InMemorySaver())
    def main(x: str) -> str:
        started = slow(x)
        if ending == "pause":
            answer = interrupt("go on?")  # before the call's result was asked for
            return started.result() + answer
        if ending == "raise":
            raise ValueError("the caller failed")
        return "returned"

    return main


def async_workflow(ending: str, ran: list[str]) -> Any:
    @task
    async def slow(x: str) -> str:
        await asyncio.sleep(0.05)
        ran.append(x)
        return x + "!"

    @entrypoint(checkpointer=InMemorySaver())
    async def main(x: str) -> str:
        started = slow(x)
        if ending == "pause":
            answer = interrupt("go on?")
            return await started + answer
        if ending == "raise":
            raise ValueError("the caller failed")
        return "returned"

    return main


def run(main: Any, ending: str) -> None:
    if ending == "raise":
        with pytest.raises(ValueError, match="the caller failed"):
            main.invoke("a", CONFIG)
    else:
        main.invoke("a", CONFIG)


async def arun(main: Any, ending: str) -> None:
    if ending == "raise":
        with pytest.raises(ValueError, match="the caller failed"):
            await main.ainvoke("a", CONFIG)
    else:
        await main.ainvoke("a", CONFIG)


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_sync_run_ends_after_the_calls_it_started(ending: str) -> None:
    ran: list[str] = []
    main = sync_workflow(ending, ran)
    run(main, ending)
    assert ran == ["a"]
    if ending == "pause":  # saved before the pause: the resume reuses it
        assert main.invoke(Command(resume="?"), CONFIG) == "a!?"
        assert ran == ["a"]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_an_async_run_ends_after_the_calls_it_started(ending: str) -> None:
    ran: list[str] = []
    main = async_workflow(ending, ran)
    await arun(main, ending)
    # a failed caller's unfinished calls are cancelled on the async driver, as in LangGraph
    assert ran == ([] if ending == "raise" else ["a"])
    if ending == "pause":
        assert await main.ainvoke(Command(resume="?"), CONFIG) == "a!?"
        assert ran == ["a"]


@pytest.mark.parametrize("ending", ["pause", "return"])  # (a failed one's: as on the sync driver)
async def test_a_sync_entrypoint_on_the_async_driver_ends_after_its_calls(ending: str) -> None:
    ran: list[str] = []
    main = sync_workflow(ending, ran)
    await arun(main, ending)
    assert ran == ["a"]


def test_a_graph_node_ends_after_the_calls_it_started() -> None:
    ran: list[str] = []

    @task
    def slow(x: str) -> str:
        time.sleep(0.05)
        ran.append(x)
        return x

    def node(state: dict[str, Any]) -> dict[str, Any]:
        slow("from the node")  # never waited for
        return {"x": state["x"] + 1}

    builder: Any = StateGraph(dict)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    assert builder.compile().invoke({"x": 1}) == {"x": 2}
    assert ran == ["from the node"]


def test_a_call_ends_after_the_calls_it_started() -> None:
    ran: list[str] = []

    @task
    def inner(x: str) -> str:
        time.sleep(0.05)
        ran.append(x)
        return x

    @task
    def outer(x: str) -> str:
        inner(x)  # never waited for
        return x

    @entrypoint()
    def main(x: str) -> str:
        return outer(x).result()

    assert main.invoke("nested") == "nested"
    assert ran == ["nested"]
