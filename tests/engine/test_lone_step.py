"""A one-task step ends the same way short (``engine/lone_step.py``) as the general way.

Each graph runs twice on its own thread, once with ``LONE_STEPS`` on and once forced off; the
two runs must give the same result or error, the same stream chunks and the same history: values,
next tasks, metadata, versions, ``versions_seen`` and pending writes of every checkpoint.
"""

from __future__ import annotations

import asyncio
import operator
import re
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.channels import UntrackedValue
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine import lone_step
from threadloom.errors import InvalidUpdateError
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, Send, interrupt


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    n: int
    last: str
    live: Annotated[str, UntrackedValue]


def _appender(name: str) -> Callable[[State], dict[str, Any]]:
    def run(state: State) -> dict[str, Any]:
        return {"log": [name], "n": state.get("n", 0) + 1, "last": name, "live": name}

    return run


def _mixed() -> StateGraph:
    """Lone steps (a, b, e, a node writing nothing, a Command) and a parallel one (two Sends)."""

    def fan(state: State) -> list[Send]:
        return [Send("c", {"log": [f"send{i}"]}) for i in range(2)]

    def route(state: State) -> Command[Any]:
        return Command(goto="a" if state.get("n", 0) < 5 else "quiet", update={"log": ["d"]})

    builder = StateGraph(State)
    builder.add_node("a", _appender("a"))
    builder.add_node("b", _appender("b"))
    builder.add_node("c", lambda s: {"log": ["c"]})
    builder.add_node("d", route)
    builder.add_node("quiet", lambda s: None)
    builder.add_node("e", _appender("e"))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_conditional_edges("b", fan, ["c"])
    builder.add_edge("c", "d")
    builder.add_edge("quiet", "e")
    builder.add_edge("e", END)
    return builder


def _no_ids(text: str) -> str:
    """An interrupt's id names its thread's task: left out, the two threads compare."""
    return re.sub(r"id='[0-9a-f]+'", "id=...", text)


def _history(saver: InMemorySaver, graph: Any, thread: str) -> list[tuple[Any, ...]]:
    config = {"configurable": {"thread_id": thread}}
    rows = []
    for s in graph.get_state_history(config):
        saved = saver.get_tuple(s.config)
        assert saved is not None
        rows.append(
            (
                s.values,
                s.next,
                {k: v for k, v in s.metadata.items() if k != "run_id"},
                len(s.tasks),
                sorted((w[1], _no_ids(repr(w[2]))) for w in saved.pending_writes or []),
                sorted(saved.checkpoint["channel_versions"]),
                sorted(
                    (node, sorted(seen)) for node, seen in saved.checkpoint["versions_seen"].items()
                ),
            )
        )
    return rows


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[Any, dict[str, Any]], Any], builder: Any
) -> tuple[Any, Any, list[Any], list[Any]]:
    """``run(graph, config)`` with the short way and with the general way: what each returned
    (or raised) and each thread's history."""
    saver = InMemorySaver()
    graph = builder.compile(checkpointer=saver)
    outcomes, histories = [], []
    for thread, short in (("short", True), ("general", False)):
        monkeypatch.setattr(lone_step, "LONE_STEPS", short)
        config: dict[str, Any] = {"configurable": {"thread_id": thread}}
        try:
            outcomes.append(run(graph, config))
        except Exception as exc:
            outcomes.append((type(exc), str(exc)))
        histories.append(_history(saver, graph, thread))
    return outcomes[0], outcomes[1], histories[0], histories[1]


def test_invoke_gives_the_same_result_and_history_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short, general, short_history, general_history = _both_ways(
        monkeypatch, lambda g, c: g.invoke({"n": 0}, c), _mixed()
    )
    assert short == general
    assert short["log"].count("c") == 6 and short["last"] == "e"
    assert short_history == general_history
    assert len(short_history) > 10


@pytest.mark.parametrize(
    "modes", ["values", ["values", "custom"], ["values", "debug"], "updates", "checkpoints"]
)
def test_stream_gives_the_same_chunks_both_ways(
    monkeypatch: pytest.MonkeyPatch, modes: Any
) -> None:
    def chunks(graph: Any, config: dict[str, Any]) -> list[Any]:
        found = []
        for mode, payload in graph.stream({"n": 0}, config, stream_mode=modes):
            if mode in ("debug", "checkpoints"):  # they name the thread and checkpoint ids
                payload = (payload.get("type"), payload.get("step"))
            found.append((mode, payload))
        return found

    wrapped = modes if isinstance(modes, list) else [modes]
    short, general, short_history, general_history = _both_ways(
        monkeypatch, lambda g, c: chunks(g, c) if wrapped else None, _mixed()
    )
    assert short == general and short
    assert short_history == general_history


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_every_durability_gives_the_same_history_both_ways(
    monkeypatch: pytest.MonkeyPatch, durability: str
) -> None:
    short, general, short_history, general_history = _both_ways(
        monkeypatch, lambda g, c: g.invoke({"n": 0}, c, durability=durability), _mixed()
    )
    assert short == general
    assert short_history == general_history


def test_ainvoke_gives_the_same_result_and_history_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short, general, short_history, general_history = _both_ways(
        monkeypatch, lambda g, c: asyncio.run(g.ainvoke({"n": 0}, c)), _mixed()
    )
    assert short == general and short["last"] == "e"
    assert short_history == general_history


def test_a_write_the_channel_refuses_fails_the_same_way_and_keeps_the_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder = StateGraph(State)
    builder.add_node("a", _appender("a"))
    builder.add_node("twice", lambda s: Command(update=[("last", "x"), ("last", "y")]))
    builder.add_edge(START, "a")
    builder.add_edge("a", "twice")
    short, general, short_history, general_history = _both_ways(
        monkeypatch, lambda g, c: g.invoke({"n": 0}, c), builder
    )
    assert short == general and short[0] is InvalidUpdateError
    assert short_history == general_history
    assert ("last", "'y'") in short_history[0][4]  # the failed step's writes are kept


def test_an_interrupt_and_its_resume_give_the_same_history_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def ask(state: State) -> dict[str, Any]:
        return {"last": interrupt("name?")}

    builder = StateGraph(State)
    builder.add_node("a", _appender("a"))
    builder.add_node("ask", ask)
    builder.add_node("e", _appender("e"))
    builder.add_edge(START, "a")
    builder.add_edge("a", "ask")
    builder.add_edge("ask", "e")

    def run(graph: Any, config: dict[str, Any]) -> Any:
        first = graph.invoke({"n": 0}, config)
        asked = [i.value for i in first.pop("__interrupt__")]  # (its id names the thread's task)
        return first, asked, graph.invoke(Command(resume="bob"), config)

    short, general, short_history, general_history = _both_ways(monkeypatch, run, builder)
    assert short == general and short[1] == ["name?"] and short[2]["log"] == ["a", "e"]
    assert short_history == general_history


def test_a_subgraph_node_gives_the_same_history_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inner = StateGraph(State)
    inner.add_node("x", _appender("x"))
    inner.add_node("y", _appender("y"))
    inner.add_edge(START, "x")
    inner.add_edge("x", "y")
    builder = StateGraph(State)
    builder.add_node("a", _appender("a"))
    builder.add_node("sub", inner.compile())
    builder.add_edge(START, "a")
    builder.add_edge("a", "sub")

    def run(graph: Any, config: dict[str, Any]) -> Any:
        result = graph.invoke({"n": 0}, config)
        return result, graph.get_state(config, subgraphs=True).values

    short, general, short_history, general_history = _both_ways(monkeypatch, run, builder)
    assert short == general and short[0]["log"] == ["a", "a", "x", "y"]  # its whole state back
    assert short_history == general_history


def test_the_short_way_is_taken_only_when_the_run_allows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken: list[str] = []
    original = lone_step.end_lone_step

    def spy(run: Any, task: Any) -> Any:
        taken.append(task.name)
        return original(run, task)

    monkeypatch.setattr("threadloom.engine.loop.end_lone_step", spy)
    graph = _mixed().compile(checkpointer=InMemorySaver())
    graph.invoke({"n": 0}, {"configurable": {"thread_id": "1"}})
    assert "a" in taken and "quiet" in taken and "c" not in taken  # not the parallel step
    for kwargs in (
        {"stream_mode": "updates"},
        {"stream_mode": "tasks"},
        {"durability": "exit"},
        {"interrupt_after": ["e"]},
    ):
        taken.clear()
        list(graph.stream({"n": 0}, {"configurable": {"thread_id": repr(kwargs)}}, **kwargs))
        assert taken == [], kwargs


def test_a_resumed_step_with_a_reused_sibling_gives_the_same_history_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On resume only the interrupted task runs (alone); its finished sibling's saved writes
    are applied with it, the short way too."""

    def ask(state: State) -> dict[str, Any]:
        return {"last": interrupt("name?")}

    builder = StateGraph(State)
    builder.add_node("a", _appender("a"))
    builder.add_node("b", lambda s: {"log": ["b"]})
    builder.add_node("ask", ask)
    builder.add_node("e", _appender("e"))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "ask")
    builder.add_edge(["b", "ask"], "e")
    taken: list[int] = []
    original = lone_step.end_lone_step

    def spy(run: Any, task: Any) -> Any:
        taken.append(len(run.tasks))
        return original(run, task)

    monkeypatch.setattr("threadloom.engine.loop.end_lone_step", spy)

    def run(graph: Any, config: dict[str, Any]) -> Any:
        graph.invoke({"n": 0}, config)
        return graph.invoke(Command(resume="bob"), config)

    short, general, short_history, general_history = _both_ways(monkeypatch, run, builder)
    assert short == general and short["log"] == ["a", "b", "e"] and short["last"] == "e"
    assert short_history == general_history
    assert 2 in taken  # the resumed step: one task run, two applied
