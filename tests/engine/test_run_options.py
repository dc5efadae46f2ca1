"""A compiled graph keeps one ``RunOptions`` per set of options its calls ask for
(``call_setup.run_options``) and shares it between the runs that ask for the same: each call
must still get what it asked for, an option changed between two calls (or on the graph) counts
at the next call, and nothing one run does to its state reaches another run, on other threads
or in other tasks of one event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.config import get_config, get_store
from threadloom.errors import GraphRecursionError
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph
from threadloom.runtime import RunControl, Runtime
from threadloom.store.memory import InMemoryStore


class State(TypedDict, total=False):
    x: int
    note: str


def _chain(**compile_args: Any) -> Any:
    builder = StateGraph(State)
    builder.add_sequence(
        [("one", lambda s: {"x": s["x"] + 1}), ("two", lambda s: {"x": s["x"] * 10})]
    )
    builder.add_edge(START, "one")
    return builder.compile(**compile_args)


def _thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def test_runs_asking_the_same_share_one_frozen_record_and_others_get_their_own() -> None:
    graph = _chain(checkpointer=InMemorySaver())
    for i in range(3):
        assert graph.invoke({"x": 1}, _thread(f"t{i}")) == {"x": 20}
    assert len(graph._run_options) == 1
    (_, _, options), *_ = graph._run_options.values()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.recursion_limit = 1  # type: ignore[misc]
    graph.invoke({"x": 1}, {**_thread("t"), "recursion_limit": 50})
    assert list(graph.stream({"x": 1}, _thread("u"), stream_mode="values"))[-1] == {"x": 20}
    assert len(graph._run_options) == 3


def test_stream_mode_changed_between_calls() -> None:
    graph = _chain(checkpointer=InMemorySaver())
    updates = list(graph.stream({"x": 1}, _thread("a"), stream_mode="updates"))
    assert updates == [{"one": {"x": 2}}, {"two": {"x": 20}}]
    values = list(graph.stream({"x": 1}, _thread("b"), stream_mode="values"))
    assert values == [{"x": 1}, {"x": 2}, {"x": 20}]
    assert list(graph.stream({"x": 1}, _thread("c"), stream_mode="updates")) == updates
    assert graph.invoke({"x": 1}, _thread("d"), stream_mode="updates") == updates
    # output_keys: a call naming one reads it, the next one naming none reads the state
    assert graph.invoke({"x": 1}, _thread("e"), output_keys="x") == 20
    assert graph.invoke({"x": 1}, _thread("f")) == {"x": 20}
    with pytest.raises(ValueError, match="Key nope not in channels"):
        graph.invoke({"x": 1}, _thread("g"), output_keys="nope")


def test_the_loops_choices_are_worked_out_once_per_record() -> None:
    """``inline_ok``, ``lone_steps`` and ``quiet_outcomes`` (what the run loop used to work out
    at every run) follow the options each record was made for."""
    graph = _chain(checkpointer=InMemorySaver())

    def options_of(call: Any) -> Any:
        graph._run_options.clear()
        call()
        ((_, _, options),) = graph._run_options.values()
        return options.inline_ok, options.lone_steps, options.quiet_outcomes

    def run(thread: str, **kwargs: Any) -> Any:
        return lambda: list(graph.stream({"x": 1}, _thread(thread), **kwargs))

    assert options_of(lambda: graph.invoke({"x": 1}, _thread("a"))) == (True, True, True)
    assert options_of(run("b", stream_mode="values")) == (True, True, True)
    assert options_of(run("c", stream_mode="updates")) == (True, False, False)
    assert options_of(run("d", stream_mode="tasks")) == (True, False, False)
    assert options_of(run("e", stream_mode="custom")) == (False, True, True)
    assert options_of(run("f", stream_mode="messages")) == (False, True, True)
    assert options_of(run("g", stream_mode="values", durability="exit")) == (True, False, True)
    graph._run_options.clear()
    graph.invoke({"x": 1}, _thread("h"), interrupt_after=["one"])  # (a record of its own)
    assert not graph._run_options

    @entrypoint(checkpointer=InMemorySaver())
    def work(n: int) -> int:
        return n

    work.invoke(1, _thread("i"))
    list(work.stream(1, _thread("j"), stream_mode="updates"))
    choices = {opts.modes: opts.inline_ok for _, _, opts in work._run_options.values()}
    assert choices == {frozenset({"values"}): True, frozenset({"updates"}): False}
    timed = _chain()
    timed.step_timeout = 5.0
    assert timed.invoke({"x": 1}) == {"x": 20}
    ((_, _, options),) = timed._run_options.values()
    assert not options.inline_ok and options.lone_steps


def test_durability_changed_between_calls() -> None:
    saver = InMemorySaver()
    graph = _chain(checkpointer=saver)

    def saved(thread: str) -> int:
        return len(list(graph.get_state_history(_thread(thread))))

    graph.invoke({"x": 1}, _thread("exit"), durability="exit")
    graph.invoke({"x": 1}, _thread("sync"), durability="sync")
    graph.invoke({"x": 1}, _thread("exit2"), durability="exit")
    graph.invoke({"x": 1}, {"configurable": {"thread_id": "cfg", "__pregel_durability": "exit"}})
    assert (saved("exit"), saved("sync"), saved("exit2"), saved("cfg")) == (1, 4, 1, 1)
    with pytest.warns(UserWarning, match="no effect"):  # said at every call, kept or not
        _chain().invoke({"x": 1}, durability="sync")
    graph_without = _chain()
    for _ in range(2):
        with pytest.warns(UserWarning, match="no effect"):
            graph_without.invoke({"x": 1}, durability="sync")


def test_interrupts_changed_between_calls() -> None:
    graph = _chain(checkpointer=InMemorySaver())
    assert graph.invoke({"x": 1}, _thread("a")) == {"x": 20}
    graph.invoke({"x": 1}, _thread("b"), interrupt_before=["two"])
    assert graph.get_state(_thread("b")).next == ("two",)
    graph.invoke({"x": 1}, _thread("c"), interrupt_after=["one"])
    assert graph.get_state(_thread("c")).next == ("two",)
    assert graph.invoke({"x": 1}, _thread("d")) == {"x": 20}
    assert graph.get_state(_thread("d")).next == ()


def test_recursion_limit_changed_between_calls() -> None:
    graph = _chain(checkpointer=InMemorySaver())
    assert graph.invoke({"x": 1}, _thread("a")) == {"x": 20}
    with pytest.raises(GraphRecursionError):
        graph.invoke({"x": 1}, {**_thread("b"), "recursion_limit": 1})
    assert graph.invoke({"x": 1}, {**_thread("c"), "recursion_limit": 10}) == {"x": 20}
    with pytest.raises(GraphRecursionError):  # the kept record of limit 1 still says so
        graph.invoke({"x": 1}, {**_thread("d"), "recursion_limit": 1})
    with pytest.raises(ValueError, match="recursion_limit must be at least 1"):
        graph.invoke({"x": 1}, {**_thread("e"), "recursion_limit": 0})


def test_checkpointer_and_step_timeout_changed_on_the_graph() -> None:
    first, second = InMemorySaver(), InMemorySaver()
    graph = _chain(checkpointer=first)
    graph.invoke({"x": 1}, _thread("a"))
    graph.checkpointer = second
    graph.invoke({"x": 2}, _thread("a"))
    assert first.get_tuple(_thread("a")).checkpoint["channel_values"]["x"] == 20
    assert second.get_tuple(_thread("a")).checkpoint["channel_values"]["x"] == 30
    copy = graph.copy({"checkpointer": first})
    copy.invoke({"x": 3}, _thread("b"))
    assert first.get_tuple(_thread("b")) is not None and second.get_tuple(_thread("b")) is None
    graph.invoke({"x": 3}, _thread("c"))
    assert second.get_tuple(_thread("c")) is not None and first.get_tuple(_thread("c")) is None

    blocked = threading.Event()

    def slow(state: State) -> State:
        blocked.wait(5)
        return {"x": 0}

    builder = StateGraph(State)
    builder.add_node("slow", slow)
    builder.add_edge(START, "slow")
    timed = builder.compile()
    blocked.set()
    assert timed.invoke({"x": 1}) == {"x": 0}  # no timeout: the first call's record says so
    blocked.clear()
    timed.step_timeout = 0.05
    with pytest.raises(TimeoutError):
        timed.invoke({"x": 1})
    blocked.set()


def test_context_store_and_callbacks_changed_between_calls() -> None:
    seen: list[Any] = []

    class Context(TypedDict):
        user: str

    def node(state: State, runtime: Runtime[Context]) -> State:
        store = get_store()
        seen.append((runtime.context, store.get(("n",), "k").value if store else None))
        return {"x": state["x"]}

    builder = StateGraph(State, context_schema=Context)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    graph = builder.compile()
    one, two = InMemoryStore(), InMemoryStore()
    one.put(("n",), "k", {"v": 1})
    two.put(("n",), "k", {"v": 2})
    graph.invoke({"x": 1}, {"configurable": {"__pregel_store": one}}, context={"user": "a"})
    graph.invoke({"x": 1}, {"configurable": {"__pregel_store": two}}, context={"user": "b"})
    graph.invoke({"x": 1})
    assert seen == [({"user": "a"}, {"v": 1}), ({"user": "b"}, {"v": 2}), (None, None)]


def test_concurrent_runs_on_threads_keep_their_own_options_and_control() -> None:
    graph = _chain(checkpointer=InMemorySaver())
    barrier = threading.Barrier(4)
    results: dict[int, Any] = {}

    def run(i: int) -> None:
        barrier.wait()
        for round_ in range(20):
            thread = _thread(f"{i}-{round_}")
            try:
                if i % 2:
                    results[i] = graph.invoke({"x": i}, {**thread, "recursion_limit": 1})
                else:
                    results[i] = list(graph.stream({"x": i}, thread, stream_mode="updates"))
            except GraphRecursionError as exc:
                results[i] = type(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results[1] is GraphRecursionError and results[3] is GraphRecursionError
    assert results[0] == [{"one": {"x": 1}}, {"two": {"x": 10}}]
    assert results[2] == [{"one": {"x": 3}}, {"two": {"x": 30}}]


def test_a_drain_asked_of_one_run_stops_only_that_run() -> None:
    from threadloom.errors import GraphDrained

    control = RunControl()
    stop_now = {"drain": False}

    def one(state: State) -> State:
        if stop_now["drain"]:
            control.request_drain("stop")
        return {"x": state["x"] + 1}

    builder = StateGraph(State)
    builder.add_node("one", one)
    builder.add_node("two", lambda s: {"x": s["x"] * 10})
    builder.add_edge(START, "one")
    builder.add_edge("one", "two")
    graph = builder.compile(checkpointer=InMemorySaver())
    assert graph.invoke({"x": 1}, _thread("a")) == {"x": 20}
    stop_now["drain"] = True
    with pytest.raises(GraphDrained):
        graph.invoke({"x": 1}, _thread("b"), control=control)
    assert graph.invoke({"x": 1}, _thread("c")) == {"x": 20}  # a new control of its own


def test_concurrent_tasks_of_one_event_loop_keep_their_own_options() -> None:
    @task
    def double(n: int) -> int:
        return n * 2

    @entrypoint(checkpointer=InMemorySaver())
    async def flow(n: int) -> dict[str, Any]:
        await asyncio.sleep(0)  # the other runs of the loop go on meanwhile
        values = [await double(n), await double(n + 1)]
        return {"values": values, "limit": get_config()["recursion_limit"]}

    async def main() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    flow.ainvoke(n, {**_thread(f"loop{n}"), "recursion_limit": 10 + n})
                    for n in range(6)
                )
            )
        )

    got = asyncio.run(main())
    assert got == [{"values": [2 * n, 2 * n + 2], "limit": 10 + n} for n in range(6)]
