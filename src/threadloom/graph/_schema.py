"""State schemas: which channel each key gets, how nodes see state, how their returns become writes.

A schema may be a TypedDict, a dataclass, a pydantic model, or any other type (one ``__root__``
channel). Annotated reducers become reducer channels; everything else keeps its last value.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, NotRequired, Required, get_args, get_origin, get_type_hints

from threadloom.channels.delta import DeltaChannel
from threadloom.constants import ROOT
from threadloom.engine._checks import reject_langgraph
from threadloom.engine.channels import MISSING, BinaryOperatorAggregate, Channel, LastValue
from threadloom.errors import ErrorCode, InvalidUpdateError, create_error_message
from threadloom.managed import managed_keys
from threadloom.types import Command

__all__ = [
    "SchemaInfo",
    "channels_for",
    "collect_types",
    "field_channel",
    "is_pydantic",
    "schema_info",
    "update_pairs",
]


def is_pydantic(schema: Any) -> bool:
    """Whether ``schema`` is a pydantic model class."""
    return isinstance(schema, type) and hasattr(schema, "model_fields")


def _type_hints(schema: Any) -> dict[str, Any]:
    try:
        return get_type_hints(schema, include_extras=True)
    except Exception:
        return dict(getattr(schema, "__annotations__", {}))


def has_keys(schema: Any) -> bool:
    """Whether ``schema`` is a class whose annotations name state keys."""
    return isinstance(schema, type) and bool(_type_hints(schema)) and schema is not type


@dataclasses.dataclass(slots=True, frozen=True)
class SchemaInfo:
    """How one schema maps onto channels."""

    schema: Any
    keys: tuple[str, ...]
    """State keys, or ``("__root__",)`` for a schema without annotations."""
    kind: str
    """``"dict"`` (TypedDict or plain mapping), ``"dataclass"``, ``"pydantic"`` or ``"root"``."""

    def build(self, values: Mapping[str, Any]) -> Any:
        """The node input for these values: a dict, or an instance of the schema class."""
        if self.kind == "root":
            return values.get(ROOT)
        if self.kind == "pydantic" or self.kind == "dataclass":
            return self.schema(**values)
        return dict(values)


def schema_info(schema: Any) -> SchemaInfo:
    """Keys and kind of a state schema."""
    if not has_keys(schema):
        return SchemaInfo(schema, (ROOT,), "root")
    keys = tuple(_type_hints(schema))
    if keys == (ROOT,):  # a TypedDict of one ``__root__`` key is its value, as in LangGraph
        return SchemaInfo(schema, keys, "root")
    if is_pydantic(schema):
        return SchemaInfo(schema, keys, "pydantic")
    if dataclasses.is_dataclass(schema):
        return SchemaInfo(schema, keys, "dataclass")
    return SchemaInfo(schema, keys, "dict")


def _strip_required(annotation: Any) -> Any:
    while get_origin(annotation) in (Required, NotRequired):
        annotation = get_args(annotation)[0]
    return annotation


def field_channel(annotation: Any) -> Channel | None:
    """The channel a field's ``Annotated`` metadata declares, anywhere in it
    (``Annotated[int, "doc", Topic(int)]``): an instance as given, a channel class made for the
    field's type (``Annotated[int, EphemeralValue]``: ``EphemeralValue(int)``); else None."""
    annotation = _strip_required(annotation)
    if get_origin(annotation) is not Annotated:
        return None
    base, *meta = get_args(annotation)
    base = _strip_required(base)
    for item in meta:
        if isinstance(item, DeltaChannel) and not item.typ_given:
            return item.for_type(base)  # Annotated[list[str], DeltaChannel(f)]: typ list[str]
        if isinstance(item, Channel):
            return item
        if isinstance(item, type) and issubclass(item, Channel):
            return item(base)
    return None


def _channel_for(key: str, annotation: Any) -> Channel:
    declared = field_channel(annotation)
    if declared is not None:
        channel: Channel = declared.from_checkpoint(MISSING)  # the annotation's own stays unused
        channel.key = key
        return channel
    annotation = _strip_required(annotation)
    if get_origin(annotation) is Annotated:
        base, *meta = get_args(annotation)
        base = _strip_required(base)
        last = meta[-1]
        if callable(last):
            if _positional_count(last) != 2:
                params = ", ".join(_param_names(last))
                raise ValueError(f"Invalid reducer signature. Expected (a, b) -> c. Got ({params})")
            return BinaryOperatorAggregate(base, last, key=key)
    return LastValue(annotation, key)


def _param_names(func: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return []


def _positional_count(func: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return 2
    return sum(
        1
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def _same_kind(a: Channel, b: Channel) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, BinaryOperatorAggregate) and isinstance(b, BinaryOperatorAggregate):
        names = (getattr(a.reducer, "__name__", None), getattr(b.reducer, "__name__", None))
        if "<lambda>" in names:
            return True
        return a.reducer == b.reducer
    return True


def channels_for(schemas: list[Any]) -> dict[str, Channel]:
    """Channels for every key of every schema, merged by name."""
    channels: dict[str, Channel] = {}
    for schema in schemas:
        if not has_keys(schema):  # a root schema: Annotated[list, add] keeps its reducer
            channels.setdefault(ROOT, _channel_for(ROOT, schema))
            continue
        managed = managed_keys(schema)  # computed per task, never a channel
        for key, annotation in _type_hints(schema).items():
            if key in managed:
                continue
            channel = _channel_for(key, annotation)
            existing = channels.get(key)
            if existing is None:
                channels[key] = channel
            elif not _same_kind(existing, channel):
                if isinstance(existing, LastValue):
                    channels[key] = channel
                elif not isinstance(channel, LastValue):
                    raise ValueError(f"Channel '{key}' already exists with a different type")
    return channels


# --- node output → state updates ---


def _object_updates(value: Any) -> list[tuple[str, Any]] | None:
    """Updates read from an instance of an annotated class (dataclass, pydantic, plain)."""
    cls = type(value)
    hints = _type_hints(cls) if isinstance(cls, type) else {}
    if not hints:
        return None
    pairs: list[tuple[str, Any]] = []
    explicitly_set: set[str] = set(getattr(value, "model_fields_set", ()) or ())
    defaults = _defaults(cls)
    for key in hints:
        if not hasattr(value, key):
            continue
        item = getattr(value, key)
        if item is None and key not in explicitly_set and defaults.get(key) is None:
            continue
        pairs.append((key, item))
    return pairs


def _defaults(cls: type) -> dict[str, Any]:
    if is_pydantic(cls):
        return {k: f.default for k, f in cls.model_fields.items()}  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(cls):
        return {
            f.name: f.default
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING
        }
    return {k: getattr(cls, k) for k in _type_hints(cls) if hasattr(cls, k)}


def update_pairs(value: Any, *, root: bool = False, pairs: bool = False) -> list[tuple[str, Any]]:
    """A node's (non-Command) return value as ``(key, value)`` pairs; raises on a bad shape.

    A list of ``(key, value)`` pairs is taken only with ``pairs`` (a ``Command.update``): as in
    LangGraph, a node's return, the graph's input and ``update_state`` values are dicts."""
    if value is None:
        return []
    if type(value) is not dict:  # (a plain dict, the common case, needs no check)
        reject_langgraph(value, "a node's return value")
    if root:
        return [(ROOT, value)]
    if isinstance(value, dict):
        return list(value.items())
    if pairs and isinstance(value, list | tuple) and value and all(_is_pair(p) for p in value):
        return list(value)
    found = _object_updates(value)
    if found is not None:
        return found
    for item in value if isinstance(value, list | tuple) else ():
        reject_langgraph(item, "an item of a node's return value")
    hint = ""
    if isinstance(value, list | tuple) and value and all(_is_pair(p) for p in value):
        hint = " (a list of (key, value) pairs updates the state only as Command(update=...))"
    raise InvalidUpdateError(
        create_error_message(
            message=f"Expected dict, got {value}{hint}",
            error_code=ErrorCode.INVALID_GRAPH_NODE_RETURN_VALUE,
        )
    )


def _is_pair(item: Any) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def command_update_pairs(command: Command[Any], *, root: bool = False) -> list[tuple[str, Any]]:
    """A Command's update as pairs (``Command.update`` accepts the same shapes as a return)."""
    return update_pairs(command.update, root=root, pairs=True)


# --- allow-list ---


def collect_types(*roots: Any) -> tuple[type, ...]:
    """Every dataclass, pydantic model and Enum reachable from the given type annotations."""
    import enum

    found: list[type] = []
    seen: set[int] = set()

    def walk(tp: Any) -> None:
        if id(tp) in seen:
            return
        seen.add(id(tp))
        origin = get_origin(tp)
        if origin is not None:
            for arg in get_args(tp):
                walk(arg)
            return
        supertype = getattr(tp, "__supertype__", None)  # NewType
        if supertype is not None:
            walk(supertype)
            return
        if not isinstance(tp, type):
            return
        if issubclass(tp, enum.Enum) or dataclasses.is_dataclass(tp) or is_pydantic(tp):
            found.append(tp)
        if dataclasses.is_dataclass(tp) or is_pydantic(tp) or typing.is_typeddict(tp):
            for hint in _type_hints(tp).values():
                walk(hint)

    for root in roots:
        if root is not None:
            walk(root)
    return tuple(found)
