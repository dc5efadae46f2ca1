"""A store given to compile() or @entrypoint reaches nodes, tasks and get_store()."""

from typing import Any, TypedDict

import pytest

from threadloom.config import get_store
from threadloom.func import entrypoint, task
from threadloom.graph import START, StateGraph
from threadloom.runtime import Runtime
from threadloom.store.base import BaseStore
from threadloom.store.memory import InMemoryStore


class State(TypedDict, total=False):
    user: str
    seen: list[str]


def test_store_reaches_nodes_by_parameter_runtime_and_get_store() -> None:
    store = InMemoryStore()

    def writes(state: State, store: BaseStore) -> None:
        store.put(("memories", state["user"]), "a", {"data": "from parameter"})

    def via_runtime(state: State, runtime: Runtime[Any]) -> None:
        runtime.store.put(("memories", state["user"]), "b", {"data": "from runtime"})

    def reads(state: State) -> dict[str, Any]:
        found = get_store().search(("memories", state["user"]))
        return {"seen": sorted(item.value["data"] for item in found)}

    builder = StateGraph(State).add_node("writes", writes).add_node("via_runtime", via_runtime)
    builder.add_node("reads", reads).add_edge(START, "writes").add_edge(START, "via_runtime")
    builder.add_edge(["writes", "via_runtime"], "reads")
    out = builder.compile(store=store).invoke({"user": "u1"})
    assert out["seen"] == ["from parameter", "from runtime"]
    assert store.get(("memories", "u1"), "a").value == {"data": "from parameter"}


def test_optional_store_parameter_gets_none() -> None:
    def node(state: State, store: BaseStore | None = None) -> dict[str, Any]:
        return {"seen": [repr(store)]}

    graph = StateGraph(State).add_node("n", node).add_edge(START, "n").compile()
    assert graph.invoke({"user": "u"})["seen"] == ["None"]
    assert graph.store is None


def test_entrypoint_store_reaches_tasks() -> None:
    store = InMemoryStore()

    @task
    def remember(user: str) -> str:
        get_store().put(("memories", user), "k", {"data": "x"})
        return "ok"

    @entrypoint(store=store)
    def wf(user: str, *, store: BaseStore) -> int:
        remember(user).result()
        return len(store.search(("memories", user)))

    assert wf.invoke("u1") == 1


def test_entrypoint_requiring_a_store_without_one() -> None:
    @entrypoint()
    def wf(user: str, *, store: BaseStore) -> None:
        return None

    with pytest.raises(ValueError, match="asks for a 'store'"):
        wf.invoke("u1")
