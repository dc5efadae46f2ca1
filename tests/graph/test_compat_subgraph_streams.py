"""What subgraphs stream and save, as in LangGraph: chunks of a graph invoked in a node (custom
output before its breakpoint included), namespaces of ``checkpointer=True`` subgraphs (no task
ids), debug checkpoint events carrying a ``checkpoint_map``, durability ``"exit"`` inherited, and
a subgraph in a loop after a replay. Expected values observed on LangGraph 1.2.22 running the
same graphs."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import END, START, StateGraph
from threadloom.types import Command, StreamWriter, interrupt


class State(TypedDict):
    value: Annotated[list[str], operator.add]


def adds(name: str) -> Any:
    return lambda state: {"value": [name]}


def names(namespace: tuple[str, ...]) -> list[str]:
    """A namespace with its task ids marked ``:T`` (they are random)."""
    return [p.split(":")[0] + (":T" if ":" in p else "") for p in namespace]


def cfg(thread: str = "1") -> Any:
    return {"configurable": {"thread_id": thread}}


def test_custom_output_of_a_graph_invoked_in_a_node_before_its_breakpoint() -> None:
    def model(state: State, writer: StreamWriter) -> dict[str, Any]:
        writer(" very")
        return {"value": ["model"]}

    def weather(state: State, writer: StreamWriter) -> dict[str, Any]:
        writer(" good")
        return {"value": ["weather"]}

    sub = StateGraph(State).add_node("model", model).add_node("weather", weather)
    sub.add_edge(START, "model").add_edge("model", "weather")
    subgraph = sub.compile(interrupt_before=["weather"])

    def router(state: State, writer: StreamWriter) -> dict[str, Any]:
        writer("I'm")
        return {"value": ["router"]}

    def call_weather(state: State) -> Any:
        return subgraph.invoke(state)

    parent = StateGraph(State).add_node("router", router).add_node("call", call_weather)
    graph = (
        parent.add_edge(START, "router")
        .add_edge("router", "call")
        .compile(checkpointer=InMemorySaver())
    )
    first = graph.stream({"value": []}, cfg(), stream_mode="custom", subgraphs=True)
    assert [(names(ns), chunk) for ns, chunk in first] == [([], "I'm"), (["call:T"], " very")]
    resumed = graph.stream(None, cfg(), stream_mode="custom", subgraphs=True)
    assert [(names(ns), chunk) for ns, chunk in resumed] == [(["call:T"], " good")]
    other = graph.stream({"value": []}, cfg("2"), stream_mode="custom")
    assert list(other) == ["I'm"]  # without subgraphs=True, only the parent's own


def test_checkpointer_true_subgraphs_stream_under_their_name() -> None:
    inner = StateGraph(State).add_node("i", adds("i")).add_edge(START, "i")
    sub = StateGraph(State).add_node("a", adds("a"))
    sub.add_node("inner", inner.compile(checkpointer=True)).add_edge(START, "a")
    subgraph = sub.add_edge("a", "inner").compile(checkpointer=True)

    def caller(state: State) -> Any:
        return subgraph.invoke(state)

    parent = StateGraph(State).add_node("sub", subgraph).add_node("c", caller)
    graph = parent.add_edge(START, "sub").add_edge("sub", "c").compile(checkpointer=InMemorySaver())
    chunks = graph.stream({"value": []}, cfg(), subgraphs=True)
    assert [(names(ns), list(update)) for ns, update in chunks] == [
        (["sub"], ["a"]),
        (["sub", "inner"], ["i"]),
        (["sub"], ["inner"]),
        ([], ["sub"]),
        (["c"], ["a"]),
        (["c", "inner"], ["i"]),
        (["c"], ["inner"]),
        ([], ["c"]),
    ]


@pytest.mark.parametrize(("checkpointer", "ns"), [(None, "sub:T"), (True, "sub")])
def test_debug_checkpoint_events_of_a_subgraph_carry_its_checkpoint_map(
    checkpointer: Any, ns: str
) -> None:
    sub = StateGraph(State).add_node("a", adds("a")).add_edge(START, "a")
    parent = StateGraph(State).add_node("p", adds("p"))
    parent.add_node("sub", sub.compile(checkpointer=checkpointer))
    graph = parent.add_edge(START, "p").add_edge("p", "sub").compile(checkpointer=InMemorySaver())
    events = [
        (namespace, event["payload"])
        for namespace, event in graph.stream(
            {"value": []}, cfg(), stream_mode="debug", subgraphs=True
        )
        if event["type"] == "checkpoint"
    ]
    first_sub = next(i for i, (n, _) in enumerate(events) if n)
    # the checkpoint the parent's "sub" task runs from: the parent's last one before it
    parent_of_sub = events[first_sub - 1][1]["config"]["configurable"]["checkpoint_id"]
    sub_events = [(n, p) for n, p in events if n]
    assert len(sub_events) == 3  # input, the step of "a", the end
    previous = None
    for namespace, payload in sub_events:
        assert names(namespace) == [ns]
        config = payload["config"]["configurable"]
        assert names(tuple(config["checkpoint_ns"].split("|"))) == [ns]
        own = config["checkpoint_id"]
        assert config["checkpoint_map"] == {"": parent_of_sub, config["checkpoint_ns"]: own}
        if previous is None:
            assert payload["parent_config"] is None
        else:
            parent_map = payload["parent_config"]["configurable"]["checkpoint_map"]
            assert parent_map == {"": parent_of_sub, config["checkpoint_ns"]: previous}
        previous = own
    assert all("checkpoint_map" not in p["config"]["configurable"] for n, p in events if not n)


@pytest.mark.parametrize(
    ("checkpointer", "ask", "saved"),
    [
        (None, False, [("", "loop", 2)]),
        (None, True, [("", "loop", 1), ("", "loop", 2), ("sub", "loop", 1)]),
        (True, False, [("", "loop", 2), ("sub", "loop", 2)]),
        (True, True, [("", "loop", 1), ("", "loop", 2), ("sub", "loop", 1), ("sub", "loop", 2)]),
    ],
)
def test_durability_exit_is_inherited_by_subgraphs(
    checkpointer: Any, ask: bool, saved: list[Any]
) -> None:
    def b(state: State) -> dict[str, Any]:
        return {"value": [f"b:{interrupt('b?')}" if ask else "b"]}

    sub = StateGraph(State).add_node("a", adds("a")).add_node("b", b)
    sub.add_edge(START, "a").add_edge("a", "b")
    parent = StateGraph(State).add_node("p", adds("p"))
    parent.add_node("sub", sub.compile(checkpointer=checkpointer))
    graph = parent.add_edge(START, "p").add_edge("p", "sub").compile(checkpointer=InMemorySaver())
    result = graph.invoke({"value": []}, cfg(), durability="exit")
    if ask:
        result = graph.invoke(Command(resume="x"), cfg(), durability="exit")
    assert result == {"value": ["p", "p", "a", "b:x" if ask else "b"]}
    rows = graph.checkpointer.list(cfg())
    found = sorted(
        (
            t.config["configurable"]["checkpoint_ns"].split(":")[0],
            t.metadata["source"],
            t.metadata["step"],
        )
        for t in rows
    )
    # a finished subgraph run of one task is not saved; one that stopped early, or keeps its
    # history (checkpointer=True), is
    assert found == saved


def test_a_subgraph_in_a_loop_after_a_replay_starts_from_its_state_at_each_turn() -> None:
    class Sub(TypedDict):
        trail: Annotated[list[str], operator.add]

    class Loop(TypedDict):
        n: int

    seen: list[int] = []

    def step(state: Sub) -> dict[str, Any]:
        seen.append(len(state["trail"]))
        return {"trail": ["s"]}

    sub = StateGraph(Sub).add_node("step", step).add_edge(START, "step")
    parent = StateGraph(Loop).add_node("bump", lambda s: {"n": s["n"] + 1})
    parent.add_node("sub", sub.compile(checkpointer=True)).add_edge(START, "bump")
    parent.add_edge("bump", "sub")
    parent.add_conditional_edges("sub", lambda s: "bump" if s["n"] < 3 else END, ["bump", END])
    graph = parent.compile(checkpointer=InMemorySaver())
    graph.invoke({"n": 0}, cfg())
    graph.invoke({"n": 0}, cfg())
    assert seen == [0, 1, 2, 3, 4, 5]  # the subgraph keeps its history across parent runs
    history = list(graph.get_state_history(cfg()))
    for n, expected in ((0, [3, 4, 5]), (1, [4, 5]), (2, [5])):
        seen.clear()
        start = next(s for s in history if s.next == ("bump",) and s.values["n"] == n)
        graph.invoke(None, start.config)
        assert seen == expected


def test_with_durability_exit_checkpoint_events_keep_the_parent_the_run_started_from() -> None:
    sub = StateGraph(State).add_node("a", adds("a")).add_edge(START, "a")
    parent = StateGraph(State).add_node("p", adds("p")).add_node("sub", sub.compile())
    graph = parent.add_edge(START, "p").add_edge("p", "sub").compile(checkpointer=InMemorySaver())

    def parents(durability: str) -> set[Any]:
        chunks = graph.stream(
            {"value": []}, cfg(), stream_mode="debug", subgraphs=True, durability=durability
        )
        return {
            (event["payload"]["parent_config"] or {}).get("configurable", {}).get("checkpoint_id")
            for _, event in chunks
            if event["type"] == "checkpoint"
        }

    assert parents("exit") == {None}  # nothing saved before: no parent, subgraph's included
    # each event keeps the parent of the checkpoint the run started from (none here either)
    assert parents("exit") == {None}
    graph.invoke({"value": []}, cfg(), durability="async")  # now that one has a parent
    start = graph.get_state(cfg()).parent_config["configurable"]["checkpoint_id"]
    assert parents("exit") == {start, None}  # (the subgraph's run starts with no checkpoint)


def test_the_second_graph_a_task_runs_streams_under_a_numbered_namespace() -> None:
    one = StateGraph(State).add_node("x", adds("x")).add_edge(START, "x").compile()
    two = StateGraph(State).add_node("y", adds("y")).add_edge(START, "y").compile()

    def both(state: State) -> dict[str, Any]:
        one.invoke({"value": []})
        two.invoke({"value": []})
        return {"value": ["both"]}

    graph = StateGraph(State).add_node("both", both).add_edge(START, "both").compile()
    chunks = [(names(ns), list(update)) for ns, update in graph.stream({}, subgraphs=True)]
    assert chunks == [(["both:T"], ["x"]), (["both:T", "1"], ["y"]), ([], ["both"])]
