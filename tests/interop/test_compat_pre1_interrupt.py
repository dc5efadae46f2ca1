"""An ``Interrupt`` a LangGraph < 1.0 checkpoint holds reads back as an ``Interrupt`` (issue 10).

LangGraph < 1.0 stored ``Interrupt(value, resumable, ns, when)``. Such bytes reach threadloom only
through migration, which decodes them with LangGraph's own serializer and converts the records
(``interop/_objects.py``); threadloom's reader never sees LangGraph's module names.
"""

from __future__ import annotations

import ormsgpack
from langgraph.checkpoint.serde import jsonplus as lg_jsonplus

from threadloom import types as tl
from threadloom.interop._objects import writes_to_threadloom


def _pre_1_0_interrupt_bytes() -> bytes:
    fields = {"value": "approve?", "resumable": True, "ns": ["node:1"], "when": "during"}
    record = ormsgpack.packb(["langgraph.types", "Interrupt", fields])
    return ormsgpack.packb([ormsgpack.Ext(lg_jsonplus.EXT_CONSTRUCTOR_KW_ARGS, record)])


def test_a_pre_1_0_interrupt_write_migrates_as_an_interrupt() -> None:
    decoded = lg_jsonplus.JsonPlusSerializer().loads_typed(("msgpack", _pre_1_0_interrupt_bytes()))
    [(channel, value)] = writes_to_threadloom([("__interrupt__", decoded)])
    assert channel == "__interrupt__"
    [interrupt] = value
    assert isinstance(interrupt, tl.Interrupt)
    assert interrupt.value == "approve?"
    assert interrupt.id  # LangGraph derives one from the old namespace
