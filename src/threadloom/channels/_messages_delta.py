"""The message reducer for a ``DeltaChannel`` key (LangGraph's ``_messages_delta_reducer``).

``Annotated[list, DeltaChannel(_messages_delta_reducer)]`` keeps a message list like
``add_messages`` does, a step's writes at once: every write (a message, a dict, a string, a
``(role, content)`` tuple, or a list of them) becomes a message; one whose id is already in the
list replaces it, a ``RemoveMessage`` drops it, others are appended. A message without an id gets
one (a UUID), so it can be replaced or removed later. Folding two batches one after the other
gives what folding them together gives, as ``DeltaChannel`` requires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, RemoveMessage, convert_to_messages

from threadloom.checkpoint.id import uuid4_str

__all__ = ["messages_delta_reducer"]


def _as_messages(items: Sequence[Any]) -> list[BaseMessage]:
    if all(isinstance(item, BaseMessage) for item in items):
        return list(items)
    return list(convert_to_messages(items))


def messages_delta_reducer(state: Sequence[Any], writes: Sequence[Any]) -> list[BaseMessage]:
    """``state`` with ``writes`` applied in order (see the module docstring)."""
    written: list[Any] = []
    for write in writes:
        written.extend(write if isinstance(write, list) else [write])
    result: list[BaseMessage | None] = list(_as_messages(state))
    where = {m.id: i for i, m in enumerate(result) if m is not None and m.id is not None}
    for message in _as_messages(written):
        mid = message.id
        if mid is None:
            mid = uuid4_str()
            message = message.model_copy(update={"id": mid})
        if isinstance(message, RemoveMessage):
            index = where.pop(mid, None)
            if index is not None:
                result[index] = None
        elif mid in where:
            result[where[mid]] = message
        else:
            where[mid] = len(result)
            result.append(message)
    return [m for m in result if m is not None]
