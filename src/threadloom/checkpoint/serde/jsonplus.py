"""``JsonPlusSerializer``: tagged msgpack bytes, strict about what it rebuilds.

Tags: ``"null"`` (None), ``"bytes"``, ``"bytearray"`` and ``"msgpack"`` for everything else;
``"json"`` is read (plain JSON, nothing revived) but never written. There is no pickle and no
fallback format: a value that does not encode raises ``UnserializableValueError`` with the path
to the bad part. Which types are rebuilt is the allow-list's business (``_allowlist``); how they
are encoded is the codec's (``_codec``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from typing import Any

from threadloom.checkpoint.serde._allowlist import Allowlist, TypeKey
from threadloom.checkpoint.serde._arrays import join_arrays
from threadloom.checkpoint.serde._codec import Codec, Memo
from threadloom.checkpoint.serde._legacy_json import revive
from threadloom.errors import CorruptDataError, SerializationError, shown_value

__all__ = ["JsonPlusSerializer"]


class JsonPlusSerializer:
    """The default serializer of every threadloom saver.

    ``allowed_msgpack_modules``: ``None`` (default, strict) rebuilds only the standard-library
    value types, LangChain messages and documents, and threadloom's own types; an iterable of
    classes or ``(module, name)`` tuples adds those; ``True`` rebuilds any named type (unsafe
    with untrusted data, opt-in). ``pickle_fallback=True`` is refused: threadloom never pickles.
    Legacy JSON's LangChain constructor records of the safe types (messages, documents,
    ``Interrupt``...) are rebuilt, as in LangGraph; ``allowed_json_modules`` (``True`` or path
    prefixes such as ``("myapp", "state")``) also rebuilds the records of those paths whose class
    is on the allow-list. No other record is rebuilt.
    """

    reports_paths = True
    """``dumps_typed`` takes ``root=`` so errors name the path from the state (see base)."""

    _memo: Memo | None = None
    """Set on the serializer of one save only (``sharing_encodings``)."""

    def __init__(
        self,
        *,
        pickle_fallback: bool = False,
        allowed_json_modules: Iterable[TypeKey] | bool | None = None,
        allowed_msgpack_modules: Iterable[type | TypeKey] | bool | None = None,
    ) -> None:
        if pickle_fallback:
            raise ValueError(
                "pickle_fallback=True is not supported: threadloom never unpickles stored data. "
                "Store plain data, or allow your types with allowed_msgpack_modules=[...]."
            )
        self.pickle_fallback = False
        self.allowed_json_modules = allowed_json_modules
        self._codec = Codec(
            allowed_msgpack_modules
            if isinstance(allowed_msgpack_modules, Allowlist)
            else Allowlist(allowed_msgpack_modules)
        )

    @property
    def allowlist(self) -> Allowlist:
        """What this serializer rebuilds besides the standard-library value types."""
        return self._codec.allowlist

    def with_allowlist(self, extra: Iterable[type | TypeKey] | bool | None) -> JsonPlusSerializer:
        """A copy that also rebuilds ``extra`` (of the same class, so a subclass's overrides
        and attributes are kept); ``self`` when nothing is added."""
        widened = self.allowlist.widened(extra)
        if widened is self.allowlist:
            return self
        clone = copy.copy(self)
        clone._codec = Codec(widened)
        if clone._memo is not None:  # a copy of one save's serializer starts afresh
            clone._memo = None
        return clone

    with_msgpack_allowlist = with_allowlist
    """LangGraph's name for ``with_allowlist``."""

    def sharing_encodings(self) -> JsonPlusSerializer:
        """This serializer for the length of one save: an object it meets twice (a ``Send`` in
        a task's writes and again in the checkpoint's pending packets) is encoded once, to the
        same bytes. Drop it when the save is done (it keeps what it encoded alive)."""
        if type(self) is JsonPlusSerializer:  # one per saved step: skip copy's generic protocol
            clone = JsonPlusSerializer.__new__(JsonPlusSerializer)
            clone.__dict__.update(self.__dict__)
        else:  # a subclass may keep state in slots
            clone = copy.copy(self)
        clone._memo = {}
        return clone

    def dumps_typed(self, obj: Any, *, root: str = "value") -> tuple[str, bytes]:
        """``(tag, bytes)`` of ``obj``; ``root`` names it in the error if a part fails."""
        if obj is None:
            return "null", b""
        cls = type(obj)
        if cls is bytes:
            return "bytes", obj
        if cls is bytearray:
            return "bytearray", bytes(obj)
        try:
            return "msgpack", self._codec.pack(obj, 0, self._memo)
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._codec.explain(obj, root) from exc

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """The value ``dumps_typed`` encoded; refuses types that are not allowed."""
        tag, raw = data
        if tag == "null":
            return None
        if tag == "bytes":
            return raw
        if tag == "bytearray":
            return bytearray(raw)
        if tag == "msgpack":
            return self._codec.unpack(raw)
        if tag == "json":
            try:
                value = json.loads(raw)
            except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8
                raise CorruptDataError(
                    f"legacy JSON does not parse: {shown_value(str(exc))}",
                    getattr(exc, "pos", None),
                ) from exc
            return revive(value, self.allowlist, self.allowed_json_modules or ())
        if tag == "pickle":
            raise SerializationError(
                "refusing to load pickled data: threadloom never unpickles (it can run "
                "arbitrary code). Re-save the value with JsonPlusSerializer."
            )
        raise NotImplementedError(f"Unknown serialization type: {tag}")

    def join_msgpack_arrays(self, parts: Sequence[bytes]) -> bytes | None:
        """One msgpack array holding the elements of the arrays ``parts`` (bytes from this
        serializer's ``"msgpack"`` tag), in order; None if a part is not an array."""
        return join_arrays(parts)

    def dumps(self, obj: Any) -> bytes:
        """Untyped msgpack bytes (for callers that keep no tag)."""
        return self._codec.pack(obj)

    def loads(self, data: bytes) -> Any:
        """Inverse of ``dumps``."""
        return self._codec.unpack(data)
