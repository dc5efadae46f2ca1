"""Legacy JSON checkpoints (LangGraph < 1.0) holding an ``Interrupt`` or messages as LangChain
constructor records: a record of a safe type becomes its object again (an ``Interrupt`` with the
id LangGraph 1.0 derives from its ``ns``), with or without ``allowed_json_modules``, as in
LangGraph 1.2.22; a class off the allow-list is never rebuilt nor imported."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.types import Interrupt


def _record(path: list[str], **kwargs: Any) -> bytes:
    return json.dumps({"lc": 2, "type": "constructor", "id": path, "kwargs": kwargs}).encode()


LEGACY = _record(
    ["langgraph", "types", "Interrupt"],
    value="legacy_test",
    resumable=True,
    ns=["legacy:test", "with:complex", "name:space"],
    when="during",
)
EXPECTED_ID = Interrupt.from_ns("legacy_test", "legacy:test|with:complex|name:space").id


@pytest.mark.parametrize("allowed", [None, True, [("langgraph", "types")], [("langchain",)]])
def test_a_legacy_interrupt_is_rebuilt_with_its_derived_id(allowed: Any) -> None:
    # LangGraph 1.2.22 (langgraph-checkpoint 4.3.2) rebuilds a safe type's record without an
    # allow-list; threadloom kept it as data unless allowed_json_modules named its path.
    loaded = JsonPlusSerializer(allowed_json_modules=allowed).loads_typed(("json", LEGACY))
    assert loaded == Interrupt(value="legacy_test", id=EXPECTED_ID)


def test_legacy_messages_are_rebuilt_without_an_allow_list() -> None:
    # Threads saved before LangGraph 1.0 kept their messages as JSON records; resuming one
    # needs the messages back (LangGraph's issue 7498).
    human = json.loads(
        _record(["langchain_core", "messages", "human", "HumanMessage"], content="hi")
    )
    ai = json.loads(_record(["langchain_core", "messages", "ai", "AIMessage"], content="hello"))
    loaded = JsonPlusSerializer().loads_typed(("json", json.dumps([human, ai]).encode()))
    assert loaded == [HumanMessage(content="hi"), AIMessage(content="hello")]


def test_records_of_other_types_are_kept_as_data_unless_allowed() -> None:
    record = _record(["tests", "compat", "test_compat_legacy_json", "Mine"], x=1)
    assert JsonPlusSerializer().loads_typed(("json", record)) == json.loads(record)


def test_a_class_off_the_allow_list_is_never_imported() -> None:
    record = _record(["os", "system"], command="echo pwned")
    nested = json.dumps({"outer": [json.loads(record)]}).encode()
    loaded = JsonPlusSerializer(allowed_json_modules=True).loads_typed(("json", nested))
    assert loaded == {"outer": [json.loads(record)]}
