"""msgpack with typed extensions: which kinds of objects encode, and how each is rebuilt.

Plain data (str, numbers, bool, None, bytes, list, dict) is native msgpack. Everything else is
an Ext record whose code says how to rebuild it (``_kinds._KINDS``): standard-library values
from a fixed table, and allowed user classes by kind (enum, dataclass, named tuple, pydantic
model, builtin subclass, plain object). A record naming a class outside the allow-list is
refused on load, and such a value is refused on encode, with the path to it inside the value.
Exceptions encode as their ``repr`` (they are not data).

Whatever stored bytes hold, decoding raises only our errors: ``DisallowedTypeError`` for a type
that is not allowed, ``CorruptDataError`` with the byte offset and path for anything else (found
by ``_locate`` after the fast decoder failed). Nesting is bounded on both sides
(``MAX_OBJECT_DEPTH``), and strings with lone surrogates are kept by a lossless record.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from itertools import islice
from operator import is_
from typing import Any, Final

import ormsgpack

from threadloom.checkpoint.serde import _stdlib
from threadloom.checkpoint.serde._allowlist import Allowlist, as_plain_str, type_key
from threadloom.checkpoint.serde._arrays import join_arrays as join_arrays  # its old home
from threadloom.checkpoint.serde._kinds import (
    _KINDS,
    _PAYLOAD_SHAPES,
    EXT_DATACLASS,
    EXT_ENUM,
    EXT_MESSAGE,
    EXT_NAMEDTUPLE,
    EXT_NUMPY,
    EXT_OBJECT,
    EXT_PYDANTIC,
    EXT_PYDANTIC_V1,
    EXT_STDLIB,
    EXT_SUBCLASS,
    _fields_of,
    _Malformed,
    _numpy_payload,
    _numpy_value,
    kind_of,
    payload_reader,
)
from threadloom.checkpoint.serde._locate import joined_path, locate
from threadloom.errors import (
    CorruptDataError,
    DisallowedTypeError,
    UnserializableValueError,
    shown_value,
)
from threadloom.types import Send

__all__ = ["MAX_OBJECT_DEPTH", "Codec", "Memo"]

logger = logging.getLogger(__name__)

Memo = dict[int, tuple[Any, int, Any]]
"""Records already made during one save: ``id(obj) -> (obj, depth, ext record)``. A save that
encodes one object twice (a ``Send`` in its task's writes and in the checkpoint's pending
packets, a message in a write and in the state) encodes it once. Only for the length of one
save: its values cannot change while it runs."""
_LAST_SEND_LIST: Final = 0
"""The memo's key (no ``id``) of the last list ``_send_records`` went through: ``(the list,
depth, its records)``. A fan-out step's save packs the ``START`` task's writes, ending with its
``Send``s, then the checkpoint's tasks channel: those same ``Send``s, in that order."""


_PACK_OPTIONS: Final = (
    ormsgpack.OPT_NON_STR_KEYS
    | ormsgpack.OPT_PASSTHROUGH_BIG_INT
    | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_SUBCLASS  # a str/dict subclass keeps its type, or is refused
    | ormsgpack.OPT_PASSTHROUGH_TUPLE  # tuples come back as tuples
    | ormsgpack.OPT_PASSTHROUGH_UUID
)  # no OPT_REPLACE_SURROGATES: it turns "a\ud800" into "a?" silently; see _without_surrogates
_UNPACK_OPTIONS: Final = ormsgpack.OPT_NON_STR_KEYS

MAX_OBJECT_DEPTH: Final = 200
"""Extension records (tuples, sets, dataclasses, models, ...) nested inside one another, on
encode and decode alike. Each level is a nested ormsgpack call (a few Python frames), so this
keeps far from Python's recursion limit. Lists and dicts nest up to 255 levels between two
records (ormsgpack's own limit on encode)."""
_NATIVE_DEPTH: Final = 255
_EXPLAIN_DEPTH: Final = 300  # explain() stops searching this deep: each level re-packs a part
_EXT_NAMES: Final = {
    EXT_STDLIB: "stdlib",
    EXT_ENUM: "enum",
    EXT_DATACLASS: "dataclass",
    EXT_NAMEDTUPLE: "namedtuple",
    EXT_PYDANTIC: "pydantic",
    EXT_PYDANTIC_V1: "pydantic.v1",
    EXT_SUBCLASS: "subclass",
    EXT_OBJECT: "object",
    EXT_NUMPY: "numpy",
    EXT_MESSAGE: "message",
}

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
_FIX_DEEP: Final = (
    "Store it flatter (e.g. a list of nodes with parent ids instead of nested objects)"
)
_FIX_BIGINT: Final = (
    "Store it as str or bytes (n.to_bytes(...)), or raise the limit with "
    "sys.set_int_max_str_digits() in every process that reads and writes the data"
)
_FIX_DATA: Final = (
    "Keep only data in state: str, numbers, bool, None, bytes, lists, dicts, tuples, sets, "
    "datetimes, UUIDs, enums, dataclasses and pydantic models"
)


_warned: set[tuple[str, str]] = set()


def _warn_once(key: tuple[str, str], message: str, *args: Any) -> None:
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)


class _Refused(Exception):
    """Raised inside ``default`` (ormsgpack hides it; ``explain`` rediscovers the reason)."""


def _default_at(codec: Codec, depth: int, memo: Memo | None) -> Callable[[Any], Any]:
    """``default`` for ormsgpack, packing ``depth`` records deep with ``memo``."""

    def default(obj: Any) -> Any:
        return codec._default(obj, depth, memo)

    return default


class Codec:
    """Packs and unpacks values under one allow-list."""

    __slots__ = ("_allowed", "_headers", "allowlist")

    def __init__(self, allowlist: Allowlist) -> None:
        self.allowlist = allowlist
        self._allowed: set[type] = set()
        # Allowed classes encoded as an ext record → (ext code, module, qualname, payload
        # reader). Every check `_default` makes before the record is about the class only, so
        # it is made once per class, not once per object (a 200-wide ``Send`` fan-out encodes
        # 200 of them a step), and so is the choice of how to read an instance's state.
        self._headers: dict[type, tuple[int, str, str, Callable[[Any], list[Any]]]] = {
            # the engine's own record, always allowed, hundreds a step in a fan-out: its state
            # read without the generic slot walk, the same record byte for byte
            Send: (EXT_OBJECT, *_SEND_KEY, _send_payload),
        }

    # -- encode -------------------------------------------------------------------------------

    def _is_allowed(self, cls: type) -> bool:
        if cls in self._allowed:
            return True
        if self.allowlist.allows(cls):
            self._allowed.add(cls)
            return True
        return False

    def _default(self, obj: Any, depth: int, memo: Memo | None = None) -> Any:
        if memo is not None:  # met before in this save (a Send in its writes and the checkpoint)
            known = memo.get(id(obj))
            # the object itself is kept in the entry, so its id is not reused while it lives
            if known is not None and known[0] is obj and known[1] == depth:
                return known[2]
        if depth >= MAX_OBJECT_DEPTH:
            raise _Refused(obj)  # explain() names it: too deep
        cls = type(obj)
        header = self._headers.get(cls)
        if header is None:
            row = _stdlib.BY_TYPE.get(cls)
            if row is not None:
                return ormsgpack.Ext(EXT_STDLIB, self.pack([row.tag, row.to_args(obj)], depth + 1))
            if isinstance(obj, BaseException):
                return repr(obj)  # errors are stored as text, as LangGraph does
            if as_plain_str(cls):  # e.g. langchain-core's message.text
                return str.__str__(obj)
            kind = kind_of(cls)
            if kind == EXT_NUMPY:
                return ormsgpack.Ext(
                    EXT_NUMPY, self.pack([*_numpy_payload(obj), cls is not _ndarray()], depth + 1)
                )
            if kind is None or not self._is_allowed(cls):
                raise _Refused(cls)
            module, qualname = type_key(cls)
            header = self._headers[cls] = (kind, module, qualname, payload_reader(cls, kind))
        kind, module, qualname, read = header
        ext = ormsgpack.Ext(kind, self.pack([module, qualname, *read(obj)], depth + 1, memo))
        if memo is not None:
            memo[id(obj)] = (obj, depth, ext)
        return ext

    def _default_top(self, obj: Any) -> Any:
        """``default`` for a value packed on its own (depth 0, no memo)."""
        return self._default(obj, 0)

    def pack(self, value: Any, depth: int = 0, memo: Memo | None = None) -> bytes:
        """msgpack bytes of ``value`` (``depth`` records deep); TypeError when a part cannot be
        encoded. With a ``memo`` (``new_memo``), an object of an allowed class met again at the
        same depth reuses its record instead of being encoded again."""
        # (a value on its own, most calls: no closure and its cells made per call)
        default = (
            self._default_top if not depth and memo is None else _default_at(self, depth, memo)
        )
        items = value
        if type(value) is list and value and type(value[-1]) is Send and depth < MAX_OBJECT_DEPTH:
            items = self._send_records(value, depth, memo)  # (a step's packets, its writes)
        try:
            packed: bytes = ormsgpack.packb(items, default=default, option=_PACK_OPTIONS)
        except TypeError:
            tagged = self._without_surrogates(value, depth, 0)
            if tagged is value:
                raise
            packed = ormsgpack.packb(tagged, default=default, option=_PACK_OPTIONS)
        return packed

    def _send_records(self, items: list[Any], depth: int, memo: Memo | None) -> list[Any]:
        """``items`` with each ``Send`` replaced by the record ``_default`` makes of it, made
        here in one loop: a fan-out step's packets (its ``Send`` writes, its tasks channel)
        are hundreds of ``Send``s, and a ``default`` call from ormsgpack into ``_default``
        and a nested ``pack`` for each cost half as much again. A ``Send`` this cannot encode
        is left in place, for ``_default`` (and its error) to handle."""
        if memo is not None:  # the tail of the list this save made records of last?
            known = memo.get(_LAST_SEND_LIST)
            if known is not None and known[1] == depth:
                before, records = known[0], known[2]
                skip = len(before) - len(items)
                if skip >= 0 and all(map(is_, items, islice(before, skip, None))):
                    return records[skip:]  # type: ignore[no-any-return]  # (C speed)
        default = _default_at(self, depth + 1, memo)
        out = []
        for item in items:
            if type(item) is Send:
                known = memo.get(id(item)) if memo is not None else None
                if known is not None and known[0] is item and known[1] == depth:
                    item = known[2]
                else:
                    try:
                        state = {"arg": item.arg, "node": item.node, "timeout": item.timeout}
                        payload = ormsgpack.packb(state, default=default, option=_PACK_OPTIONS)
                    except Exception:  # a slot unset, a lone surrogate, a refused value
                        out.append(item)
                        continue
                    # msgpack concatenates: the bytes of packing [module, qualname, state]
                    ext = ormsgpack.Ext(EXT_OBJECT, _SEND_HEAD + payload)
                    if memo is not None:  # (as _default keeps it)
                        memo[id(item)] = (item, depth, ext)
                    item = ext
            out.append(item)
        if memo is not None:
            memo[_LAST_SEND_LIST] = (items, depth, out)
        return out

    def _without_surrogates(self, value: Any, depth: int, level: int) -> Any:
        """``value`` with each ``str`` holding lone surrogates replaced by a lossless record;
        ``value`` itself when it holds none. Only lists, dicts and strs are walked: every other
        type is encoded by its own ``pack`` call, which does this for its parts."""
        cls = type(value)
        if cls is str:
            try:
                value.encode()
            except UnicodeEncodeError:
                row = _stdlib.SURROGATE_STR
                return ormsgpack.Ext(EXT_STDLIB, self.pack([row.tag, row.to_args(value)], depth))
            return value
        if level >= _NATIVE_DEPTH or (cls is not list and cls is not dict):
            return value  # deeper than ormsgpack encodes anyway: leave it to report that
        if cls is list:
            items = [self._without_surrogates(item, depth, level + 1) for item in value]
            changed = any(new is not old for new, old in zip(items, value, strict=True))
            return items if changed else value
        values = {k: self._without_surrogates(v, depth, level + 1) for k, v in value.items()}
        changed = any(values[k] is not v for k, v in value.items())
        return values if changed else value

    def _packs(self, value: Any) -> bool:
        try:
            self.pack(value)
        except (TypeError, ValueError, RecursionError):
            return False
        return True

    def explain(self, value: Any, root: str) -> UnserializableValueError:
        """Find the innermost part of ``value`` that does not encode, and say why and how to fix.

        Runs only after a failed ``pack``; it re-packs parts, so it is slow but exact: it asks
        the same encoder that failed. A container that fails while all its parts encode is
        nested too deeply.
        """
        segments: list[str] = []
        bad = value
        descended = True
        while descended and len(segments) < _EXPLAIN_DEPTH:
            descended = False
            for suffix, child in self._children(bad):
                if suffix.startswith("<key "):
                    if not self._packs({child: None}):
                        return _bad_key(joined_path(root, [*segments, suffix]), child)
                elif not self._packs(child):
                    segments.append(suffix)
                    bad, descended = child, True
                    break
        path = joined_path(root, segments)
        cls = type(bad)
        kind = kind_of(cls)
        name = f"{cls.__module__}.{cls.__qualname__}"
        if cls is int:  # within 64 bits it is native: only a huge one fails
            return UnserializableValueError(
                path,
                bad,
                f"an int of {bad.bit_length()} bits is beyond Python's int-to-str conversion "
                f"limit ({sys.get_int_max_str_digits()} digits), which threadloom uses to store "
                "ints beyond 64 bits",
                _FIX_BIGINT,
            )
        if kind is None and cls not in _NATIVE and cls not in _stdlib.BY_TYPE:
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
        if descended or isinstance(bad, list | dict | tuple | set | frozenset) or kind is not None:
            return UnserializableValueError(
                path,
                bad,
                f"it nests too deeply: more than {_NATIVE_DEPTH} lists and dicts, or more than "
                f"{MAX_OBJECT_DEPTH} other objects (tuples, sets, dataclasses, models), inside "
                "one another",
                _FIX_DEEP,
            )
        return UnserializableValueError(path, bad, f"msgpack cannot encode this {name}", _FIX_DATA)

    def _children(self, obj: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(obj, dict):
            for key, item in obj.items():
                yield f"<key {shown_value(key, 40)}>", key
                yield f"[{shown_value(key, 40)}]", item
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

    def unpack(self, data: bytes, root: str = "value") -> Any:
        """The value ``pack`` encoded; refuses records naming types that are not allowed.

        Any failure on the way is ours: ``DisallowedTypeError`` for a type that is not allowed,
        ``CorruptDataError`` with the byte offset and path for anything else (the offset is
        found only after a failure, so decoding valid bytes costs nothing extra).
        """
        entered = depth = 0
        failure: tuple[int, Exception] | None = None

        def ext_hook(code: int, raw: bytes) -> Any:
            nonlocal entered, depth, failure
            number, entered, depth = entered, entered + 1, depth + 1
            try:
                if depth > MAX_OBJECT_DEPTH:
                    raise _Malformed(f"more than {MAX_OBJECT_DEPTH} objects nest")
                return self._rebuild(code, raw, ext_hook)
            except Exception as exc:
                if failure is None:  # the innermost record that failed: the cause
                    failure = (number, exc)
                raise  # ormsgpack replaces it with "ext_hook failed"
            finally:
                depth -= 1

        try:
            return ormsgpack.unpackb(data, ext_hook=ext_hook, option=_UNPACK_OPTIONS)
        except MemoryError:
            raise
        except Exception as exc:
            cause = exc if failure is None else failure[1]
            if isinstance(cause, DisallowedTypeError):
                raise cause from None
            fault = locate(
                data,
                root=root,
                ext_index=None if failure is None else failure[0],
                ext_names=_EXT_NAMES,
                max_ext_depth=MAX_OBJECT_DEPTH,
            )
            reason = fault.reason if fault is not None and fault.reason else _reason(cause)
            offset, path = (fault.offset, fault.path) if fault is not None else (None, None)
            raise CorruptDataError(reason, offset, path) from cause

    def _rebuild(self, code: int, raw: bytes, ext_hook: Callable[[int, bytes], Any]) -> Any:
        if code not in _EXT_NAMES:
            raise _Malformed(f"unknown extension code {code!r}")
        payload = ormsgpack.unpackb(raw, ext_hook=ext_hook, option=_UNPACK_OPTIONS)
        if code == EXT_STDLIB:
            if not (isinstance(payload, list) and len(payload) == 2):
                raise _Malformed("a standard-library record is not [tag, arguments]")
            tag, args = payload
            row = _stdlib.BY_TAG.get(tag) if isinstance(tag, str) else None
            if row is None:
                raise _Malformed(f"unknown standard-library tag {shown_value(tag)}")
            return row.from_args(args)
        if code == EXT_NUMPY:
            return _numpy_value(payload)
        if not (isinstance(payload, list) and len(payload) >= 2):
            raise _Malformed(f"the {_EXT_NAMES[code]} record does not start with its type's name")
        module, qualname, *rest = payload
        if not (isinstance(module, str) and isinstance(qualname, str)):
            raise _Malformed(f"the {_EXT_NAMES[code]} record names its type with non-strings")
        key = (module, qualname)
        try:
            cls = self.allowlist.resolve(key)  # refuses a name that is not allowed, first
        except Exception as exc:  # an allowed class that moved or was removed: keep the data
            _warn_once(key, "cannot load %s.%s (%s); keeping its raw data", *key, exc)
            return rest[0] if rest else None
        if cls is None:
            raise DisallowedTypeError(*key)
        shape = _PAYLOAD_SHAPES[code]
        if len(rest) != len(shape) or not all(map(isinstance, rest, shape)):
            raise _Malformed(f"the {_EXT_NAMES[code]} record of {module}.{qualname} is misshapen")
        check, rebuild = _KINDS[code]
        if not check(cls):
            raise _Malformed(
                f"the data says {module}.{qualname} is a kind of object it is not "
                f"(a {_EXT_NAMES[code]})"
            )
        try:
            return rebuild(cls, rest)
        except Exception as exc:  # the class changed shape since the data was written
            _warn_once(key, "cannot rebuild %s.%s (%s); keeping its raw data", *key, exc)
            return rest[0]


_SEND_KEY: Final = type_key(Send)
_read_send: Final = payload_reader(Send, EXT_OBJECT)


_SEND_HEAD: Final = b"\x93" + ormsgpack.packb(_SEND_KEY[0]) + ormsgpack.packb(_SEND_KEY[1])
"""A ``Send`` record's payload up to its state: a 3-item array, its module, its qualname."""


def _send_payload(send: Send) -> list[Any]:
    """A ``Send``'s state as ``payload_reader`` reads it (its slots in slot order)."""
    try:
        return [{"arg": send.arg, "node": send.node, "timeout": send.timeout}]
    except AttributeError:  # rebuilt from a record without every slot: the set ones
        return _read_send(send)


def _reason(exc: BaseException) -> str:
    """What went wrong, from the exception that stopped decoding, kept short."""
    text = str(exc) if isinstance(exc, _Malformed) else f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:197] + "..."


def _bad_key(path: str, key: Any) -> UnserializableValueError:
    if isinstance(key, str):  # the only str a key cannot be: one UTF-8 cannot encode
        return UnserializableValueError(
            path,
            key,
            "a dict key holding a lone surrogate (a str UTF-8 cannot encode) cannot be stored",
            "Fix the text (e.g. key.encode('utf-8', 'replace').decode()), or keep such "
            "strings as values, which are stored losslessly",
        )
    return UnserializableValueError(path, key, _KEY_REASON, _FIX_KEY)


def _ndarray() -> type:
    import numpy as np

    return np.ndarray
