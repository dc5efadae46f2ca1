"""Differences `benchmarks/fault_diff.py` found between threadloom and LangGraph 1.2.22, now fixed.

That fuzzer runs random graphs and entrypoints, sync and async, with nodes and tasks that fail
once, ask questions and fan out, edits their state between runs and compares what a user sees.
Each test is one difference; it passes on LangGraph 1.2.22 with the import root swapped.
"""

from __future__ import annotations

from typing import Any

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task


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
