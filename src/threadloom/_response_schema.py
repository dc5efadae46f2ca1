"""``interrupt(..., response_schema=...)``: what the schema shows, how an answer is checked, and
why the answer's types may be stored.

A schema is a raw JSON schema (a ``dict``: shown as is, answers are not checked) or a type
pydantic understands (a model, a dataclass, a TypedDict, ``list[Model]``...): the interrupt shows
its JSON schema and the answer is validated into it, so the node gets a ``Decision`` instance for
``response_schema=Decision`` (a dict for a TypedDict), as in LangGraph.

The node then usually stores that value in its state. The program named the type itself, as it
names its state schema, so the types the schema reaches are declared to the serializer's
allow-list (``checkpoint/serde/_allowlist.declare``) the first time an interrupt names them.
"""

from __future__ import annotations

import contextlib
from typing import Any

from threadloom.errors import mark_invalid_resume

__all__ = ["schema_json", "validate_answer"]

_declared: set[Any] = set()
"""Schemas whose types were declared already (a type, or an alias such as ``list[Model]``)."""


def schema_json(schema: Any) -> Any:
    """What the pending ``Interrupt`` shows as its ``response_schema``."""
    if schema is None or isinstance(schema, dict):
        return schema
    from pydantic import TypeAdapter

    _declare(schema)
    return TypeAdapter(schema).json_schema()


def validate_answer(answer: Any, schema: Any) -> Any:
    """``answer`` as the node receives it: validated into ``schema`` when it is a type.

    A value that does not match raises pydantic's ``ValidationError`` marked so that
    ``errors.is_invalid_resume`` tells it from the node's own validation errors.
    """
    if schema is None or isinstance(schema, dict):
        return answer
    from pydantic import TypeAdapter, ValidationError

    _declare(schema)
    try:
        return TypeAdapter(schema).validate_python(answer)
    except ValidationError as exc:
        mark_invalid_resume(exc)
        raise


def _declare(schema: Any) -> None:
    try:
        if schema in _declared:
            return
    except TypeError:  # an unhashable schema: declared on every call (cheap, and rare)
        pass
    from threadloom.checkpoint.serde._allowlist import declare
    from threadloom.graph._schema import collect_types

    declare(collect_types(schema))
    with contextlib.suppress(TypeError):
        _declared.add(schema)
