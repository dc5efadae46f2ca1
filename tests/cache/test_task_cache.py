"""``@task(cache_policy=...)`` under ``@entrypoint(cache=...)``: calls with equal arguments are
answered from the cache, within a run and across runs (LangGraph 1.2.22's chunks, observed)."""

from __future__ import annotations

import asyncio
from typing import Any

from threadloom.cache.memory import InMemoryCache
from threadloom.func import entrypoint, task
from threadloom.types import CachePolicy

CACHED = {"__metadata__": {"cached": True}}


def test_task_calls_with_equal_arguments_hit_the_cache() -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    cache: InMemoryCache[Any] = InMemoryCache()

    @entrypoint(cache=cache)
    def flow(x: int) -> list[int]:
        return [double(x).result(), double(x).result(), double(x + 1).result()]

    assert list(flow.stream(3, stream_mode="updates")) == [
        {"double": 6},
        {"double": 6, **CACHED},
        {"double": 8},
        {"flow": [6, 6, 8]},
    ]
    assert list(flow.stream(3, stream_mode="updates")) == [
        {"double": 6, **CACHED},
        {"double": 6, **CACHED},
        {"double": 8, **CACHED},
        {"flow": [6, 6, 8]},
    ]
    assert calls == [3, 4]
    double.clear_cache(cache)
    assert flow.invoke(3) == [6, 6, 8]
    assert calls == [3, 4, 3, 4]


def test_async_task_calls_hit_the_cache() -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    async def square(x: int) -> int:
        calls.append(x)
        return x * x

    @entrypoint(cache=InMemoryCache())
    async def flow(x: int) -> int:
        return int(await square(x)) + int(await square(x))

    assert asyncio.run(flow.ainvoke(5)) == 50
    assert asyncio.run(flow.ainvoke(5)) == 50
    assert calls == [5]


def test_entrypoint_cache_policy_is_the_default_of_its_tasks() -> None:
    calls: list[str] = []

    @task
    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    @entrypoint(cache=InMemoryCache(), cache_policy=CachePolicy())
    def flow(text: str) -> str:
        calls.append("flow")
        return str(shout(text).result())

    assert flow.invoke("hi") == "HI"
    assert flow.invoke("hi") == "HI"
    assert calls == ["flow", "hi"]  # the entrypoint itself is cached too, as in LangGraph
    flow.clear_cache()
    assert flow.invoke("hi") == "HI"
    assert calls == ["flow", "hi", "flow"]  # its task's entries are kept
