"""How an allowed object encodes, by kind: the Ext codes, which kind a class is, the state read
from an instance, and how each kind is rebuilt from its record (used by ``_codec.Codec``)."""

from __future__ import annotations

import copy
import dataclasses
import enum
import operator
import re
import sys
import types
from collections.abc import Callable
from itertools import compress
from typing import Any, Final

from threadloom.errors import shown_value

EXT_STDLIB: Final = 1
EXT_ENUM: Final = 2
EXT_DATACLASS: Final = 3
EXT_NAMEDTUPLE: Final = 4
EXT_PYDANTIC: Final = 5
EXT_PYDANTIC_V1: Final = 6
EXT_SUBCLASS: Final = 7
EXT_OBJECT: Final = 8
EXT_NUMPY: Final = 9
EXT_MESSAGE: Final = 10
"""A langchain-core message, fields left out where they hold their default (``read_message``);
rebuilt without validation (``_rebuild_message``). Files written before it hold messages as
``EXT_PYDANTIC`` records, still read as such."""

_BUILTIN_BASES: Final = (str, bytes, int, float, list, dict, set, frozenset, tuple)
# Objects that are code or handles, never data: refused even when "allowed".
_NOT_DATA: Final = (
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.ModuleType,
    types.GeneratorType,
    types.CoroutineType,
    types.CodeType,
    types.FrameType,
)


class _Malformed(Exception):
    """A record's payload does not have the shape the encoder writes (corrupt or crafted)."""


def _kind_of(cls: type) -> int | None:
    """How instances of a (non-stdlib) class encode, or None if they cannot."""
    if cls is object or issubclass(cls, _NOT_DATA):
        return None
    if issubclass(cls, enum.Enum):
        return EXT_ENUM
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return EXT_NAMEDTUPLE
    if _is_message_class(cls):  # before the pydantic check: messages are pydantic models
        return EXT_MESSAGE
    # A class can only be a pydantic model if pydantic was imported; avoid importing it here.
    if "pydantic" in sys.modules and issubclass(cls, sys.modules["pydantic"].BaseModel):
        return EXT_PYDANTIC
    pydantic_v1 = sys.modules.get("pydantic.v1")
    if pydantic_v1 is not None and issubclass(cls, pydantic_v1.BaseModel):
        return EXT_PYDANTIC_V1
    if dataclasses.is_dataclass(cls):
        return EXT_DATACLASS
    numpy = sys.modules.get("numpy")
    if numpy is not None and issubclass(cls, numpy.ndarray | numpy.generic):
        return EXT_NUMPY
    if issubclass(cls, _BUILTIN_BASES):
        return EXT_SUBCLASS
    if hasattr(cls, "__dict__") or hasattr(cls, "__slots__"):
        return EXT_OBJECT
    return None


def _is_message_class(cls: type) -> bool:
    """Is ``cls`` one of langchain-core's own message classes (not a user's subclass, whose
    validators or private state the direct path would not know)?"""
    messages = sys.modules.get("langchain_core.messages")
    return (
        messages is not None
        and issubclass(cls, messages.BaseMessage)
        and cls.__module__.startswith("langchain_core.")
    )


_kind_cache: dict[type, int | None] = {}


def kind_of(cls: type) -> int | None:
    """Cached ``_kind_of``: a class's kind never changes."""
    try:
        return _kind_cache[cls]
    except KeyError:
        kind = _kind_cache[cls] = _kind_of(cls)
        return kind


def _find_slot_names(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__"):
                names.append(name)
    return tuple(names)


_slot_names_cache: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    """Cached ``_find_slot_names``: a class's slots are fixed once it is created (walking the
    MRO again for every ``Send`` of a wide fan-out was the encoder's largest cost)."""
    try:
        return _slot_names_cache[cls]
    except KeyError:
        names = _slot_names_cache[cls] = _find_slot_names(cls)
        return names


_ABSENT: Final = object()


def _object_state(obj: Any) -> dict[str, Any]:
    state = dict(getattr(obj, "__dict__", {}))
    for name in _slot_names(type(obj)):
        value = getattr(obj, name, _ABSENT)  # an unset slot is left out
        if value is not _ABSENT:
            state[name] = value
    return state


def _fields_of(obj: Any, kind: int) -> dict[str, Any]:
    """The named parts of an allowed object, as encoded (and walked when explaining errors)."""
    if kind == EXT_DATACLASS:
        return {
            f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if hasattr(obj, f.name)
        }
    if kind == EXT_NAMEDTUPLE:
        return obj._asdict()  # type: ignore[no-any-return]
    if kind in (EXT_PYDANTIC, EXT_MESSAGE):
        fields = {
            name: obj.__dict__[name] for name in type(obj).model_fields if name in obj.__dict__
        }
        return {**fields, **(obj.__pydantic_extra__ or {})}
    if kind == EXT_PYDANTIC_V1:
        return {name: getattr(obj, name) for name in type(obj).__fields__}
    if kind == EXT_OBJECT:
        return _object_state(obj)
    return {}


def payload_reader(cls: type, kind: int) -> Callable[[Any], list[Any]]:
    """``_payload`` for instances of one allowed class, chosen once per class. A class whose
    instances keep their state in slots only (``Send``, slotted records) gets a reader that
    walks its cached slot names directly: a wide ``Send`` fan-out encodes hundreds a step."""
    if kind == EXT_OBJECT and getattr(cls, "__dictoffset__", 1) == 0:
        names = _slot_names(cls)
        # one C call reads every slot (a name twice: a tuple even for one slot)
        read_all = operator.attrgetter(*names, names[0]) if names else None

        def read_slots(obj: Any) -> list[Any]:
            if read_all is not None:
                try:  # every slot set (a Send)
                    return [dict(zip(names, read_all(obj), strict=False))]
                except AttributeError:  # an unset slot is left out
                    pass
            state: dict[str, Any] = {}
            for name in names:
                value = getattr(obj, name, _ABSENT)
                if value is not _ABSENT:
                    state[name] = value
            return [state]

        return read_slots
    if kind == EXT_MESSAGE:
        return _message_reader(cls)
    return lambda obj: _payload(obj, kind)


_NO_DEFAULT: Final = object()


_message_defaults_cache: dict[type, tuple[tuple[str, Any], ...]] = {}


def _message_defaults(cls: Any) -> tuple[tuple[str, Any], ...]:
    """``(field, default)`` of each field of a message class, in order; ``_NO_DEFAULT`` for a
    required field (never left out). Made once per class."""
    found = _message_defaults_cache.get(cls)
    if found is None:
        pairs: list[tuple[str, Any]] = []
        for name, field in cls.model_fields.items():
            if field.is_required():
                default = _NO_DEFAULT
            elif field.default_factory is not None:
                try:
                    default = field.default_factory()
                except TypeError:  # a factory that takes the data: never left out
                    default = _NO_DEFAULT
            else:
                default = field.default
            pairs.append((name, default))
        found = _message_defaults_cache[cls] = tuple(pairs)
    return found


_message_fills_cache: dict[type, tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]] = {}
_IMMUTABLE_TYPES: Final = frozenset({str, bytes, int, float, bool, type(None)})


def _message_fills(cls: Any) -> tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]:
    """``_message_defaults`` with how to make each default's own copy, chosen once per class
    as ``copy.copy`` would choose it on every call: None for an immutable default (used as it
    is), ``dict.copy`` or ``list.copy`` for a plain dict or list (the empty ones of messages)."""
    found = _message_fills_cache.get(cls)
    if found is None:
        found = _message_fills_cache[cls] = tuple(
            (name, default, _copier(default)) for name, default in _message_defaults(cls)
        )
    return found


def _copier(default: Any) -> Callable[[Any], Any] | None:
    kind = type(default)
    if kind in _IMMUTABLE_TYPES or default is _NO_DEFAULT:
        return None
    if kind is dict or kind is list:
        return kind.copy
    return copy.copy


_PLAIN_TYPES: Final = frozenset({str, dict, list, type(None), bool, int, float})
"""Types whose ``!=`` with each other and with ``_NO_DEFAULT`` is a plain bool (and cheap
against an empty default), so ``read_message`` compares them all at once."""


def _is_plain_default(default: Any) -> bool:
    if default is _NO_DEFAULT or default is None or type(default) in (str, bool, int, float):
        return True
    return type(default) in (dict, list) and not default


def _message_reader(cls: Any) -> Callable[[Any], list[Any]]:
    """The payload of a message: ``[fields, sorted fields set]`` where ``fields`` leaves out
    each field holding its default (a value of the default's own type, equal to it), and holds
    the extra fields too. Read from the instance's ``__dict__`` directly (no ``model_dump``)."""
    defaults = _message_defaults(cls)
    names = tuple(name for name, _default in defaults)
    values_of_defaults = [default for _name, default in defaults]
    types_of_defaults = list(map(type, values_of_defaults))
    plain = all(map(_is_plain_default, values_of_defaults))
    plain_types = _PLAIN_TYPES
    is_not, ne, or_ = operator.is_not, operator.ne, operator.or_

    def read_message(obj: Any) -> list[Any]:
        state = obj.__dict__
        values = state.values()
        if plain and tuple(state) == names and plain_types.issuperset(map(type, values)):
            # every field set, of plain types: kept where its type or value differs, in C
            keep = map(
                or_,
                map(is_not, map(type, values), types_of_defaults),
                map(ne, values, values_of_defaults),
            )
            fields = dict(compress(state.items(), keep))
        else:
            fields = {}
            for name, default in defaults:
                if name in state:
                    value = state[name]
                    if type(value) is not type(default) or value != default:
                        fields[name] = value
        extra = obj.__pydantic_extra__
        if extra:
            fields.update(extra)
        return [fields, sorted(obj.__pydantic_fields_set__)]

    return read_message


def _payload(obj: Any, kind: int) -> list[Any]:
    """Ext payload (after module and qualname) of an allowed object."""
    if kind == EXT_ENUM:
        return [obj.value]
    if kind == EXT_NAMEDTUPLE:
        return [list(obj)]
    if kind == EXT_PYDANTIC:
        return [_fields_of(obj, kind), sorted(obj.model_fields_set)]
    if kind == EXT_SUBCLASS:
        base = next(b for b in type(obj).__mro__ if b in _BUILTIN_BASES)
        return [base(obj)]
    return [_fields_of(obj, kind)]


def _numpy_payload(obj: Any) -> list[Any]:
    import numpy as np

    array = np.asarray(obj)
    if array.dtype.hasobject:
        raise TypeError("numpy arrays of Python objects cannot be stored")
    return [array.dtype.str, list(array.shape), np.ascontiguousarray(array).tobytes()]


_NUMPY_DTYPE: Final = re.compile(r"[<>|=][?bBiufcmMSUV]\d{0,9}(\[\w{1,8}\])?")


def _numpy_value(payload: list[Any]) -> Any:
    import numpy as np

    if not (isinstance(payload, list) and len(payload) >= 3 and isinstance(payload[2], bytes)):
        raise _Malformed("a numpy record is not [dtype, shape, bytes]")
    # Only the simple dtype strings the encoder writes (``dtype.str``: "<f8", "|b1", "<M8[ns]"):
    # numpy parses other strings with ast.literal_eval, and "O" would unpickle.
    if not (isinstance(payload[0], str) and _NUMPY_DTYPE.fullmatch(payload[0])):
        raise _Malformed(f"refusing numpy dtype {shown_value(payload[0])}")
    dtype = np.dtype(payload[0])
    array = np.frombuffer(payload[2], dtype=dtype).reshape(payload[1]).copy()
    is_scalar = len(payload) > 3 and payload[3]
    return array[()] if is_scalar else array


def _set_attrs(obj: Any, state: dict[str, Any]) -> Any:
    for name, value in state.items():
        object.__setattr__(obj, name, value)
    return obj


def _rebuild_dataclass(cls: Any, fields: dict[str, Any]) -> Any:
    # Rebuilt without calling __init__/__post_init__: the fields are those of a valid instance.
    obj = _set_attrs(cls.__new__(cls), fields)
    for f in dataclasses.fields(cls):
        if f.name in fields:
            continue
        if f.default is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default)
        elif f.default_factory is not dataclasses.MISSING:
            object.__setattr__(obj, f.name, f.default_factory())
    return obj


def _rebuild_pydantic(cls: Any, fields: dict[str, Any], fields_set: list[str]) -> Any:
    try:
        obj = cls(**fields)  # validates: nested dicts of blocked models become models again
    except Exception:
        obj = cls.model_construct(**fields)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields_set))
    return obj


def _rebuild_message(cls: Any, fields: dict[str, Any], fields_set: list[str]) -> Any:
    """A message from its record, without validation: the record holds the fields of a valid
    instance, so validators would only redo what they did before it was saved. Built as
    pydantic's ``model_construct`` builds a model of a class like langchain-core's messages
    (no aliases, extras allowed, no private attributes, no post-init), with the defaults left
    out filled in here, each its own copy (``model_construct`` also inspects each default
    factory's signature, on every call)."""
    if (
        cls.__pydantic_post_init__ is not None
        or cls.__private_attributes__
        or cls.model_config.get("extra") != "allow"
    ):  # not one of today's message classes: pydantic's own way
        return cls.model_construct(set(fields_set), **fields)
    state: dict[str, Any] = {}
    for name, default, fresh in _message_fills(cls):
        if name in fields:
            state[name] = fields.pop(name)
        elif default is not _NO_DEFAULT:
            state[name] = default if fresh is None else fresh(default)
    message = cls.__new__(cls)
    object.__setattr__(message, "__dict__", state)
    object.__setattr__(message, "__pydantic_fields_set__", set(fields_set))
    object.__setattr__(message, "__pydantic_extra__", fields)  # what is left: the extras
    object.__setattr__(message, "__pydantic_private__", None)
    return message


def _rebuild_pydantic_v1(cls: Any, fields: dict[str, Any]) -> Any:
    try:
        return cls(**fields)
    except Exception:
        return cls.construct(**fields)


# Ext code → (class check, rebuild(cls, payload after module and qualname)).
_KINDS: Final[dict[int, tuple[Callable[[type], bool], Callable[[Any, list[Any]], Any]]]] = {
    EXT_ENUM: (lambda c: issubclass(c, enum.Enum), lambda cls, p: cls(p[0])),
    EXT_NAMEDTUPLE: (lambda c: kind_of(c) == EXT_NAMEDTUPLE, lambda cls, p: cls._make(p[0])),
    EXT_DATACLASS: (dataclasses.is_dataclass, lambda cls, p: _rebuild_dataclass(cls, p[0])),
    # A message class too: files written before EXT_MESSAGE hold messages as pydantic records.
    EXT_PYDANTIC: (
        lambda c: kind_of(c) in (EXT_PYDANTIC, EXT_MESSAGE),
        lambda cls, p: _rebuild_pydantic(cls, *p),
    ),
    EXT_MESSAGE: (lambda c: kind_of(c) == EXT_MESSAGE, lambda cls, p: _rebuild_message(cls, *p)),
    EXT_PYDANTIC_V1: (
        lambda c: kind_of(c) == EXT_PYDANTIC_V1,
        lambda cls, p: _rebuild_pydantic_v1(cls, p[0]),
    ),
    EXT_SUBCLASS: (lambda c: issubclass(c, _BUILTIN_BASES), lambda cls, p: cls(p[0])),
    EXT_OBJECT: (
        lambda c: kind_of(c) == EXT_OBJECT,
        lambda cls, p: _set_attrs(cls.__new__(cls), p[0]),
    ),
}


# Ext code → the types of the payload after module and qualname, as the encoder writes it.
_PAYLOAD_SHAPES: Final[dict[int, tuple[type, ...]]] = {
    EXT_ENUM: (object,),
    EXT_NAMEDTUPLE: (list,),
    EXT_DATACLASS: (dict,),
    EXT_PYDANTIC: (dict, list),
    EXT_MESSAGE: (dict, list),
    EXT_PYDANTIC_V1: (dict,),
    EXT_SUBCLASS: (object,),
    EXT_OBJECT: (dict,),
}
