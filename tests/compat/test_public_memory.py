"""``InMemorySaver(factory=...)`` with ``PersistentDict``, and ``Interrupt``'s pre-1.0 arguments.

LangGraph's own test helpers build ``InMemorySaver(factory=partial(PersistentDict,
filename=...))`` and add cleanups to ``saver.stack``; LangGraph < 1.0 stored interrupts made with
``resumable=``, ``when=`` and ``ns=``. Both must keep working after the import swap.
"""

from __future__ import annotations

import operator
import warnings
from functools import partial
from pathlib import Path
from typing import Annotated

import pytest
from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver, PersistentDict
from threadloom.graph import START, StateGraph
from threadloom.types import Interrupt
from threadloom.warnings import LangGraphDeprecatedSinceV10, LangGraphDeprecationWarning


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def _graph(saver: InMemorySaver) -> object:
    builder = StateGraph(State).add_node("a", lambda s: {"log": ["a"]}).add_edge(START, "a")
    return builder.compile(checkpointer=saver)


def test_a_persistent_dict_saver_writes_its_threads_when_closed(tmp_path: Path) -> None:
    path = tmp_path / "threads.pickle"
    removed: list[str] = []
    config = {"configurable": {"thread_id": "1"}}
    saver = InMemorySaver(factory=partial(PersistentDict, filename=str(path)))
    saver.stack.callback(removed.append, "cleanup ran")  # LangGraph's helpers do this
    with saver:
        graph = _graph(saver)
        graph.invoke({"log": ["x"]}, config)  # type: ignore[attr-defined]
        assert graph.invoke({"log": ["y"]}, config) == {"log": ["x", "a", "y", "a"]}  # type: ignore[attr-defined]
        assert not path.exists()  # written on close, not on every put
    assert removed == ["cleanup ran"]
    stored = PersistentDict(filename=str(path))
    stored.load()
    assert list(stored) == ["1"]

    reopened = InMemorySaver(factory=lambda: stored)
    assert _graph(reopened).get_state(config).values == {"log": ["x", "a", "y", "a"]}  # type: ignore[attr-defined]


def test_persistent_dict_on_its_own(tmp_path: Path) -> None:
    path = str(tmp_path / "d.pickle")
    with PersistentDict(list, filename=path) as d:
        d["a"].append(1)
    assert d == {}  # closing empties it
    again = PersistentDict(filename=path)
    again.load()
    assert again == {"a": [1]}
    again.flag = "r"
    again["b"] = 2
    again.sync()  # read-only: the file keeps what it had
    check = PersistentDict(filename=path)
    check.load()
    assert check == {"a": [1]}


def test_a_factory_must_make_a_mapping() -> None:
    with pytest.raises(ValueError, match="not a mapping"):
        InMemorySaver(factory=list)


def test_pre_1_0_interrupt_arguments_are_accepted() -> None:
    old = Interrupt(value="abc", resumable=True, when="during", ns=["a:b", "c:d"])
    new = Interrupt.from_ns(value="abc", ns="a:b|c:d")
    assert (old.value, old.id) == (new.value, new.id)
    assert old == new
    assert Interrupt("v", "given-id", resumable=False).id == "given-id"  # an id given wins
    with pytest.raises(TypeError, match="unexpected arguments"):
        Interrupt("v", color="red")  # type: ignore[call-arg]


def test_langgraph_warning_classes() -> None:
    assert issubclass(LangGraphDeprecatedSinceV10, LangGraphDeprecationWarning)
    assert issubclass(LangGraphDeprecationWarning, DeprecationWarning)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=LangGraphDeprecatedSinceV10)
        with pytest.raises(LangGraphDeprecatedSinceV10):
            warnings.warn("old", LangGraphDeprecatedSinceV10, stacklevel=1)
