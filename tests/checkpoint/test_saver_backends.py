"""Behaviour every saver backend shares, run over ``conftest.BACKENDS``: graphs with typed
states (issue 7, defect 1), metadata filters compared by type (DECISIONS 9, defect 7) and
metadata that JSON cannot hold (defect 3)."""

from __future__ import annotations

import dataclasses
import enum
import math
import operator
from typing import Annotated, Any, TypedDict

import pytest
from pydantic import BaseModel
from saver_helpers import MakeSaver, config, make_checkpoint

from threadloom.graph import START, StateGraph


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@dataclasses.dataclass
class Note:
    text: str
    mood: Mood


class Address(BaseModel):
    city: str


class Profile(BaseModel):
    name: str
    address: Address
    tags: tuple[str, ...] = ()


class Rich(TypedDict, total=False):
    profile: Profile
    notes: Annotated[list[Note], operator.add]


@dataclasses.dataclass
class DataState:
    count: int = 0
    notes: Annotated[list[Note], operator.add] = dataclasses.field(default_factory=list)


class ModelState(BaseModel):
    count: int = 0
    profile: Profile | None = None
    notes: Annotated[list[Note], operator.add] = []


def cfg(thread: str = "t") -> Any:
    return {"configurable": {"thread_id": thread}}


def _typed_dict_graph(saver: Any) -> Any:
    def write(state: Rich) -> dict[str, Any]:
        n = len(state.get("notes", []))
        profile = Profile(name="bob", address=Address(city=f"c{n}"), tags=("a", "b"))
        return {"profile": profile, "notes": [Note(f"hi{n}", Mood.HAPPY)]}

    return (
        StateGraph(Rich)
        .add_node("write", write)
        .add_edge(START, "write")
        .compile(checkpointer=saver)
    )


def _schema_graph(schema: Any, saver: Any) -> Any:
    def bump(state: Any) -> dict[str, Any]:
        assert isinstance(state, schema)
        update: dict[str, Any] = {"count": state.count + 1, "notes": [Note("n", Mood.SAD)]}
        if schema is ModelState:
            update["profile"] = Profile(name="m", address=Address(city="x"))
        return update

    return (
        StateGraph(schema)
        .add_node("bump", bump)
        .add_edge(START, "bump")
        .compile(checkpointer=saver)
    )


def test_typed_dict_state_with_models_survives_reopening(make_saver: MakeSaver) -> None:
    _typed_dict_graph(make_saver()).invoke({"notes": []}, cfg())
    graph = _typed_dict_graph(make_saver())  # reopened (the same saver for memory)
    graph.invoke({"notes": []}, cfg())
    values = graph.get_state(cfg()).values
    assert values["profile"] == Profile(name="bob", address=Address(city="c1"), tags=("a", "b"))
    assert type(values["profile"].address) is Address
    assert values["notes"] == [Note("hi0", Mood.HAPPY), Note("hi1", Mood.HAPPY)]
    assert values["notes"][0].mood is Mood.HAPPY
    history = list(graph.get_state_history(cfg()))
    # newest first: each run saved its input, the input applied, the node's write
    assert [len(s.values.get("notes", [])) for s in history] == [2, 1, 1, 1, 0, 0]
    assert history[3].values["profile"].address == Address(city="c0")


@pytest.mark.parametrize("schema", [DataState, ModelState])
def test_dataclass_and_pydantic_states_survive_reopening(
    make_saver: MakeSaver, schema: Any
) -> None:
    _schema_graph(schema, make_saver()).invoke({"count": 1}, cfg())
    graph = _schema_graph(schema, make_saver())
    graph.invoke({"count": 5}, cfg())
    state = graph.get_state(cfg())
    assert state.values["count"] == 6  # values are a dict, as in LangGraph
    assert state.values["notes"] == [Note("n", Mood.SAD), Note("n", Mood.SAD)]
    if schema is ModelState:
        assert state.values["profile"] == Profile(name="m", address=Address(city="x"))
    counts = [s.values.get("count") for s in graph.get_state_history(cfg())]
    assert counts == [6, 5, 2, 2, 1, None]  # an input checkpoint holds the state before it


def test_with_allowlist_clone_encodes_with_its_own_serializer(make_saver: MakeSaver) -> None:
    """The clone compile() makes shares the saver's storage but not its serializer."""
    saver = make_saver()
    clone = saver.with_allowlist({Note, Mood})
    assert clone is not saver and clone.serde is not saver.serde
    checkpoint = make_checkpoint({"notes": [Note("x", Mood.HAPPY)]})
    clone.put(config("t"), checkpoint, {"source": "loop", "step": 0}, {"notes": 1})
    got = clone.get_tuple(config("t"))
    assert got is not None and got.checkpoint["channel_values"]["notes"] == [Note("x", Mood.HAPPY)]


def _put(saver: Any, thread: str, metadata: dict[str, Any]) -> str:
    checkpoint = make_checkpoint({"a": 1})
    saver.put(config(thread), checkpoint, metadata, {"a": 1})
    return checkpoint["id"]


STORED: dict[str, Any] = {
    "bool_true": True,
    "bool_false": False,
    "int_one": 1,
    "int_zero": 0,
    "float_one": 1.0,
    "float_half": 0.5,
    "str_one": "1",
    "str_true": "true",
    "none": None,
    "nested": {"a": 1, "b": [True, "x"]},
    "listed": [1, 2],
}


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"v": True}, ["bool_true"]),
        ({"v": False}, ["bool_false"]),
        ({"v": 1}, ["float_one", "int_one"]),  # numbers compare as numbers
        ({"v": 1.0}, ["float_one", "int_one"]),
        ({"v": 0}, ["int_zero"]),
        ({"v": 0.5}, ["float_half"]),
        ({"v": "1"}, ["str_one"]),
        ({"v": "true"}, ["str_true"]),
        ({"v": None}, ["none"]),  # null or missing (every row has v)
        ({"v": {"a": 1, "b": [True, "x"]}}, ["nested"]),
        ({"v": {"a": True, "b": [True, "x"]}}, []),
        ({"v": {"a": 1.0, "b": [1, "x"]}}, []),
        ({"v": [1, 2]}, ["listed"]),
        ({"v": [True, 2]}, []),
        ({"v": 2}, []),
    ],
)
def test_metadata_filters_compare_typed(
    saver: Any, filter: dict[str, Any], expected: list[str]
) -> None:
    for name, value in STORED.items():
        _put(saver, name, {"v": value})
    for limit in (None, 1, 10):
        found = sorted(
            t.config["configurable"]["thread_id"]
            for t in saver.list(None, filter=filter, limit=limit)
        )
        assert found == (expected if limit != 1 else expected[:1] if expected else []) or (
            limit == 1 and len(found) == 1 and found[0] in expected
        )


def test_nan_and_inf_in_metadata_keep_filters_working(saver: Any) -> None:
    _put(saver, "nan", {"source": "loop", "x": float("nan"), "deep": {"y": [float("-inf")]}})
    _put(saver, "inf", {"source": "loop", "x": float("inf")})
    _put(saver, "plain", {"source": "input", "x": 1})
    _put(saver, "big", {"source": "input", "x": 10**30})

    def threads(**filter: Any) -> list[str]:
        return sorted(
            t.config["configurable"]["thread_id"] for t in saver.list(None, filter=filter)
        )

    assert threads(source="loop") == ["inf", "nan"]
    assert threads(source="input") == ["big", "plain"]
    assert threads(x=float("nan")) == []  # NaN equals nothing, itself included
    assert threads(x=float("inf")) == ["inf"]
    assert threads(x=10**30) == ["big"]
    assert threads(x=None) == []  # a non-finite value is not null
    stored = saver.get_tuple(config("nan")).metadata
    assert math.isnan(stored["x"]) and stored["deep"] == {"y": [float("-inf")]}  # kept as is
