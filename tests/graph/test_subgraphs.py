"""A compiled graph used as a node: it checkpoints under its own namespace of the parent's thread,
pauses its parent when it interrupts, and resumes where it stopped (CONTRACT 2.9 subgraphs)."""

import operator
from typing import Annotated, Any, TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class State(TypedDict, total=False):
    a: str
    log: Annotated[list[str], operator.add]


def cfg(thread: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": thread}}


def build(calls: list[str], *, sub_checkpointer: Any = None, ask: bool = True) -> Any:
    def inner_first(state: State) -> dict[str, Any]:
        calls.append("inner_first")
        return {"log": ["inner_first"]}

    def inner_ask(state: State) -> dict[str, Any]:
        calls.append("inner_ask")
        answer = interrupt("inner?") if ask else "auto"
        return {"log": [f"inner_ask:{answer}"]}

    sub = StateGraph(State).add_node("inner_first", inner_first).add_node("inner_ask", inner_ask)
    sub.add_edge(START, "inner_first").add_edge("inner_first", "inner_ask")
    subgraph = sub.compile(checkpointer=sub_checkpointer)

    def before(state: State) -> dict[str, Any]:
        calls.append("before")
        return {"log": ["before"]}

    parent = StateGraph(State).add_node("before", before).add_node("sub", subgraph)
    parent.add_edge(START, "before").add_edge("before", "sub")
    return parent.compile(checkpointer=InMemorySaver())


def test_subgraph_checkpoints_under_its_namespace() -> None:
    calls: list[str] = []
    graph = build(calls, ask=False)
    out = graph.invoke({"a": "x", "log": []}, cfg())
    assert out["log"] == ["before", "before", "inner_first", "inner_ask:auto"]
    saver = graph.checkpointer
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in saver.list(cfg())}
    [sub_ns] = [ns for ns in namespaces if ns]
    assert sub_ns.startswith("sub:")
    parent_ids = {
        t.checkpoint["id"]
        for t in saver.list({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})
    }
    for t in saver.list({"configurable": {"thread_id": "t", "checkpoint_ns": sub_ns}}):
        assert set(t.metadata["parents"]) == {""}
        assert t.metadata["parents"][""] in parent_ids


def test_interrupt_inside_a_subgraph_pauses_the_parent_and_resumes_there() -> None:
    calls: list[str] = []
    graph = build(calls)
    out = graph.invoke({"a": "x", "log": []}, cfg())
    [pending] = out["__interrupt__"]
    assert pending.value == "inner?"
    snapshot = graph.get_state(cfg())
    assert snapshot.next == ("sub",)
    assert snapshot.interrupts == (pending,)
    calls.clear()
    out = graph.invoke(Command(resume="yes"), cfg())
    assert out["log"] == ["before", "before", "inner_first", "inner_ask:yes"]
    assert calls == ["inner_ask"]  # the subgraph resumed: its first node did not run again


def test_subgraph_with_checkpointer_true_keeps_its_own_history() -> None:
    calls: list[str] = []
    graph = build(calls, sub_checkpointer=True, ask=False)
    graph.invoke({"a": "x", "log": []}, cfg())
    graph.invoke({"a": "y", "log": []}, cfg())
    saver = graph.checkpointer
    sub_history = list(saver.list({"configurable": {"thread_id": "t", "checkpoint_ns": "sub"}}))
    assert len(sub_history) == 8  # two runs of input + 3 loop steps in one namespace
    assert sub_history[0].checkpoint["channel_values"]["log"][-2:] == [
        "inner_first",
        "inner_ask:auto",
    ]


async def test_async_subgraph_interrupt_and_resume() -> None:
    calls: list[str] = []
    graph = build(calls)
    out = await graph.ainvoke({"a": "x", "log": []}, cfg())
    assert out["__interrupt__"][0].value == "inner?"
    out = await graph.ainvoke(Command(resume="async"), cfg())
    assert out["log"][-1] == "inner_ask:async"


def test_get_state_shows_and_routes_to_subgraph_state() -> None:
    graph = build([])
    graph.invoke({"a": "x", "log": []}, cfg())
    snapshot = graph.get_state(cfg())
    [task] = snapshot.tasks
    assert task.name == "sub"
    sub_config = task.state
    assert sub_config["configurable"]["checkpoint_ns"].startswith("sub:")
    nested = graph.get_state(cfg(), subgraphs=True).tasks[0].state
    assert nested.next == ("inner_ask",)
    assert nested.values["log"] == ["before", "inner_first"]
    assert nested.metadata["parents"] == {"": snapshot.config["configurable"]["checkpoint_id"]}
    direct = graph.get_state({"configurable": {"thread_id": "t", **sub_config["configurable"]}})
    assert direct.next == ("inner_ask",)

    # a namespace no subgraph node owns is read with the parent graph (as LangGraph does)
    unknown = graph.get_state({"configurable": {"thread_id": "t", "checkpoint_ns": "nope:1"}})
    assert (unknown.values, unknown.next) == ({}, ())


def test_stream_with_subgraphs_namespaces_chunks() -> None:
    graph = build([], ask=False)
    chunks = list(graph.stream({"a": "x", "log": []}, cfg(), stream_mode="updates", subgraphs=True))
    namespaces = [ns for ns, _ in chunks]
    assert namespaces[0] == ()  # the parent's own node
    inner = [(ns, update) for ns, update in chunks if ns]
    assert [next(iter(update)) for _, update in inner] == ["inner_first", "inner_ask"]
    assert all(ns[0].startswith("sub:") and len(ns) == 1 for ns, _ in inner)
    # the subgraph's result, as the parent sees it
    assert chunks[-1][0] == () and "sub" in chunks[-1][1]
    multi = list(
        build([], ask=False).stream(
            {"a": "x", "log": []}, cfg("m"), stream_mode=["updates"], subgraphs=True
        )
    )
    assert all(len(chunk) == 3 and chunk[1] == "updates" for chunk in multi)
    # without subgraphs=True only the parent's chunks appear
    plain = list(build([], ask=False).stream({"a": "x", "log": []}, cfg("p")))
    assert [next(iter(c)) for c in plain] == ["before", "sub"]


def test_history_and_update_state_route_to_a_subgraph_namespace() -> None:
    graph = build([])
    graph.invoke({"a": "x", "log": []}, cfg())
    sub_config = graph.get_state(cfg()).tasks[0].state
    sub = {"configurable": {"thread_id": "t", **sub_config["configurable"]}}
    history = list(graph.get_state_history(sub))
    assert history[0].next == ("inner_ask",)
    assert [s.metadata["step"] for s in history] == [1, 0, -1]
    graph.update_state(sub, {"log": ["patched"]}, as_node="inner_first")
    assert graph.get_state(sub).values["log"][-1] == "patched"
    import pytest

    with pytest.raises(ValueError, match="Subgraph ghost not found"):
        graph.update_state({"configurable": {"thread_id": "t", "checkpoint_ns": "ghost:1"}}, {})


def test_command_to_parent_from_a_subgraph_and_from_the_root() -> None:
    from threadloom.errors import ParentCommand

    def escalate(state: State) -> Command[Any]:
        return Command(graph=Command.PARENT, update={"log": ["escalated"]}, goto="handler")

    sub = StateGraph(State).add_node("escalate", escalate).add_edge(START, "escalate").compile()

    def handler(state: State) -> dict[str, Any]:
        return {"log": ["handled"]}

    parent = StateGraph(State).add_node("sub", sub).add_node("handler", handler)
    parent = parent.add_edge(START, "sub").compile()
    assert parent.invoke({"a": "x", "log": []})["log"] == ["escalated", "handled"]
    root = StateGraph(State).add_node("escalate", escalate).add_edge(START, "escalate").compile()
    import pytest

    with pytest.raises(ParentCommand):
        root.invoke({"a": "x", "log": []})
