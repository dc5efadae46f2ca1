"""A finished run leaves no reference cycle behind: everything it made is freed by reference
counting when ``invoke`` returns, not by a later garbage collection (which traverses every kept
object again, and a run's objects with them, until it happens)."""

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph


@pytest.fixture
def no_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()  # a collection in the middle would hide a cycle the run made
    try:
        yield
    finally:
        gc.enable()


def unreachable_after(run: Callable[[str], Any]) -> list[str]:
    """The threadloom objects a collection finds unreachable after one more run (after a
    warm-up): only ours are counted, so garbage another thread makes meanwhile does not count."""
    run("warm-up")
    gc.collect()
    run("measured")
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage to look at
    try:
        gc.collect()
        found = [type(o).__qualname__ for o in gc.garbage if _ours(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


def _ours(obj: Any) -> bool:
    return type(obj).__module__.startswith("threadloom.")


@task
def double(n: int) -> int:
    return 2 * n


@task
async def adouble(n: int) -> int:
    return 2 * n


@entrypoint(checkpointer=InMemorySaver())
def fan_out(count: int) -> list[int]:
    futures = [double(n) for n in range(count)]
    return [f.result() for f in futures]


@entrypoint(checkpointer=InMemorySaver())
async def afan_out(count: int) -> list[int]:
    return [await f for f in [adouble(n) for n in range(count)]]


class Count(TypedDict):
    n: int


def chain() -> Any:
    builder = StateGraph(Count)
    builder.add_node("a", lambda s: {"n": s["n"] + 1})
    builder.add_node("b", lambda s: {"n": s["n"] + 1})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=InMemorySaver())


def cfg(thread: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


@pytest.mark.usefixtures("no_collection")
def test_an_entrypoint_with_task_calls_leaves_no_cycle() -> None:
    assert fan_out.invoke(5, cfg("check")) == [0, 2, 4, 6, 8]
    assert unreachable_after(lambda thread: fan_out.invoke(5, cfg(thread))) == []


@pytest.mark.usefixtures("no_collection")
def test_an_async_entrypoint_and_a_sync_one_run_async_leave_no_cycle() -> None:
    assert unreachable_after(lambda t: asyncio.run(afan_out.ainvoke(5, cfg(t)))) == []
    assert unreachable_after(lambda t: asyncio.run(fan_out.ainvoke(5, cfg("s" + t)))) == []


@pytest.mark.usefixtures("no_collection")
def test_a_graph_run_leaves_no_cycle() -> None:
    graph = chain()
    assert graph.invoke({"n": 0}, cfg("check")) == {"n": 2}
    assert unreachable_after(lambda thread: graph.invoke({"n": 0}, cfg(thread))) == []


@pytest.mark.usefixtures("no_collection")
def test_calls_run_on_workers_leave_no_cycle() -> None:
    # the calls wait until all have started: all but the first run on workers
    barrier = threading.Barrier(4, timeout=60)

    @task
    def meet(n: int) -> int:
        barrier.wait()
        return n

    @entrypoint(checkpointer=InMemorySaver())
    def main(count: int) -> list[int]:
        return [f.result() for f in [meet(n) for n in range(count)]]

    assert unreachable_after(lambda thread: main.invoke(4, cfg(thread))) == []
