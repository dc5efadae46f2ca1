"""One graph program written for both engines, the LangGraph threads the migration tests copy,
and a comparable summary of what a graph shows of a thread.

The program runs unchanged under ``langgraph`` and ``threadloom`` (the import root is a
parameter): two parallel nodes, one of which interrupts (so the other's writes stay pending), and
a subgraph that interrupts inside (so the thread has checkpoints in a subgraph namespace).
"""

from __future__ import annotations

import importlib
import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

THREADS = ("waits-ask", "waits-sub", "done", "updated")
"""Threads ``make_threads`` leaves: interrupted at the root, inside the subgraph, finished, and
one changed by ``update_state`` then interrupted."""


class State(TypedDict, total=False):
    items: Annotated[list[str], operator.add]
    answer: str


def build(root: str) -> tuple[Any, Any]:
    """The graph builder and the ``Command`` class of ``root`` ("langgraph" or "threadloom")."""
    graph = importlib.import_module(f"{root}.graph")
    types = importlib.import_module(f"{root}.types")

    def sub_step(state: State) -> State:
        return {"items": ["sub"]}

    def sub_ask(state: State) -> State:
        return {"items": [f"sub-{types.interrupt('sub approve?')}"]}

    inner = graph.StateGraph(State)
    inner.add_node("sub_step", sub_step)
    inner.add_node("sub_ask", sub_ask)
    inner.add_edge(graph.START, "sub_step")
    inner.add_edge("sub_step", "sub_ask")

    def plan(state: State) -> State:
        return {"items": ["plan"]}

    def side(state: State) -> State:
        return {"items": ["side"]}

    def ask(state: State) -> State:
        return {"answer": types.interrupt({"question": "approve?"})}

    outer = graph.StateGraph(State)
    outer.add_node("plan", plan)
    outer.add_node("side", side)
    outer.add_node("ask", ask)
    outer.add_node("sub", inner.compile())
    outer.add_edge(graph.START, "plan")
    outer.add_edge("plan", "side")
    outer.add_edge("plan", "ask")
    outer.add_edge(["side", "ask"], "sub")
    outer.add_edge("sub", graph.END)
    return outer, types.Command


def config(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}, "metadata": {"user": "bob"}}


def make_threads(saver: Any) -> None:
    """Run the LangGraph program on ``saver`` (a LangGraph checkpointer): ``THREADS``."""
    builder, command = build("langgraph")
    graph = builder.compile(checkpointer=saver)
    graph.invoke({"items": ["start"]}, config("waits-ask"))
    graph.invoke({"items": ["start"]}, config("waits-sub"))
    graph.invoke(command(resume="yes"), config("waits-sub"))
    graph.invoke({"items": ["start"]}, config("done"))
    graph.invoke(command(resume="yes"), config("done"))
    graph.invoke(command(resume="ok"), config("done"))
    graph.invoke({"items": ["start"]}, config("updated"))
    graph.update_state(config("updated"), {"items": ["edited"]})


def _address(config: Any) -> Any:
    # checkpoint_map left out: threadloom's nested parent_config lacks it (an engine gap that a
    # migration neither causes nor fixes)
    if config is None:
        return None
    return {k: v for k, v in config["configurable"].items() if k != "checkpoint_map"}


def _snapshot(state: Any) -> Any:
    return (
        state.values,
        state.next,
        _address(state.config),
        state.metadata,
        state.created_at,
        _address(state.parent_config),
        [
            (
                task.id,
                task.name,
                [(i.value, i.id) for i in task.interrupts],
                None
                if task.state is None or isinstance(task.state, dict)
                else _snapshot(task.state),
            )
            for task in state.tasks
        ],
    )


def summary(graph: Any, thread_id: str) -> Any:
    """What a graph shows of a thread: its state with subgraphs, and its whole history."""
    cfg = {"configurable": {"thread_id": thread_id}}
    state = graph.get_state(cfg, subgraphs=True)
    history = [_snapshot(s) for s in graph.get_state_history(cfg)]
    return _snapshot(state), history


def outcome(result: dict[str, Any]) -> Any:
    """A run's result without interrupt ids (they hash new checkpoint ids, made at random)."""
    shown = dict(result)
    interrupts = shown.pop("__interrupt__", [])
    return shown, [i.value for i in interrupts]


@dataclass
class Order:
    """A user's own state type: neither serializer rebuilds it unless allowed."""

    id: int


class OrderState(TypedDict):
    order: Order


def make_order_thread(saver: Any) -> None:
    """One LangGraph thread whose state holds an ``Order``."""
    graph = importlib.import_module("langgraph.graph")
    builder = graph.StateGraph(OrderState)
    builder.add_node("next", lambda state: {"order": Order(state["order"].id + 1)})
    builder.add_edge(graph.START, "next")
    builder.compile(checkpointer=saver).invoke({"order": Order(1)}, config("order"))
