"""``await run.abort()`` from another task while a reader waits on the run: the node running
then (here inside a subgraph) is cancelled and the reader's loop ends, as LangGraph 1.2.22's
(checked with the import root swapped). Conditions are events, never timings."""

from __future__ import annotations

import asyncio
from typing import Any

from typing_extensions import TypedDict

from threadloom.graph import START, StateGraph


class State(TypedDict):
    count: int


def test_abort_from_another_task_cancels_the_running_node_and_ends_the_reader() -> None:
    async def scenario() -> tuple[bool, bool]:
        started, cancelled, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def slow(state: State) -> dict[str, Any]:
            started.set()
            try:
                await release.wait()  # never set: only a cancel ends it
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return {"count": 1}

        inner = StateGraph(State).add_node("slow", slow).add_edge(START, "slow").compile()

        async def outer_node(state: State) -> dict[str, Any]:
            return await inner.ainvoke({"count": 0})  # type: ignore[no-any-return]

        outer = StateGraph(State).add_node("outer", outer_node).add_edge(START, "outer").compile()
        run = await outer.astream_events({"count": 0}, version="v3")
        seen: list[Any] = []

        async def read() -> None:
            async for event in run:
                seen.append(event)

        reader = asyncio.create_task(read())
        await started.wait()
        for _ in range(100):  # let the reader read what is there and wait on the run
            await asyncio.sleep(0)
        await run.abort()
        await cancelled.wait()
        done, _ = await asyncio.wait([reader])
        return cancelled.is_set(), reader in done

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == (True, True)
