"""Values users take for plain data are stored as LangGraph stores them (LangGraph 1.2.22).

langchain-core's ``message.text`` is a ``TextAccessor`` (a ``str`` subclass): it is stored and
read back as ``str``. A dataclass or pydantic type used only as an entrypoint's input (annotated,
also under ``from __future__ import annotations``) or as a node's input schema is allowed by the
strict serializer, like the state's own types. Other ``str`` subclasses stay strict.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import TypedDict

import pytest
from langchain_core.messages import AIMessage
from pydantic import BaseModel

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.errors import UnserializableValueError
from threadloom.func import entrypoint
from threadloom.graph import START, StateGraph


class Text(TypedDict):
    text: str


def test_message_text_is_stored_as_str(tmp_path: Path) -> None:
    message = AIMessage("hello")
    assert type(message.text) is not str and isinstance(message.text, str)
    builder = StateGraph(Text)
    builder.add_node("speak", lambda state: {"text": message.text})
    builder.add_edge(START, "speak")
    with SqliteSaver(sqlite3.connect(tmp_path / "t.db", check_same_thread=False)) as saver:
        graph = builder.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        assert graph.invoke({"text": ""}, config) == {"text": "hello"}
        stored = graph.get_state(config).values["text"]
    assert stored == "hello"
    assert type(stored) is str


def test_other_str_subclasses_stay_strict() -> None:
    class Tagged(str):
        pass

    with pytest.raises(UnserializableValueError, match="Tagged"):
        JsonPlusSerializer().dumps_typed(Tagged("x"))


@dataclasses.dataclass
class Request:
    q: int


class Query(BaseModel):
    q: int


@pytest.mark.parametrize("kind", [Request, Query])
def test_an_entrypoints_annotated_input_type_is_allowed(kind: type) -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def flow(request: Request | Query) -> int:  # string annotation (future import)
        return request.q

    config = {"configurable": {"thread_id": "t"}}
    assert flow.invoke(kind(q=3), config) == 3
    assert flow.get_state(config).values == 3


class Numbers(TypedDict):
    q: int
    out: int


class NodeInput(BaseModel):
    q: int


def test_a_nodes_pydantic_input_schema_is_allowed() -> None:
    def node(state: NodeInput) -> dict[str, int]:
        return {"out": state.q * 2}

    builder = StateGraph(Numbers)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"q": 2}, config) == {"q": 2, "out": 4}
