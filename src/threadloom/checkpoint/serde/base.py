"""What a serializer is: typed bytes out, the same value back; and the cipher a wrapper uses.

Savers store ``(tag, bytes)`` pairs and never look inside them. ``dumps_channel`` is the one
place that names the channel when a value cannot be encoded, so error messages point into the
state (``state['messages'][3]...``) whichever serializer is configured.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "CipherProtocol",
    "SerializerCompat",
    "SerializerProtocol",
    "UntypedSerializerProtocol",
    "dumps_at",
    "dumps_channel",
    "maybe_add_typed_methods",
    "shared_encodings",
]


@runtime_checkable
class UntypedSerializerProtocol(Protocol):
    """A serializer without type tags (``dumps``/``loads``); wrapped by ``SerializerCompat``."""

    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


@runtime_checkable
class SerializerProtocol(Protocol):
    """Turns a value into ``(tag, bytes)`` and back; the tag says how the bytes decode."""

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]: ...

    def loads_typed(self, data: tuple[str, bytes]) -> Any: ...


class CipherProtocol(Protocol):
    """Encrypts bytes for ``EncryptedSerializer``; the name goes into the type tag."""

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]: ...

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes: ...


class SerializerCompat:
    """Adapts an untyped serializer: the tag is the value's type name, ignored on load."""

    def __init__(self, serde: UntypedSerializerProtocol) -> None:
        self.serde = serde

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return type(obj).__name__, self.serde.dumps(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        return self.serde.loads(data[1])


def maybe_add_typed_methods(serde: Any) -> SerializerProtocol:
    """``serde`` itself if it has ``dumps_typed``, else wrapped in ``SerializerCompat``."""
    if isinstance(serde, SerializerProtocol):
        return serde
    if isinstance(serde, UntypedSerializerProtocol):
        return SerializerCompat(serde)
    raise TypeError(
        f"serde={serde!r} is not a serializer: give an object with dumps_typed/loads_typed "
        "(or dumps/loads), e.g. JsonPlusSerializer()."
    )


def shared_encodings(serde: SerializerProtocol) -> SerializerProtocol:
    """The serializer for one save that encodes a task's writes and a checkpoint together: an
    object met in both is encoded once (``JsonPlusSerializer.sharing_encodings``). Any other
    serializer is returned as it is."""
    share = getattr(serde, "sharing_encodings", None)
    return serde if share is None else share()


def dumps_channel(serde: SerializerProtocol, channel: str, value: Any) -> tuple[str, bytes]:
    """Encode one channel's value; a failure names the path from ``state[channel]`` down."""
    return dumps_at(serde, f"state[{channel!r}]", value)


def dumps_at(serde: SerializerProtocol, root: str, value: Any) -> tuple[str, bytes]:
    """Encode ``value``; a failure names the path inside it starting from ``root``.

    Serializers that report paths take a keyword ``root`` (``JsonPlusSerializer`` and
    ``EncryptedSerializer`` do, marked by ``reports_paths = True``); any other serializer's
    error is raised as it is (its type is the caller's to catch, as in LangGraph), with a note
    naming ``root``. A subclass overriding ``dumps_typed(obj)`` without ``root`` is called
    without it.
    """
    if getattr(serde, "reports_paths", False) and _takes_root(type(serde).dumps_typed):
        return serde.dumps_typed(value, root=root)  # type: ignore[call-arg]
    try:
        return serde.dumps_typed(value)
    except Exception as exc:  # the user's serializer's own error, kept as it is (as LangGraph)
        exc.add_note(f"while {type(serde).__name__} serialized {root}")
        raise


@cache
def _takes_root(dumps_typed: Any) -> bool:
    """Does this ``dumps_typed`` function take the keyword ``root``?"""
    try:
        parameters = inspect.signature(dumps_typed).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "root" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
