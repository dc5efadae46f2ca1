"""Where a ``@task`` call's update shows in ``astream_events``: after its caller has resumed.

On the async driver, a call's streamed chunks reach the run's consumer on the event loop's next
turn, so an entrypoint that returns right after its last call streams its own output first and
the root's chunk of that call after it, as LangGraph 1.2.22 does (checked with the import root
swapped). A call that fails still shows its start, and the run goes on.
"""

from __future__ import annotations

import asyncio
import contextlib

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.func import entrypoint, task


@task()
async def double(number: int) -> int:
    return number * 2


@task()
async def fails(number: int) -> int:
    raise ValueError(f"no {number}")


@entrypoint(checkpointer=InMemorySaver())
async def workflow(number: int) -> str:
    await double(number)
    with contextlib.suppress(ValueError):
        await fails(number)
    await double(number)
    return "done"


def _events(thread: str) -> list[tuple[str, str]]:
    async def collect() -> list[tuple[str, str]]:
        config = {"configurable": {"thread_id": thread}}
        return [
            (event["event"], event["name"])
            async for event in workflow.astream_events(1, config, version="v2")
        ]

    return asyncio.run(collect())


def test_the_caller_resumes_before_the_root_streams_a_calls_update() -> None:
    assert _events("1") == [
        ("on_chain_start", "LangGraph"),
        ("on_chain_start", "workflow"),
        ("on_chain_start", "double"),
        ("on_chain_stream", "double"),
        ("on_chain_end", "double"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_start", "fails"),  # its failure streams nothing, and the run goes on
        ("on_chain_start", "double"),
        ("on_chain_stream", "double"),
        ("on_chain_end", "double"),
        # it returned before the root streamed the second update
        ("on_chain_stream", "workflow"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_end", "workflow"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_end", "LangGraph"),
    ]


def test_a_second_run_on_the_thread_streams_in_the_same_order() -> None:
    first = _events("2")
    assert _events("2") == first
