"""Cancelling an async run, as LangGraph 1.2.22 does it (issue 10, group 4).

Expected values were observed by running the same programs on LangGraph 1.2.22. Waits are
events, not timings: a node blocks until the test has cancelled the run.
"""

from __future__ import annotations

import asyncio
import operator
from contextlib import aclosing
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class _Hello(TypedDict):
    hello: str


class _LoggingSaver(InMemorySaver):
    def __init__(self, logs: list[str]) -> None:
        super().__init__()
        self.logs = logs

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        self.logs.append("aput.start")
        try:
            await asyncio.sleep(0)  # a real await: a cancel here would stop the save
            return await super().aput(config, checkpoint, metadata, new_versions)
        finally:
            self.logs.append("aput.end")


def _blocked_graph(logs: list[str], started: asyncio.Event) -> Any:
    async def awhile(state: _Hello) -> None:
        logs.append("node.start")
        started.set()
        try:
            await asyncio.Event().wait()  # until cancelled
        except asyncio.CancelledError:
            logs.append("node.cancelled")
            raise

    builder = StateGraph(_Hello)
    builder.add_node("agent", awhile)
    builder.add_edge(START, "agent")
    return builder.compile(checkpointer=_LoggingSaver(logs))


@pytest.mark.parametrize("how", ["ainvoke", "anext"])
async def test_a_cancelled_exit_run_still_saves_its_checkpoint(how: str) -> None:
    logs: list[str] = []
    started = asyncio.Event()
    graph = _blocked_graph(logs, started)
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    if how == "ainvoke":
        running = asyncio.ensure_future(
            graph.ainvoke({"hello": "world"}, config, durability="exit")
        )
    else:
        stream = graph.astream({"hello": "world"}, config, durability="exit")
        running = asyncio.ensure_future(stream.__anext__())
    await started.wait()
    assert logs == ["node.start"]
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # LangGraph 1.2.22: the node is cancelled, then the exit save runs to its end
    assert logs == ["node.start", "node.cancelled", "aput.start", "aput.end"]
    saved = [t.metadata["step"] for t in graph.checkpointer.list(config)]
    assert saved == [0]
    assert (await graph.aget_state(config)).next == ("agent",)


class _Counter(TypedDict):
    value: Annotated[int, operator.add]


async def test_closing_the_stream_cancels_the_running_parallel_node() -> None:
    parallel: dict[str, Any] = {"started": False, "cancelled": False}
    after_started = False
    release_little = asyncio.Event()

    async def little(state: _Counter) -> dict[str, int]:
        await release_little.wait()
        return {"value": 2}

    async def long_parallel(state: _Counter) -> None:
        parallel["started"] = True
        release_little.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            parallel["cancelled"] = True
            raise

    async def after(state: _Counter) -> None:
        nonlocal after_started
        after_started = True

    builder = StateGraph(_Counter)
    builder.add_node("little", little)
    builder.add_node("parallel", long_parallel)
    builder.add_node("after", after)
    builder.add_edge(START, "little")
    builder.add_edge(START, "parallel")
    builder.add_edge("little", "after")
    graph = builder.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}

    async with aclosing(graph.astream({"value": 1}, config)) as stream:
        async for chunk in stream:
            assert chunk == {"little": {"value": 2}}
            break
    # when aclose() returns, the parallel node has been cancelled (not only asked to stop)
    assert parallel == {"started": True, "cancelled": True}
    assert not after_started
    state = await graph.aget_state(config)
    assert state.values == {"value": 3}
    assert state.next == ("parallel",)
    assert state.metadata == {"parents": {}, "source": "loop", "step": 0}


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_a_finished_call_is_not_run_again_after_cancel_and_resume(durability: Any) -> None:
    calls, cancels = 0, 0
    gate = asyncio.Event()

    @task()
    async def mapper(value: int) -> str:
        nonlocal calls, cancels
        calls += 1
        try:
            if value == 1:
                await asyncio.Event().wait()  # cancelled by the entrypoint
            gate.set()
        except asyncio.CancelledError:
            cancels += 1
            raise
        return str(value) * 2

    @entrypoint(checkpointer=InMemorySaver())
    async def graph(values: list[int]) -> list[str]:
        futures = [mapper(v) for v in values]
        await gate.wait()
        await asyncio.sleep(0)  # let the blocked call start before it is cancelled
        futures.pop().cancel()
        mapped = await asyncio.gather(*futures)
        answer = interrupt("question")
        return [m + answer for m in mapped]

    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    chunks = [c async for c in graph.astream([0, 1], config, durability=durability)]
    assert [list(c) for c in chunks] == [["mapper"], ["__interrupt__"]]
    assert (calls, cancels) == (2, 1)
    resumed = await graph.ainvoke(Command(resume="answer"), config, durability=durability)
    assert resumed == ["00answer"]
    assert (calls, cancels) == (3, 2)  # mapper(0) reused its saved result, in every mode
