"""``Runtime.server_info`` and ``Runtime.merge`` (LangGraph 1.2.22's ``langgraph.runtime``
behaviour, observed by running the same programs with both import roots).

A server puts ``assistant_id``, ``graph_id`` and ``langgraph_auth_user`` in the run's
``configurable``; every node, subgraph node, entrypoint and ``@task`` then reads them as one
frozen ``ServerInfo``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

import pytest

from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph
from threadloom.runtime import ExecutionInfo, RunControl, Runtime, ServerInfo, get_runtime


class State(TypedDict):
    note: str


class User:
    """A server's user: read by attribute and by key."""

    identity = "user-1"

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


def _graph(seen: list[Any]) -> Any:
    def node(state: State, runtime: Runtime) -> State:
        seen.append(runtime.server_info)
        return {"note": "x"}

    def reads_with_get_runtime(state: State) -> State:
        seen.append(get_runtime().server_info)
        return {}

    inner = StateGraph(State)
    inner.add_node("inner", node)
    inner.add_edge(START, "inner")
    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_node("sub", inner.compile())
    builder.add_node("reads", reads_with_get_runtime)
    builder.add_edge(START, "node")
    builder.add_edge("node", "sub")
    builder.add_edge("sub", "reads")
    return builder.compile()


def test_nodes_subgraphs_and_get_runtime_see_the_server_info_of_the_config() -> None:
    seen: list[Any] = []
    user = User()
    configurable = {"assistant_id": "asst", "graph_id": 7, "langgraph_auth_user": user}
    _graph(seen).invoke({"note": ""}, {"configurable": configurable})
    assert seen == [ServerInfo("asst", "7", user)] * 3  # ids as strings, the user as given
    assert seen[0].user["identity"] == "user-1"


@pytest.mark.parametrize(
    ("configurable", "expected"),
    [
        ({}, None),
        ({"graph_id": "g"}, ServerInfo("", "g")),
        ({"assistant_id": ""}, ServerInfo("", "")),  # named, though empty
        ({"langgraph_auth_user": {"identity": "d"}}, None),  # no identity attribute: no user
        ({"langgraph_auth_user": {"identity": "d"}, "graph_id": "g"}, ServerInfo("", "g")),
    ],
)
def test_server_info_is_none_unless_the_config_names_its_keys(
    configurable: dict[str, Any], expected: ServerInfo | None
) -> None:
    seen: list[Any] = []
    _graph(seen).invoke({"note": ""}, {"configurable": configurable})
    assert seen == [expected] * 3


def test_entrypoints_and_tasks_see_it_too() -> None:
    seen: list[Any] = []

    @task
    def step(x: int, *, runtime: Runtime) -> int:
        seen.append(runtime.server_info)
        return x

    @entrypoint()
    def flow(x: int, *, runtime: Runtime) -> int:
        seen.append(runtime.server_info)
        return step(x).result()

    assert flow.invoke(1, {"configurable": {"assistant_id": "a"}}) == 1
    assert seen == [ServerInfo("a", "")] * 2


def test_server_info_is_frozen() -> None:
    info = ServerInfo(assistant_id="a", graph_id="g")
    assert info.user is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.assistant_id = "b"  # type: ignore[misc]
    assert Runtime().server_info is None


def test_merge_takes_each_field_the_other_runtime_sets() -> None:
    control, info = RunControl(), ServerInfo("a", "g")
    base = Runtime(context={"k": 1}, store="store", server_info=info, control=control, previous=0)
    assert base.merge(Runtime()) == base  # nothing set: all kept
    writer, beat = print, lambda: None
    execution = ExecutionInfo(task_id="t")
    other = Runtime(
        context={"k": 2},
        stream_writer=writer,
        heartbeat=beat,
        previous=1,
        execution_info=execution,
        server_info=ServerInfo("b", "h"),
    )
    merged = base.merge(other)
    assert merged.context == {"k": 2} and merged.store == "store"
    assert (merged.stream_writer, merged.heartbeat) == (writer, beat)
    assert (merged.previous, merged.execution_info) == (1, execution)
    assert merged.server_info == ServerInfo("b", "h") and merged.control is control
    assert base.merge(Runtime(context={})).context == {"k": 1}  # a falsy context is not set


def test_patches_and_drain_state() -> None:
    info = ExecutionInfo(checkpoint_id="c", task_id="t")
    assert info.patch(node_attempt=3) == ExecutionInfo(
        checkpoint_id="c", task_id="t", node_attempt=3
    )
    assert info.node_attempt == 1
    runtime = Runtime(execution_info=info).patch_execution_info(thread_id="th")
    assert runtime.execution_info.thread_id == "th"
    assert (Runtime().drain_requested, Runtime().drain_reason) == (False, None)
    control = RunControl()
    control.request_drain("deploy")
    assert (Runtime(control=control).drain_requested, Runtime(control=control).drain_reason) == (
        True,
        "deploy",
    )
