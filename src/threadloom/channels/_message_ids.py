"""Ids for the messages written to a ``DeltaChannel``, as LangGraph gives them.

LangGraph rebuilds a delta channel from its saved writes on every read, so it gives each message
written there an id before the write is kept; a reducer then never sees an id-less message and
every read shows the same id. threadloom stores the value, so ids are stable anyway; this gives
the same ids-present behaviour. With ``_messages_delta_reducer`` every message-like (a message, a
message dict, a string, a ``(role, content)`` tuple; alone, in a list or in an ``Overwrite``)
becomes a message with an id. With another reducer the data may be anything, so only message
objects get ids, and message dicts (alone or in a list) outside an ``Overwrite``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import BaseMessage, convert_to_messages

from threadloom.checkpoint.id import uuid4_str
from threadloom.types import Overwrite

__all__ = ["with_message_ids"]

_ROLES = frozenset({"user", "human", "assistant", "ai", "tool", "system", "function"})
_TYPES = frozenset({"human", "ai", "tool", "system", "function", "remove"})


def _is_message_dict(item: Any) -> bool:
    return isinstance(item, dict) and (item.get("role") in _ROLES or item.get("type") in _TYPES)


def _stamp(item: Any) -> Any:
    if isinstance(item, BaseMessage) and item.id is None:
        item.id = uuid4_str()
    return item


def _as_message(item: Any, *, strict: bool = False) -> Any:
    """``item`` as a message with an id; left as it is when it is no message (unless strict)."""
    if isinstance(item, BaseMessage):
        return _stamp(item)
    try:
        message = convert_to_messages([item])[0]
    except Exception:
        if strict:
            raise
        return item
    if not message.id:
        message.id = uuid4_str()
    return message


def _list_item(item: Any) -> Any:
    return _as_message(item, strict=True) if _is_message_dict(item) else _as_message(item)


def _plain_list_item(item: Any) -> Any:
    return _as_message(item, strict=True) if _is_message_dict(item) else _stamp(item)


def _mapped(items: list[Any] | tuple[Any, ...], fn: Callable[[Any], Any]) -> Any:
    new = [fn(item) for item in items]
    if all(a is b for a, b in zip(new, items, strict=True)):
        return items  # unchanged: the caller's own list stays the write
    return new if isinstance(items, list) else tuple(new)


def _overwritten(value: Any) -> tuple[bool, Any]:
    if isinstance(value, Overwrite):
        return True, value.value
    if isinstance(value, dict) and len(value) == 1 and "__overwrite__" in value:
        return True, value["__overwrite__"]
    return False, None


def with_message_ids(value: Any, messages_reducer: bool) -> Any:
    """The write ``value`` with ids given to its messages (a new object when one was converted;
    message objects get their id in place)."""
    is_overwrite, inner = _overwritten(value)
    if is_overwrite:
        if not isinstance(inner, (list, tuple)):
            return value
        if not messages_reducer:
            for item in inner:
                _stamp(item)
            return value
        items = _mapped(inner, _as_message)
        return value if items is inner else Overwrite(items)
    if isinstance(value, list):
        return _mapped(value, _list_item if messages_reducer else _plain_list_item)
    if messages_reducer:
        return _as_message(value)
    if _is_message_dict(value) and not value.get("id"):
        return {**value, "id": uuid4_str()}
    return _stamp(value)
