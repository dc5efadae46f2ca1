"""A run's step saves reach ``InMemorySaver`` through ``put_step_diff`` with the run's address
(``checkpoint/_put.RunAddress``), not a config per step: the metadata it keeps, the head it
checks and the writes it stores must be what a ``put`` of the same checkpoint stores.

``WholePuts`` overrides ``put``, so the engine saves its steps the LangGraph way (whole
checkpoints through ``put_writes`` and ``put``): the reference each test compares with.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.errors import CheckpointConflictError
from threadloom.graph import END, START, StateGraph


class WholePuts(InMemorySaver):
    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        return super().put(config, checkpoint, metadata, new_versions)


class _S(TypedDict):
    items: Annotated[list[str], operator.add]


def _graph(saver: Any) -> Any:
    inner = StateGraph(_S)
    inner.add_node("deep", lambda s: {"items": ["deep"]})
    inner.add_edge(START, "deep")
    builder = StateGraph(_S)
    builder.add_node("a", lambda s: {"items": ["a"]})
    builder.add_node("sub", inner.compile())  # its checkpoints name their parents
    builder.add_edge(START, "a")
    builder.add_edge("a", "sub")
    builder.add_edge("sub", END)
    return builder.compile(checkpointer=saver)


def _history(saver: Any, config: dict[str, Any]) -> list[tuple[Any, ...]]:
    graph = _graph(saver)
    graph.invoke({"items": []}, config)
    snapshots = list(graph.get_state_history(config))
    subgraph = graph.get_state(config, subgraphs=True)
    return [
        *[(s.metadata | {"parents": sorted(s.metadata["parents"])}, s.values) for s in snapshots],
        (subgraph.values, len(snapshots)),
    ]


@pytest.mark.parametrize(
    "extra",
    [
        {},  # nothing added by the config
        {"metadata": {"user": "ann", "n": 3, "ratio": 0.5, "ok": True}},  # plain: kept as objects
        {"metadata": {"user": "zoë"}},  # not ASCII: merged and serialized the general way
        {"metadata": {"tags": ["x"], "obj": object()}},  # not atoms: not copied into metadata
        {"configurable": {"user_id": "u1", "__private": 1}},  # configurable keys enter it too
    ],
)
def test_step_saves_keep_what_a_put_keeps(extra: dict[str, Any]) -> None:
    def config(thread: str) -> dict[str, Any]:
        return {
            **extra,
            "configurable": {"thread_id": thread, **extra.get("configurable", {})},
        }

    diffs, whole = InMemorySaver(), WholePuts()
    assert _history(diffs, config("t")) == _history(whole, config("t"))


def test_a_step_save_finds_the_head_moved_and_stores_nothing() -> None:
    saver = InMemorySaver()
    graph = _graph(saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"items": []}, config)
    head = saver.get_tuple(config)
    assert head is not None

    moved = False

    def meddle(state: _S) -> dict[str, Any]:
        nonlocal moved
        if not moved:  # another writer saves on the thread while this step runs
            moved = True
            graph.update_state(config, {"items": ["other"]})
        return {"items": ["a"]}

    builder = StateGraph(_S)
    builder.add_node("a", meddle)
    builder.add_edge(START, "a")
    racing = builder.compile(checkpointer=saver)
    with pytest.raises(CheckpointConflictError):
        racing.invoke({"items": []}, config)
    latest = saver.get_tuple(config)
    assert latest is not None and latest.checkpoint["channel_values"]["items"][-1] == "other"
