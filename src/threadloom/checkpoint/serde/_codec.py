"""msgpack with typed extensions: which kinds of objects encode, and how each is rebuilt.

Plain data (str, numbers, bool, None, bytes, list, dict) is native msgpack. Everything else is
an Ext record whose code says how to rebuild it (the table ``_KINDS``): standard-library values
from a fixed table, and allowed user classes by kind (enum, dataclass, named tuple, pydantic
model, builtin subclass, plain object). A record naming a class outside the allow-list is
refused on load, and such a value is refused on encode, with the path to it inside the value.
Exceptions encode as their ``repr`` (they are not data).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

import ormsgpack

from threadloom.checkpoint.serde import _stdlib
from threadloom.checkpoint.serde._allowlist import Allowlist, as_plain_str, type_key
from threadloom.errors import DisallowedTypeError, SerializationError, UnserializableValueError

__all__ = ["Codec", "join_arrays"]

logger = logging.getLogger(__name__)

EXT_STDLIB: Final = 1
EXT_ENUM: Final = 2
EXT_DATACLASS: Final = 3
EXT_NAMEDTUPLE: Final = 4
EXT_PYDANTIC: Final = 5
EXT_PYDANTIC_V1: Final = 6
EXT_SUBCLASS: Final = 7
EXT_OBJECT: Final = 8
EXT_NUMPY: Final = 9

_PACK_OPTIONS: Final = (
    ormsgpack.OPT_NON_STR_KEYS
    | ormsgpack.OPT_PASSTHROUGH_BIG_INT
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_SUBCLASS  # a str/dict subclass keeps its type, or is refused
    | ormsgpack.OPT_PASSTHROUGH_TUPLE  # tuples come back as tuples
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_REPLACE_SURROGATES
)
_UNPACK_OPTIONS: Final = ormsgpack.OPT_NON_STR_KEYS

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
_FIX_ALLOW: Final = (
    "Allow the type: JsonPlusSerializer(allowed_msgpack_modules=[{name}]) or "
    "saver.with_allowlist([{name}]) (graphs allow the types of their state schema "
    "automatically), or store plain data instead"
)
_NATIVE: Final = (str, bytes, int, float, bool, list, dict, type(None))
_KEY_REASON: Final = (
    "dict keys must be str, int (within 64 bits), float, bool, None, bytes, or tuples of those"
)
_FIX_KEY: Final = "Use a plain key (e.g. str(key)), or a list of (key, value) pairs"
_FIX_DATA: Final = (
    "Keep only data in state: str, numbers, bool, None, bytes, lists, dicts, tuples, sets, "
    "datetimes, UUIDs, enums, dataclasses and pydantic models"
)


def _kind_of(cls: type) -> int | None:
    """How instances of a (non-stdlib) class encode, or None if they cannot."""
    if cls is object or issubclass(cls, _NOT_DATA):
        return None
    if issubclass(cls, enum.Enum):
        return EXT_ENUM
    if issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return EXT_NAMEDTUPLE
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


_kind_cache: dict[type, int | None] = {}


def kind_of(cls: type) -> int | None:
    """Cached ``_kind_of``: a class's kind never changes."""
    try:
        return _kind_cache[cls]
    except KeyError:
        kind = _kind_cache[cls] = _kind_of(cls)
        return kind


def _slot_names(cls: type) -> Iterator[str]:
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__"):
                yield name


def _object_state(obj: Any) -> dict[str, Any]:
    state = dict(getattr(obj, "__dict__", {}))
    for name in _slot_names(type(obj)):
        if hasattr(obj, name):
            state[name] = getattr(obj, name)
    return state


def _fields_of(obj: Any, kind: int) -> dict[str, Any]:
    """The named parts of an allowed object, as encoded (and walked when explaining errors)."""
    if kind == EXT_DATACLASS:
        return {
            f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if hasattr(obj, f.name)
        }
    if kind == EXT_NAMEDTUPLE:
        return obj._asdict()  # type: ignore[no-any-return]
    if kind == EXT_PYDANTIC:
        fields = {
            name: obj.__dict__[name] for name in type(obj).model_fields if name in obj.__dict__
        }
        return {**fields, **(obj.__pydantic_extra__ or {})}
    if kind == EXT_PYDANTIC_V1:
        return {name: getattr(obj, name) for name in type(obj).__fields__}
    if kind == EXT_OBJECT:
        return _object_state(obj)
    return {}


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


def _numpy_value(payload: list[Any]) -> Any:
    import numpy as np

    dtype = np.dtype(payload[0])
    if dtype.hasobject:  # would unpickle; never produced by the encoder
        raise SerializationError(f"refusing numpy dtype {payload[0]!r}: it holds Python objects")
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
    EXT_PYDANTIC: (lambda c: kind_of(c) == EXT_PYDANTIC, lambda cls, p: _rebuild_pydantic(cls, *p)),
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

_warned: set[tuple[str, str]] = set()


def _warn_once(key: tuple[str, str], message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


class _Refused(Exception):
    """Raised inside ``default`` (ormsgpack hides it; ``explain`` rediscovers the reason)."""


class Codec:
    """Packs and unpacks values under one allow-list."""

    __slots__ = ("_allowed", "allowlist")

    def __init__(self, allowlist: Allowlist) -> None:
        self.allowlist = allowlist
        self._allowed: set[type] = set()

    # -- encode -------------------------------------------------------------------------------

    def _is_allowed(self, cls: type) -> bool:
        if cls in self._allowed:
            return True
        if self.allowlist.allows(cls):
            self._allowed.add(cls)
            return True
        return False

    def _default(self, obj: Any) -> Any:
        cls = type(obj)
        row = _stdlib.BY_TYPE.get(cls)
        if row is not None:
            return ormsgpack.Ext(EXT_STDLIB, self.pack([row.tag, row.to_args(obj)]))
        if isinstance(obj, BaseException):
            return repr(obj)  # errors are stored as text, as LangGraph does
        if as_plain_str(cls):  # e.g. langchain-core's message.text
            return str.__str__(obj)
        kind = kind_of(cls)
        if kind == EXT_NUMPY:
            return ormsgpack.Ext(
                EXT_NUMPY, self.pack([*_numpy_payload(obj), cls is not _ndarray()])
            )
        if kind is None or not self._is_allowed(cls):
            raise _Refused(cls)
        module, qualname = type_key(cls)
        return ormsgpack.Ext(kind, self.pack([module, qualname, *_payload(obj, kind)]))

    def pack(self, value: Any) -> bytes:
        """msgpack bytes of ``value``; TypeError when a part cannot be encoded."""
        packed: bytes = ormsgpack.packb(value, default=self._default, option=_PACK_OPTIONS)
        return packed

    def _packs(self, value: Any) -> bool:
        try:
            self.pack(value)
        except (TypeError, ValueError):
            return False
        return True

    def explain(self, value: Any, root: str) -> UnserializableValueError:
        """Find the innermost part of ``value`` that does not encode, and say why and how to fix.

        Runs only after a failed ``pack``; it re-packs parts, so it is slow but exact: it asks
        the same encoder that failed.
        """
        path, bad = root, value
        descended = True
        while descended:
            descended = False
            for suffix, child in self._children(bad):
                if suffix.startswith("<key "):
                    if not self._packs({child: None}):
                        return UnserializableValueError(path + suffix, child, _KEY_REASON, _FIX_KEY)
                elif not self._packs(child):
                    path, bad, descended = path + suffix, child, True
                    break
        cls = type(bad)
        kind = kind_of(cls)
        name = f"{cls.__module__}.{cls.__qualname__}"
        if kind is None:
            return UnserializableValueError(
                path, bad, f"values of type {name} are code or handles, not data", _FIX_DATA
            )
        if kind == EXT_NUMPY:
            return UnserializableValueError(
                path, bad, "numpy arrays of Python objects cannot be stored", _FIX_DATA
            )
        if not self._is_allowed(cls) and cls not in _stdlib.BY_TYPE and cls not in _NATIVE:
            return UnserializableValueError(
                path,
                bad,
                f"its type {name} is not on the serializer's allow-list",
                _FIX_ALLOW.format(name=cls.__qualname__),
            )
        return UnserializableValueError(path, bad, f"msgpack cannot encode this {name}", _FIX_DATA)

    def _children(self, obj: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(obj, dict):
            for key, item in obj.items():
                yield f"<key {key!r}>", key
                yield f"[{key!r}]", item
        elif isinstance(obj, list | tuple):
            for index, item in enumerate(obj):
                yield f"[{index}]", item
        elif isinstance(obj, set | frozenset) or type(obj) in _stdlib.BY_TYPE:
            if hasattr(obj, "__iter__") and not isinstance(obj, str | bytes | bytearray):
                for index, item in enumerate(obj):
                    yield f"<item {index}>", item
        else:
            kind = kind_of(type(obj))
            if kind in (EXT_ENUM, EXT_SUBCLASS, None, EXT_NUMPY):
                return
            if not self._is_allowed(type(obj)):
                return
            for name, item in _fields_of(obj, kind).items():
                yield f".{name}", item

    # -- decode -------------------------------------------------------------------------------

    def unpack(self, data: bytes) -> Any:
        """The value ``pack`` encoded; refuses records naming types that are not allowed."""
        failures: list[Exception] = []

        def ext_hook(code: int, raw: bytes) -> Any:
            try:
                payload = ormsgpack.unpackb(raw, ext_hook=ext_hook, option=_UNPACK_OPTIONS)
                return self._rebuild(code, payload)
            except Exception as exc:
                failures.append(exc)  # ormsgpack replaces it with "ext_hook failed"
                raise

        try:
            return ormsgpack.unpackb(data, ext_hook=ext_hook, option=_UNPACK_OPTIONS)
        except (TypeError, ValueError) as exc:
            if failures:
                raise failures[0] from None
            raise SerializationError(f"stored msgpack bytes are corrupt: {exc}") from exc

    def _rebuild(self, code: int, payload: list[Any]) -> Any:
        if code == EXT_STDLIB:
            row = _stdlib.BY_TAG.get(payload[0])
            if row is None:
                raise SerializationError(f"unknown standard-library tag {payload[0]!r} in data")
            return row.from_args(payload[1])
        if code == EXT_NUMPY:
            return _numpy_value(payload)
        if code not in _KINDS:
            raise SerializationError(
                f"unknown msgpack extension code {code!r}: the data was not written by "
                "threadloom's JsonPlusSerializer"
            )
        module, qualname, *rest = payload
        key = (str(module), str(qualname))
        try:
            cls = self.allowlist.resolve(key)
        except Exception as exc:  # an allowed class that moved or was removed: keep the data
            _warn_once(key, "cannot load %s.%s (%s); keeping its raw data", *key, exc)
            return rest[0]
        if cls is None:
            raise DisallowedTypeError(*key)
        check, rebuild = _KINDS[code]
        if not check(cls):
            raise SerializationError(
                f"stored data says {module}.{qualname} is a kind of object it is not "
                f"(extension {code}); the data does not match this class"
            )
        try:
            return rebuild(cls, rest)
        except Exception as exc:  # the class changed shape since the data was written
            _warn_once(key, "cannot rebuild %s.%s (%s); keeping its raw data", *key, exc)
            return rest[0]


def _ndarray() -> type:
    import numpy as np

    return np.ndarray


def _array_header(data: bytes) -> tuple[int, int] | None:
    """``(element count, header size)`` of msgpack array bytes, or None if not an array."""
    if not data:
        return None
    first = data[0]
    if 0x90 <= first <= 0x9F:
        return first & 0x0F, 1
    if first == 0xDC and len(data) >= 3:
        return int.from_bytes(data[1:3], "big"), 3
    if first == 0xDD and len(data) >= 5:
        return int.from_bytes(data[1:5], "big"), 5
    return None


def join_arrays(parts: Sequence[bytes]) -> bytes | None:
    """Concatenate msgpack arrays: one header for the total count, then every element's bytes.

    msgpack elements are self-delimiting, so the bodies can be joined as they are.
    """
    total = 0
    bodies = []
    for part in parts:
        header = _array_header(part)
        if header is None:
            return None
        count, size = header
        total += count
        bodies.append(memoryview(part)[size:])
    if total < 16:
        head = bytes([0x90 | total])
    elif total < 1 << 16:
        head = b"\xdc" + total.to_bytes(2, "big")
    elif total < 1 << 32:
        head = b"\xdd" + total.to_bytes(4, "big")
    else:
        return None
    return b"".join([head, *bodies])
