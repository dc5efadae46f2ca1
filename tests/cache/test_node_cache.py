"""Node caching as LangGraph 1.2 has it: ``add_node(cache_policy=...)`` with ``compile(cache=...)``.

The expected chunks are those LangGraph 1.2.22 streams for the same programs (observed side by
side): a hit skips the node and replays its writes; its ``updates`` chunk carries
``"__metadata__": {"cached": True}``; the ``tasks`` mode shows its start but no result.
"""

from __future__ import annotations

import asyncio
import operator
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.cache.base import BaseCache
from threadloom.cache.memory import InMemoryCache
from threadloom.cache.sqlite import SqliteCache
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import CachePolicy, Send, interrupt


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


CACHED = {"__metadata__": {"cached": True}}


def two_nodes(
    cache: BaseCache[Any] | None,
    calls: list[str],
    policy: CachePolicy[Any] | None = None,
    saver: Any = None,
) -> Any:
    def a(state: State) -> dict[str, Any]:
        calls.append("a")
        return {"x": state["x"] + 1, "log": ["a"]}

    def b(state: State) -> dict[str, Any]:
        calls.append("b")
        return {"log": ["b"]}

    builder = StateGraph(State)
    builder.add_node("a", a, cache_policy=policy or CachePolicy())
    builder.add_node("b", b)
    builder.add_edge(START, "a").add_edge("a", "b")
    return builder.compile(cache=cache, checkpointer=saver)


def test_a_hit_skips_the_node_and_replays_its_writes(cache: BaseCache[Any]) -> None:
    calls: list[str] = []
    graph = two_nodes(cache, calls)
    first = list(graph.stream({"x": 1, "log": []}, stream_mode="updates"))
    assert first == [{"a": {"x": 2, "log": ["a"]}}, {"b": {"log": ["b"]}}]
    second = list(graph.stream({"x": 1, "log": []}, stream_mode="updates"))
    assert second == [{"a": {"x": 2, "log": ["a"]}, **CACHED}, {"b": {"log": ["b"]}}]
    assert calls == ["a", "b", "b"]
    assert graph.invoke({"x": 2, "log": []}) == {"x": 3, "log": ["a", "b"]}  # another input
    assert calls == ["a", "b", "b", "a", "b"]


def test_async_runs_share_the_cache_with_sync_runs(cache: BaseCache[Any]) -> None:
    calls: list[str] = []
    graph = two_nodes(cache, calls)
    graph.invoke({"x": 7, "log": []})

    async def run() -> list[Any]:
        return [chunk async for chunk in graph.astream({"x": 7, "log": []})]

    assert asyncio.run(run()) == [{"a": {"x": 8, "log": ["a"]}, **CACHED}, {"b": {"log": ["b"]}}]
    assert calls == ["a", "b", "b"]


def test_tasks_mode_shows_a_hit_start_but_no_result() -> None:
    calls: list[str] = []
    graph = two_nodes(InMemoryCache(), calls)
    graph.invoke({"x": 1, "log": []})
    chunks = list(graph.stream({"x": 1, "log": []}, stream_mode=["tasks"]))
    starts = [c["name"] for _, c in chunks if "input" in c]
    results = [c["name"] for _, c in chunks if "result" in c]
    assert starts == ["a", "b"] and results == ["b"]


def test_the_cache_is_shared_across_threads_and_state_is_complete() -> None:
    calls: list[str] = []
    graph = two_nodes(InMemoryCache(), calls, saver=InMemorySaver())
    graph.invoke({"x": 5, "log": []}, {"configurable": {"thread_id": "1"}})
    graph.invoke({"x": 5, "log": []}, {"configurable": {"thread_id": "2"}})
    assert calls == ["a", "b", "b"]
    state = graph.get_state({"configurable": {"thread_id": "2"}})
    assert state.values == {"x": 6, "log": ["a", "b"]}
    assert [
        h.metadata["source"] for h in graph.get_state_history({"configurable": {"thread_id": "2"}})
    ] == [
        "loop",
        "loop",
        "loop",
        "input",
    ]


def test_an_entry_expires_after_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    graph = two_nodes(InMemoryCache(), calls, policy=CachePolicy(ttl=60))
    graph.invoke({"x": 1, "log": []})
    graph.invoke({"x": 1, "log": []})
    assert calls.count("a") == 1
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)  # no sleeping: the clock moves
    graph.invoke({"x": 1, "log": []})
    assert calls.count("a") == 2


def test_key_func_decides_which_inputs_are_equal() -> None:
    calls: list[str] = []
    by_parity = CachePolicy(key_func=lambda state: str(state["x"] % 2))
    graph = two_nodes(InMemoryCache(), calls, policy=by_parity)
    graph.invoke({"x": 1, "log": []})
    assert graph.invoke({"x": 3, "log": []}) == {"x": 2, "log": ["a", "b"]}  # 1's writes
    assert calls.count("a") == 1


def test_a_sqlite_cache_serves_a_graph_built_in_another_process_start(tmp_path: Path) -> None:
    path = str(tmp_path / "restart.db")
    calls: list[str] = []
    first_cache: SqliteCache[Any] = SqliteCache(path=path)
    two_nodes(first_cache, calls).invoke({"x": 1, "log": []})
    first_cache.close()
    second_cache: SqliteCache[Any] = SqliteCache(path=path)
    assert two_nodes(second_cache, calls).invoke({"x": 1, "log": []}) == {
        "x": 2,
        "log": ["a", "b"],
    }
    second_cache.close()
    assert calls == ["a", "b", "b"]


def test_clear_cache_drops_the_nodes_entries(cache: BaseCache[Any]) -> None:
    calls: list[str] = []
    graph = two_nodes(cache, calls)
    graph.invoke({"x": 1, "log": []})
    graph.clear_cache(nodes=["b"])  # b is not cached: a's entry stays
    graph.invoke({"x": 1, "log": []})
    assert calls.count("a") == 1
    graph.clear_cache()
    graph.invoke({"x": 1, "log": []})
    assert calls.count("a") == 2
    asyncio.run(graph.aclear_cache(["a"]))
    graph.invoke({"x": 1, "log": []})
    assert calls.count("a") == 3


def test_clear_cache_without_a_cache_raises() -> None:
    graph = two_nodes(None, [])
    with pytest.raises(ValueError, match="No cache is set for this graph"):
        graph.clear_cache()


def test_a_node_without_a_cache_on_the_graph_always_runs() -> None:
    calls: list[str] = []
    graph = two_nodes(None, calls)
    graph.invoke({"x": 1, "log": []})
    graph.invoke({"x": 1, "log": []})
    assert calls == ["a", "b", "a", "b"]


def test_errors_and_interrupts_are_never_cached() -> None:
    attempts: list[int] = []

    def flaky(state: State) -> dict[str, Any]:
        attempts.append(state["x"])
        if len(attempts) == 1:
            raise RuntimeError("first call fails")
        return {"log": ["ok"]}

    def ask(state: State) -> dict[str, Any]:
        return {"log": [interrupt("name?")]}

    builder = StateGraph(State)
    builder.add_node("flaky", flaky, cache_policy=CachePolicy())
    builder.add_node("ask", ask, cache_policy=CachePolicy())
    builder.add_edge(START, "flaky").add_edge("flaky", "ask")
    graph = builder.compile(cache=InMemoryCache(), checkpointer=InMemorySaver())
    with pytest.raises(RuntimeError, match="first call fails"):
        graph.invoke({"x": 1, "log": []}, {"configurable": {"thread_id": "e"}})
    out = graph.invoke({"x": 1, "log": []}, {"configurable": {"thread_id": "f"}})
    assert len(attempts) == 2 and "__interrupt__" in out
    out = graph.invoke({"x": 1, "log": []}, {"configurable": {"thread_id": "g"}})
    assert len(attempts) == 2  # flaky's success is cached; ask asks again
    assert "__interrupt__" in out


def test_send_tasks_are_cached_by_their_own_argument() -> None:
    calls: list[int] = []

    class Fan(TypedDict):
        items: list[int]
        squares: Annotated[list[int], operator.add]

    def square(arg: dict[str, int]) -> dict[str, Any]:
        calls.append(arg["n"])
        return {"squares": [arg["n"] ** 2]}

    def fan_out(state: Fan) -> list[Send]:
        return [Send("square", {"n": n}) for n in state["items"]]

    builder = StateGraph(Fan).add_node("square", square, cache_policy=CachePolicy())
    builder.add_conditional_edges(START, fan_out, ["square"])
    graph = builder.compile(cache=InMemoryCache())
    assert graph.invoke({"items": [1, 2], "squares": []})["squares"] == [1, 4]
    assert graph.invoke({"items": [2, 3], "squares": []})["squares"] == [4, 9]
    assert sorted(calls) == [1, 2, 3]  # each argument once; parallel tasks run in any order


def test_set_node_defaults_cache_policy_caches_nodes_without_their_own() -> None:
    calls: list[str] = []

    def a(state: State) -> dict[str, Any]:
        calls.append("a")
        return {"log": ["a"]}

    builder = StateGraph(State).add_node("a", a).add_edge(START, "a")
    graph = builder.set_node_defaults(cache_policy=CachePolicy()).compile(cache=InMemoryCache())
    graph.invoke({"x": 1, "log": []})
    assert list(graph.stream({"x": 1, "log": []})) == [{"a": {"log": ["a"]}, **CACHED}]
    assert calls == ["a"]


def test_a_hit_in_the_very_next_step_of_an_async_run(cache: BaseCache[Any]) -> None:
    # "p" runs twice with the same key, one step apart (after "a", then after "b"): the second
    # time is a hit in async runs too. LangGraph 1.2.22 runs it again there (its async cache
    # write lags one step; docs/differences.md 34); sync runs hit in both.
    calls: list[str] = []

    class Log(TypedDict):
        log: Annotated[list[str], operator.add]

    def p(state: Log) -> dict[str, Any]:
        calls.append("p")
        return {"log": [f"p#{len(calls)}"]}

    builder = StateGraph(Log)
    builder.add_node("a", lambda s: {"log": ["a"]}).add_node("b", lambda s: {"log": ["b"]})
    builder.add_node("p", p, cache_policy=CachePolicy(key_func=lambda s: "same"))
    builder.add_edge(START, "a").add_edge("a", "p").add_edge("a", "b").add_edge("b", "p")
    graph = builder.compile(cache=cache)
    assert asyncio.run(graph.ainvoke({"log": []})) == {"log": ["a", "b", "p#1", "p#1"]}
    assert calls == ["p"]
