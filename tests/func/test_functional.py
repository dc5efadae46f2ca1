"""The functional API: @entrypoint and @task on a checkpointer (CONTRACT 4)."""

import asyncio
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.types import Command, interrupt


def cfg(thread: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def test_previous_and_final_across_invocations() -> None:
    saver = InMemorySaver()

    @entrypoint(checkpointer=saver)
    def counter(step: int, *, previous: Any) -> Any:
        total = (previous or 0) + step
        return entrypoint.final(value=f"total={total}", save=total)

    assert counter.invoke(2, cfg()) == "total=2"
    assert counter.invoke(3, cfg()) == "total=5"
    assert counter.invoke(1, cfg("other")) == "total=1"
    steps = [(t.metadata["source"], t.metadata["step"]) for t in saver.list(cfg())]
    assert steps == [("loop", 2), ("input", 1), ("loop", 0), ("input", -1)]
    assert counter.get_state(cfg()).values == "total=5"


def test_task_results_are_reused_after_an_interrupt() -> None:
    calls: list[str] = []

    @task
    def add_one(x: int) -> int:
        calls.append("add_one")
        return x + 1

    @entrypoint(checkpointer=InMemorySaver())
    def wf(x: int) -> dict[str, Any]:
        y = add_one(x).result()
        answer = interrupt(f"ok to use {y}?")
        return {"y": y, "answer": answer}

    out = wf.invoke(1, cfg())
    assert out == {"__interrupt__": [out["__interrupt__"][0]]}
    assert out["__interrupt__"][0].value == "ok to use 2?"
    snapshot = wf.get_state(cfg())
    assert snapshot.values is None and snapshot.next == ("wf",)
    assert wf.invoke(Command(resume="yes"), cfg()) == {"y": 2, "answer": "yes"}
    assert calls == ["add_one"]  # not re-executed on resume


def test_interrupt_inside_a_task() -> None:
    runs: list[str] = []

    @task
    def approve(item: str) -> str:
        runs.append(item)
        return f"{item}:{interrupt(item)}"

    @entrypoint(checkpointer=InMemorySaver())
    def wf(item: str) -> str:
        return approve(item).result()

    out = wf.invoke("doc", cfg())
    assert out["__interrupt__"][0].value == "doc"
    assert wf.invoke(Command(resume="ok"), cfg()) == "doc:ok"


def test_entrypoint_error_then_retry_reuses_finished_tasks() -> None:
    calls: list[str] = []
    fail = {"on": True}

    @task
    def fetch(x: int) -> int:
        calls.append("fetch")
        return x * 10

    @entrypoint(checkpointer=InMemorySaver())
    def wf(x: int) -> int:
        value = fetch(x).result()
        if fail["on"]:
            raise RuntimeError("transient")
        return value + 1

    with pytest.raises(RuntimeError, match="transient"):
        wf.invoke(4, cfg())
    fail["on"] = False
    assert wf.invoke(None, cfg()) == 41
    assert calls == ["fetch"]


def test_stream_shapes() -> None:
    @task
    def add_one(x: int) -> int:
        return x + 1

    @task(name="renamed")
    def double(x: int) -> int:
        return x * 2

    @entrypoint(checkpointer=InMemorySaver())
    def wf(x: int) -> int:
        return double(add_one(x).result()).result()

    assert double.__name__ == "renamed"
    assert list(wf.stream(1, cfg())) == [{"add_one": 2}, {"renamed": 4}, {"wf": 4}]
    assert list(wf.stream(1, cfg("v"), stream_mode="values")) == [4]


def test_parallel_task_calls() -> None:
    @task
    def square(x: int) -> int:
        return x * x

    @entrypoint()
    def wf(xs: list[int]) -> list[int]:
        futures = [square(x) for x in xs]
        return [f.result() for f in futures]

    assert wf.invoke([1, 2, 3]) == [1, 4, 9]


def test_entrypoint_definition_errors() -> None:
    with pytest.raises(NotImplementedError, match="Generators are not supported"):

        @entrypoint()
        def gen(x: int) -> Any:
            yield x

    with pytest.raises(ValueError, match="must have at least one parameter"):

        @entrypoint()
        def nothing() -> None:
            return None


def test_task_outside_a_run() -> None:
    @task
    def lonely() -> None:
        return None

    with pytest.raises(RuntimeError, match="outside of a runnable context"):
        lonely()


async def test_async_entrypoint_gathers_tasks_and_resumes() -> None:
    calls: list[int] = []

    @task
    async def slow_double(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.01)
        return x * 2

    @entrypoint(checkpointer=InMemorySaver())
    async def wf(xs: list[int]) -> dict[str, Any]:
        values = await asyncio.gather(*(slow_double(x) for x in xs))
        answer = interrupt("sum?")
        return {"values": list(values), "answer": answer}

    out = await wf.ainvoke([1, 2, 3], cfg())
    assert out["__interrupt__"][0].value == "sum?"
    assert await wf.ainvoke(Command(resume="ok"), cfg()) == {"values": [2, 4, 6], "answer": "ok"}
    assert sorted(calls) == [1, 2, 3]  # each call ran once


def test_task_policies_reassigned_after_decoration_take_effect() -> None:
    # LangGraph reads a task's retry_policy and cache_policy at each call, not at decoration.
    from threadloom.cache.memory import InMemoryCache
    from threadloom.types import CachePolicy, RetryPolicy

    calls: list[int] = []

    @task
    def flaky(x: int) -> int:
        calls.append(x)
        if calls.count(x) == 1:  # the first attempt with each argument fails
            raise ValueError(f"first attempt with {x} fails")
        return x * 10

    @entrypoint(cache=InMemoryCache())
    def run(x: int) -> int:
        return flaky(x).result()

    with pytest.raises(ValueError, match="with 1 fails"):
        run.invoke(1)
    flaky.retry_policy = RetryPolicy(
        max_attempts=2, initial_interval=0.0, jitter=False, retry_on=ValueError
    )
    assert run.invoke(2) == 20
    assert calls == [1, 2, 2]
    flaky.retry_policy = ()
    with pytest.raises(ValueError, match="with 3 fails"):
        run.invoke(3)
    assert calls == [1, 2, 2, 3]

    flaky.cache_policy = CachePolicy()
    assert run.invoke(3) == 30
    assert run.invoke(3) == 30  # served from the cache: flaky does not run again
    assert calls == [1, 2, 2, 3, 3]
