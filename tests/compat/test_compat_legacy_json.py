"""Legacy JSON checkpoints (LangGraph < 1.0) holding an ``Interrupt`` as a LangChain constructor
record: with ``allowed_json_modules`` the record becomes an ``Interrupt`` again, with the id
LangGraph 1.0 derives from its ``ns``; without it, or for classes off the allow-list, nothing is
rebuilt and nothing is imported."""

from __future__ import annotations

import json
from typing import Any

import pytest

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


@pytest.mark.parametrize("allowed", [True, [("langgraph", "types")]])
def test_an_allowed_legacy_interrupt_is_rebuilt_with_its_derived_id(allowed: Any) -> None:
    loaded = JsonPlusSerializer(allowed_json_modules=allowed).loads_typed(("json", LEGACY))
    assert loaded == Interrupt(value="legacy_test", id=EXPECTED_ID)


def test_records_are_kept_as_data_unless_allowed() -> None:
    assert JsonPlusSerializer().loads_typed(("json", LEGACY))["kwargs"]["value"] == "legacy_test"
    other_prefix = JsonPlusSerializer(allowed_json_modules=[("langchain",)])
    assert isinstance(other_prefix.loads_typed(("json", LEGACY)), dict)


def test_a_class_off_the_allow_list_is_never_imported() -> None:
    record = _record(["os", "system"], command="echo pwned")
    nested = json.dumps({"outer": [json.loads(record)]}).encode()
    loaded = JsonPlusSerializer(allowed_json_modules=True).loads_typed(("json", nested))
    assert loaded == {"outer": [json.loads(record)]}
