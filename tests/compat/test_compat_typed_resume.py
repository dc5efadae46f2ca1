"""Typed resume values: ``interrupt(..., response_schema=T)`` hands the node the answer validated
into ``T`` (a model instance, a dataclass, a dict for a TypedDict), as LangGraph 1.2.22 does, and
the node may store it: a type named as a response schema is declared by the program, so the strict
serializer stores and rebuilds it. Types nobody declared stay refused."""

from __future__ import annotations

import asyncio
import dataclasses
import operator
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import UnserializableValueError
from threadloom.graph import START, StateGraph
from threadloom.types import Command, interrupt


class Verdict(BaseModel):
    approved: bool
    note: str | None = None


class Reviewer(BaseModel):
    name: str


class Review(BaseModel):
    verdict: Verdict
    reviewers: list[Reviewer]


@dataclasses.dataclass
class VerdictData:
    approved: bool


class VerdictDict(TypedDict):
    approved: bool


class NeverDeclared(BaseModel):
    approved: bool


class State(TypedDict):
    answer: Any


@pytest.fixture(params=["memory", "sqlite"])
def saver(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemorySaver()
        return
    conn = sqlite3.connect(tmp_path / "state.db", check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _asking(schema: Any, saver: Any) -> Any:
    def node(state: State) -> dict[str, Any]:
        return {"answer": interrupt("approve?", response_schema=schema)}

    return (
        StateGraph(State).add_node("node", node).add_edge(START, "node").compile(checkpointer=saver)
    )


@pytest.mark.parametrize(
    ("schema", "resume", "expected"),
    [
        (Verdict, {"approved": True}, Verdict(approved=True)),
        (Verdict, Verdict(approved=True, note="ok"), Verdict(approved=True, note="ok")),
        (VerdictData, {"approved": True}, VerdictData(approved=True)),
        (VerdictData, VerdictData(approved=False), VerdictData(approved=False)),
        (VerdictDict, {"approved": True, "extra": 1}, {"approved": True}),
        (list[Verdict], [{"approved": False}], [Verdict(approved=False)]),
        (
            Review,
            {"verdict": {"approved": True}, "reviewers": [{"name": "ann"}]},
            Review(verdict=Verdict(approved=True), reviewers=[Reviewer(name="ann")]),
        ),
    ],
    ids=[
        "model",
        "model-instance",
        "dataclass",
        "dataclass-instance",
        "typeddict",
        "list",
        "nested",
    ],
)
def test_the_node_gets_the_typed_answer_and_it_is_stored(
    saver: Any, schema: Any, resume: Any, expected: Any
) -> None:
    graph, config = _asking(schema, saver), {"configurable": {"thread_id": "1"}}
    graph.invoke({"answer": None}, config)
    assert graph.invoke(Command(resume=resume), config) == {"answer": expected}
    # read back from the saver: the stored value is rebuilt as its declared type
    assert graph.get_state(config).values == {"answer": expected}
    assert next(s.values for s in graph.get_state_history(config)) == {"answer": expected}


def test_a_declared_type_is_rebuilt_by_a_fresh_saver_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    config = {"configurable": {"thread_id": "1"}}
    with sqlite3.connect(path, check_same_thread=False) as conn:
        graph = _asking(Verdict, SqliteSaver(conn))
        graph.invoke({"answer": None}, config)
        graph.invoke(Command(resume={"approved": True}), config)
    conn.close()
    reopened = sqlite3.connect(path, check_same_thread=False)
    try:
        saver = SqliteSaver(reopened)
        checkpoint = saver.get_tuple(config)
        assert checkpoint is not None
        assert checkpoint.checkpoint["channel_values"]["answer"] == Verdict(approved=True)
    finally:
        reopened.close()


def test_a_type_nobody_declared_is_still_refused() -> None:
    serde = JsonPlusSerializer()
    with pytest.raises(UnserializableValueError, match="NeverDeclared"):
        serde.dumps_typed(NeverDeclared(approved=True))


def test_a_type_inside_a_response_schema_is_declared_but_not_its_neighbours() -> None:
    class Outer(BaseModel):
        inner: Reviewer

    class Unrelated(BaseModel):
        x: int

    graph, config = _asking(Outer, InMemorySaver()), {"configurable": {"thread_id": "t"}}
    graph.invoke({"answer": None}, config)  # naming the schema declares Outer and Reviewer
    serde = JsonPlusSerializer()
    value = Outer(inner=Reviewer(name="bo"))
    assert serde.loads_typed(serde.dumps_typed(value)) == value
    with pytest.raises(UnserializableValueError, match="Unrelated"):
        serde.dumps_typed(Unrelated(x=1))


class Log(TypedDict):
    log: Annotated[list[str], operator.add]


def test_an_invalid_answer_lets_the_answered_sibling_finish_once() -> None:
    """LangGraph lets the tasks whose answers were valid finish (their writes are kept) and
    fails the run with the ValidationError; only the refused interrupt stays pending."""
    sent: list[str] = []

    async def send(state: Log) -> dict[str, Any]:
        interrupt("send?", response_schema=Verdict)
        sent.append("email")
        await asyncio.sleep(0.02)  # still running when the sibling's answer is refused
        return {"log": ["sent"]}

    async def check(state: Log) -> dict[str, Any]:
        interrupt("check?", response_schema=Verdict)
        return {"log": ["checked"]}

    graph = (
        StateGraph(Log)
        .add_node("send", send)
        .add_node("check", check)
        .add_edge(START, "send")
        .add_edge(START, "check")
        .compile(checkpointer=InMemorySaver())
    )
    config = {"configurable": {"thread_id": "1"}}

    async def scenario() -> None:
        await graph.ainvoke({"log": []}, config)
        ids = {i.value: i.id for i in (await graph.aget_state(config)).interrupts}
        answers = {ids["send?"]: {"approved": True}, ids["check?"]: {"approved": "nope"}}
        with pytest.raises(ValidationError, match="approved"):
            await graph.ainvoke(Command(resume=answers), config)
        pending = [i.value for i in (await graph.aget_state(config)).interrupts]
        assert (pending, sent) == (["check?"], ["email"])
        result = await graph.ainvoke(Command(resume={ids["check?"]: {"approved": True}}), config)
        assert (sorted(result["log"]), sent) == (["checked", "sent"], ["email"])

    asyncio.run(scenario())


def test_a_schema_class_made_by_a_function_stays_storable_when_made_again() -> None:
    def make() -> Any:
        class Answer(BaseModel):  # same qualified name on every call
            ok: bool

        return Answer

    first, second = make(), make()
    answers = []
    for schema in (first, second, first):
        graph, config = _asking(schema, InMemorySaver()), {"configurable": {"thread_id": "t"}}
        graph.invoke({"answer": None}, config)
        answers.append(graph.invoke(Command(resume={"ok": True}), config)["answer"])
    assert [type(a) for a in answers] == [first, second, first]
    for schema in (first, second):  # a fresh serializer (no cache of what it stored before)
        value = schema(ok=False)
        assert JsonPlusSerializer().dumps_typed(value)[0] == "msgpack"
