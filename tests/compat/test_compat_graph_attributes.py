"""A compiled graph's saver set after compile: ``app.checkpointer = saver`` and
``app.copy({"checkpointer": saver})``, as LangGraph's compiled graphs allow (LangGraph's own
``test_invoke_join_then_call_other_pregel`` sets it so). Passes on LangGraph 1.2.22 with the
import root swapped."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.graph import START, StateGraph


class State(TypedDict):
    n: int


def _graph() -> Any:
    builder = StateGraph(State).add_node("inc", lambda s: {"n": s["n"] + 1})
    return builder.add_edge(START, "inc").compile()


CONFIG: Any = {"configurable": {"thread_id": "t"}}


def test_a_checkpointer_set_after_compile_saves_the_next_runs() -> None:
    app = _graph()
    assert app.invoke({"n": 1}) == {"n": 2}
    saver = InMemorySaver()
    app.checkpointer = saver
    assert app.checkpointer is saver
    assert app.invoke({"n": 1}, CONFIG) == {"n": 2}
    assert app.get_state(CONFIG).values == {"n": 2}
    assert saver.get_tuple(CONFIG) is not None


def test_a_checkpointer_set_to_none_stops_saving() -> None:
    app = _graph()
    app.checkpointer = InMemorySaver()
    app.checkpointer = None
    assert app.invoke({"n": 1}, CONFIG) == {"n": 2}
    with pytest.raises(ValueError, match="No checkpointer set"):
        app.get_state(CONFIG)


def test_copy_with_a_checkpointer_leaves_the_original_as_it_was() -> None:
    app = _graph()
    saver = InMemorySaver()
    copied = app.copy({"checkpointer": saver})
    assert copied.invoke({"n": 5}, CONFIG) == {"n": 6}
    assert copied.get_state(CONFIG).values == {"n": 6}
    assert app.checkpointer is None
    with pytest.raises(ValueError, match="No checkpointer set"):
        app.get_state(CONFIG)


class Input(TypedDict):
    n: int
    question: str


class Private(TypedDict):
    scratch: list[str]


def test_a_builders_channels_are_the_keys_of_every_schema_it_was_given() -> None:
    builder = StateGraph(State, input_schema=Input)
    assert builder.channels.keys() == {"n", "question"}

    def first(state: Input) -> Any:
        return {"scratch": ["x"]}

    def second(state: Private) -> Any:
        return {"n": len(state["scratch"])}

    builder.add_node("first", first).add_node("second", second)
    builder.add_edge(START, "first").add_edge("first", "second")
    assert builder.channels.keys() == {"n", "question", "scratch"}
    assert builder.compile().invoke({"n": 0, "question": "q"}) == {"n": 1}


def test_reading_a_root_graph_compiled_with_checkpointer_true_says_why() -> None:
    builder = StateGraph(State).add_node("inc", lambda s: {"n": s["n"] + 1})
    app = builder.add_edge(START, "inc").compile(checkpointer=True)
    why = "checkpointer=True cannot be used for root graphs"
    with pytest.raises(RuntimeError, match=why):
        app.invoke({"n": 1}, CONFIG)
    with pytest.raises(RuntimeError, match=why):
        app.get_state(CONFIG)
    with pytest.raises(RuntimeError, match=why):
        list(app.get_state_history(CONFIG))
    with pytest.raises(RuntimeError, match=why):
        app.update_state(CONFIG, {"n": 2})
