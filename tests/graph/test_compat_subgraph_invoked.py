"""A graph invoked inside a node function is a child of the running graph, as in LangGraph.

The node's config (the context langchain-core keeps for the running task) links the call to its
task: the child checkpoints with the parent's saver under the task's namespace, uses its store and
runtime context, pauses the parent when it interrupts, and sends ``Command(graph=PARENT)`` to the
calling task. The expected values were observed running the same programs on LangGraph 1.2.22.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.config import get_config, get_store
from threadloom.errors import ParentCommand
from threadloom.graph import START, StateGraph
from threadloom.runtime import get_runtime
from threadloom.store.memory import InMemoryStore
from threadloom.types import Command, interrupt


class State(TypedDict):
    items: Annotated[list[str], operator.add]


CFG: Any = {"configurable": {"thread_id": "t"}}


def one_node(name: str, func: Any, *, checkpointer: Any = None) -> Any:
    builder = StateGraph(State).add_node(name, func).add_edge(START, name)
    return builder.compile(checkpointer=checkpointer)


def asking_subgraph(seen: list[Any], *, checkpointer: Any) -> Any:
    def inner(state: State) -> dict[str, Any]:
        seen.append((get_config()["configurable"]["checkpoint_ns"], get_runtime().context))
        return {"items": [f"inner:{interrupt('q?')}"]}

    return one_node("inner", inner, checkpointer=checkpointer)


def test_checkpointer_true_subgraph_invoked_in_a_node_pauses_and_resumes_its_parent() -> None:
    seen: list[Any] = []
    sub = asking_subgraph(seen, checkpointer=True)

    def outer(state: State) -> dict[str, Any]:
        out = sub.invoke({"items": ["x"]})
        return {"items": [f"outer got {out['items']}"]}

    graph = one_node("outer", outer, checkpointer=InMemorySaver())
    first = graph.invoke({"items": ["a"]}, CFG, context={"u": 1})
    assert first["items"] == ["a"]
    [pending] = first["__interrupt__"]
    assert pending.value == "q?"
    ns, context = seen[0]
    assert ns.startswith("outer|inner:")  # one history per thread: no task id for "outer"
    assert context == {"u": 1}

    state = graph.get_state(CFG, subgraphs=True)
    assert state.next == ("outer",)
    [task] = state.tasks
    assert task.state.values == {"items": ["x"]}
    assert task.state.next == ("inner",)
    assert task.interrupts == (pending,)

    done = graph.invoke(Command(resume="yes"), CFG, context={"u": 1})
    assert done == {"items": ["a", "outer got ['x', 'inner:yes']"]}
    assert seen[1] == seen[0]  # the same task of the subgraph, resumed
    sources = sorted(
        (t.config["configurable"]["checkpoint_ns"], t.metadata["source"])
        for t in graph.checkpointer.list(CFG)
    )
    expected = [("", "input"), ("", "loop"), ("", "loop")]
    expected += [("outer", "input"), ("outer", "loop"), ("outer", "loop")]
    assert sources == expected


async def test_checkpointer_true_subgraph_awaited_in_an_async_node() -> None:
    seen: list[Any] = []
    sub = asking_subgraph(seen, checkpointer=True)

    async def caller(state: State) -> dict[str, Any]:
        out = await sub.ainvoke({"items": ["y"]})
        return {"items": out["items"]}

    graph = one_node("caller", caller, checkpointer=InMemorySaver())
    first = await graph.ainvoke({"items": []}, CFG)
    assert first["items"] == [] and first["__interrupt__"][0].value == "q?"
    assert await graph.ainvoke(Command(resume="async"), CFG) == {"items": ["y", "inner:async"]}
    assert seen[0][0].startswith("caller|inner:") and seen[0][1] is None


def test_plain_subgraph_in_a_node_inherits_saver_store_and_namespace() -> None:
    calls: list[str] = []

    def inner(state: State) -> dict[str, Any]:
        calls.append("inner")
        get_store().put(("ns",), "k", {"v": 1})
        return {"items": [interrupt("q?")]}

    sub = one_node("inner", inner)

    def outer(state: State) -> dict[str, Any]:
        calls.append("outer")
        return {"items": sub.invoke({"items": ["x"]})["items"]}

    store, saver = InMemoryStore(), InMemorySaver()
    graph = StateGraph(State).add_node("outer", outer).add_edge(START, "outer")
    app = graph.compile(checkpointer=saver, store=store)
    assert app.invoke({"items": []}, CFG)["items"] == []
    assert store.get(("ns",), "k").value == {"v": 1}  # type: ignore[union-attr]
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in saver.list(CFG)}
    [child_ns] = namespaces - {""}
    assert child_ns.startswith("outer:")  # the calling task's namespace, task id included
    state = app.get_state(CFG, subgraphs=True)
    assert (state.tasks[0].state.values, state.tasks[0].state.next) == (
        {"items": ["x"]},
        ("inner",),
    )
    assert app.invoke(Command(resume="ok"), CFG) == {"items": ["x", "ok"]}
    assert calls == ["outer", "inner", "outer", "inner"]


def test_an_explicit_thread_id_makes_the_invoked_graph_a_root_run() -> None:
    def inner(state: State) -> dict[str, Any]:
        return {"items": [interrupt("q2")]}

    sub = one_node("inner", inner, checkpointer=InMemorySaver())

    def outer(state: State) -> dict[str, Any]:
        out = sub.invoke({"items": ["x"]}, {"configurable": {"thread_id": "other"}})
        return {"items": [f"paused {'__interrupt__' in out}"]}

    graph = one_node("outer", outer, checkpointer=InMemorySaver())
    assert graph.invoke({"items": []}, CFG) == {"items": ["paused True"]}
    assert sub.get_state({"configurable": {"thread_id": "other"}}).next == ("inner",)


def test_command_parent_from_a_graph_invoked_in_a_node_reaches_the_calling_graph() -> None:
    def child(state: State) -> Command[Any]:
        return Command(graph=Command.PARENT, update={"items": ["from child"]}, goto="after")

    sub = one_node("child", child)

    def caller(state: State) -> dict[str, Any]:
        sub.invoke({"items": []})
        return {"items": ["caller"]}  # replaced by the command, as LangGraph does

    builder = StateGraph(State).add_node("caller", caller)
    builder.add_node("after", lambda state: {"items": ["after"]}).add_edge(START, "caller")
    assert builder.compile().invoke({"items": []}) == {"items": ["from child", "after"]}


def test_command_parent_goes_up_one_level_only() -> None:
    def innermost(state: State) -> Command[Any]:
        return Command(graph=Command.PARENT, update={"items": ["from inner"]})

    inner = one_node("innermost", innermost)

    def middle_node(state: State) -> dict[str, Any]:
        inner.invoke({"items": []})
        return {"items": ["middle"]}

    middle = one_node("middle_node", middle_node)

    def top(state: State) -> dict[str, Any]:
        return {"items": middle.invoke({"items": ["m"]})["items"]}

    assert one_node("top", top).invoke({"items": []}) == {"items": ["m", "from inner"]}


def test_command_parent_from_a_root_graph_escapes_as_parent_command() -> None:
    def node(state: State) -> Command[Any]:
        return Command(graph=Command.PARENT, update={"items": ["x"]})

    with pytest.raises(ParentCommand) as caught:
        one_node("node", node).invoke({"items": []})
    command = caught.value.args[0]
    assert command.graph == ""  # addressed to no graph: there is none above
    assert command.update == {"items": ["x"]}


def test_graphs_a_task_runs_one_after_another_keep_separate_histories() -> None:
    def wrapped(name: str, tag: str) -> Any:
        echo = one_node("echo", lambda s: {"items": [f"{tag}:{s['items'][-1]}"]})
        return one_node(name, echo, checkpointer=True)

    fruit, veggie = wrapped("fruit_agent", "F"), wrapped("veggie_agent", "V")
    seen: list[Any] = []

    def both(state: State) -> dict[str, Any]:
        turn = len(seen) + 1
        fruits = fruit.invoke({"items": [f"cherry{turn}"]})["items"]
        veggies = veggie.invoke({"items": [f"broc{turn}"]})["items"]
        seen.append((fruits, veggies))
        return {"items": [fruits[-1]]}

    graph = one_node("both", both, checkpointer=InMemorySaver())
    graph.invoke({"items": []}, CFG)
    graph.invoke({"items": []}, CFG)
    assert seen[0] == (["cherry1", "cherry1", "F:cherry1"], ["broc1", "broc1", "V:broc1"])
    # its own history only (the inner echo graph keeps none: it sees the whole state again)
    first_turn = ["cherry1", "cherry1", "F:cherry1", "cherry2"]
    assert seen[1][0] == [*first_turn, *first_turn, "F:cherry2"]
    assert all(item.startswith(("broc", "V:")) for item in seen[1][1])
    namespaces = {t.config["configurable"]["checkpoint_ns"] for t in graph.checkpointer.list(CFG)}
    assert {"both", "both|1"} <= namespaces  # the second graph the task ran: "|1"


def test_a_namespace_no_subgraph_node_declares_is_read_with_the_parent() -> None:
    graphs = {"notes": one_node("note", lambda s: {"items": ["noted"]})}

    def tools(state: State) -> dict[str, Any]:
        graphs["notes"].invoke({"items": ["research"]})  # found by no detection
        return {"items": ["tool done"]}

    graph = one_node("tools", tools, checkpointer=InMemorySaver())
    graph.invoke({"items": []}, CFG)
    [ns] = {t.config["configurable"]["checkpoint_ns"] for t in graph.checkpointer.list(CFG)} - {""}
    config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ns}}
    assert graph.get_state(config).values == {"items": ["research", "noted"]}
    assert [s.values["items"] for s in graph.get_state_history(config)] == [
        ["research", "noted"],
        ["research"],
        [],
    ]
    with pytest.raises(ValueError, match="Subgraph tools not found"):
        graph.update_state(config, {"items": ["edit"]})


def test_command_parent_from_the_second_graph_a_task_runs() -> None:
    def child(state: State) -> Any:
        if state["items"] == ["jump"]:
            return Command(graph=Command.PARENT, goto="second")
        return {"items": ["stayed"]}

    first, then = one_node("child", child), one_node("child", child)

    def caller(state: State) -> dict[str, Any]:
        first.invoke({"items": []})
        then.invoke({"items": ["jump"]})  # namespace "<task ns>|1"
        raise AssertionError("the command ends this task")

    builder = StateGraph(State).add_node("caller", caller)
    builder.add_node("second", lambda state: {"items": ["second"]}).add_edge(START, "caller")
    assert builder.compile().invoke({"items": []}) == {"items": ["second"]}
