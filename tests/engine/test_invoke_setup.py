"""What a compiled graph works out once and what each call still decides for itself.

``Pregel`` keeps per graph what every call would otherwise derive again (the node that needs a
store, invoke's output keys; ``Projection.of`` keeps the stream projection of each mode set), and a
call without callbacks builds no callback machinery. These tests pin that nothing per call leaks
into what is kept: each call's own config, callbacks, names and inputs still count.
"""

from typing import Any, TypedDict
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine.projection import Projection
from threadloom.func import entrypoint, task
from threadloom.graph import END, START, StateGraph
from threadloom.store.base import BaseStore
from threadloom.store.memory import InMemoryStore


class State(TypedDict):
    x: int


class Starts(BaseCallbackHandler):
    """The names of the chain runs started, in order."""

    def __init__(self) -> None:
        self.names: list[str | None] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self.names.append(kw.get("name"))


def _one_node(node: Any, **compile_args: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile(**compile_args)


def test_callbacks_fire_when_a_call_configures_them_after_calls_that_did_not() -> None:
    graph = _one_node(lambda s: {"x": s["x"] + 1})
    assert graph.invoke({"x": 1}) == {"x": 2}  # nothing configured: nothing to report to
    starts = Starts()
    assert graph.invoke({"x": 1}, {"callbacks": [starts]}) == {"x": 2}
    assert starts.names == ["LangGraph", "node"]
    graph.name = "renamed"  # the graph's name is read when a call reports, not kept
    assert graph.invoke({"x": 1}) == {"x": 2}
    graph.invoke({"x": 5}, {"callbacks": [starts]})
    assert starts.names == ["LangGraph", "node", "renamed", "node"]


def test_each_call_s_config_reaches_the_nodes() -> None:
    seen: list[tuple[Any, ...]] = []

    def node(state: State, config: RunnableConfig) -> State:
        metadata = config["metadata"]
        seen.append(
            (
                config["configurable"].get("user"),
                metadata.get("thread_id"),
                metadata.get("source"),
                sorted(config.get("tags") or ()),
            )
        )
        return {"x": state["x"] + 1}

    graph = _one_node(node, checkpointer=InMemorySaver()).with_config(
        tags=["graph"], metadata={"source": "defaults"}
    )
    graph.invoke({"x": 1}, {"configurable": {"thread_id": "a", "user": "ann"}})
    graph.invoke({"x": 1}, {"thread_id": "b", "user": "bob"})  # top-level keys are lifted
    graph.invoke(
        {"x": 1},
        {"configurable": {"thread_id": "c"}, "metadata": {"source": "call"}, "tags": ["call"]},
    )
    assert seen == [
        ("ann", "a", "defaults", ["graph"]),
        ("bob", "b", "defaults", ["graph"]),
        (None, "c", "call", ["call", "graph"]),
    ]


def test_a_call_s_recursion_limit_and_durability_are_its_own() -> None:
    builder = StateGraph(State)
    builder.add_node("loop", lambda s: {"x": s["x"] + 1})
    builder.add_edge(START, "loop")
    builder.add_conditional_edges("loop", lambda s: END if s["x"] >= 5 else "loop")
    graph = builder.compile()
    assert graph.invoke({"x": 0}) == {"x": 5}
    from threadloom.errors import GraphRecursionError

    with pytest.raises(GraphRecursionError):
        graph.invoke({"x": 0}, {"recursion_limit": 2})
    assert graph.invoke({"x": 0}, {"recursion_limit": 6}) == {"x": 5}
    with pytest.warns(UserWarning, match="no effect"), pytest.raises(ValueError, match="durab"):
        graph.invoke({"x": 0}, durability="later")  # type: ignore[arg-type]


def test_a_node_that_needs_a_store_fails_every_call_without_one_and_runs_with_one() -> None:
    def node(state: State, *, store: BaseStore) -> State:
        return {"x": state["x"] + len(store.search(("ns",)))}

    graph = _one_node(node)
    for _ in range(2):
        with pytest.raises(ValueError, match="Node 'node' asks for a 'store' parameter"):
            graph.invoke({"x": 1})
    store = InMemoryStore()
    store.put(("ns",), "k", {"v": 1})
    assert _one_node(node, store=store).invoke({"x": 1}) == {"x": 2}
    optional = _one_node(lambda s, *, store=None: {"x": 0 if store is None else 1})
    assert optional.invoke({"x": 5}) == {"x": 0}


def test_recompiling_sees_a_changed_graph() -> None:
    builder = StateGraph(State)
    builder.add_node("first", lambda s: {"x": s["x"] + 1})
    builder.add_edge(START, "first")
    before = builder.compile()
    assert before.invoke({"x": 1}) == {"x": 2}
    builder.add_node("second", lambda s: {"x": s["x"] * 10})
    builder.add_edge("first", "second")
    after = builder.compile()
    assert after.invoke({"x": 1}) == {"x": 20}
    assert list(after.stream({"x": 1}, stream_mode="updates")) == [
        {"first": {"x": 2}},
        {"second": {"x": 20}},
    ]
    assert before.invoke({"x": 1}) == {"x": 2}  # the graph compiled before is unchanged


def test_a_task_sees_its_function_changed_between_calls() -> None:
    @task
    def step(n: int) -> int:
        return n + 1

    @entrypoint(checkpointer=InMemorySaver())
    def flow(n: int) -> int:
        return step(n).result()

    assert flow.invoke(1, {"configurable": {"thread_id": "1"}}) == 2
    step.func = lambda n: n * 100
    assert flow.invoke(1, {"configurable": {"thread_id": "2"}}) == 100


def test_a_projection_is_shared_by_the_runs_of_one_mode_set_and_differs_between_sets() -> None:
    values = Projection.of(frozenset({"values"}))
    assert Projection.of(frozenset({"values"})) is values
    both = Projection.of(frozenset({"values", "updates"}))
    assert values.wants("values") and not values.wants("update")
    assert both.wants("values") and both.wants("update") and not both.wants("token")
    graph = _one_node(lambda s: {"x": s["x"] + 1})
    assert list(graph.stream({"x": 1}, stream_mode="values")) == [{"x": 1}, {"x": 2}]
    assert list(graph.stream({"x": 1}, stream_mode=["updates", "values"])) == [
        ("values", {"x": 1}),
        ("updates", {"node": {"x": 2}}),
        ("values", {"x": 2}),
    ]
    assert list(graph.stream({"x": 1}, stream_mode="values")) == [{"x": 1}, {"x": 2}]


def test_new_input_on_a_thread_discards_the_tasks_it_left_due() -> None:
    ran: list[str] = []

    def first(state: State) -> State:
        ran.append("first")
        return {"x": state["x"] + 1}

    def second(state: State) -> State:
        ran.append("second")
        return {"x": state["x"] * 10}

    builder = StateGraph(State)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    graph = builder.compile(checkpointer=InMemorySaver(), interrupt_before=["second"])
    config: RunnableConfig = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"x": 1}, config) == {"x": 2}
    assert graph.get_state(config).next == ("second",)
    assert graph.invoke({"x": 3}, config) == {"x": 4}  # "second" was due: new input drops it
    assert ran == ["first", "first"]
    assert graph.get_state(config).next == ("second",)
