"""Dicts whose values are decoded when first read, for checkpoints read but rarely looked into.

A history walk reads every checkpoint of a thread, but its reader mostly looks at metadata, ids,
``next`` and ``tasks``. ``LazyDict`` is a real ``dict`` (``isinstance``, equality with dicts, json,
``**`` unpacking all work) whose storage is filled on the first access that needs the values;
until then it holds nothing. Every method that reads storage fills first, including the ones C
code reaches for: ``dict(x)``, ``{**x}`` and ``f(**x)`` go through ``keys()`` and ``[]`` because
``__iter__`` is overridden, ``json.dumps`` calls ``items()`` on a dict subclass, and ``copy`` and
``pickle`` use ``__reduce_ex__``, which hands out a plain ``dict``. Until it is filled, the
storage holds one private placeholder key, so C code that looks at the storage's size first
(``json``'s encoder answers ``{}`` for an empty dict without calling ``items()``) sees a dict that
is not empty and asks for its items.

``LazyChannelValues`` is the saver's ``checkpoint["channel_values"]``: one loader per channel, so
reading one channel (the engine reads the ``Send`` packets and trigger channels to compute
``next``) decodes that channel only, and ``in`` and ``len`` decode nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["ABSENT", "LazyChannelValues", "LazyDict"]

_UNSET: Any = object()

ABSENT: Any = object()
"""What a channel loader returns when the value is gone after all (damaged storage, a thread
deleted while its listing was read): the channel is then left out, as an eager read would."""


class _Unloaded:
    """The placeholder key an unfilled ``LazyDict`` holds (never seen by Python code)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<values not decoded yet>"


_UNLOADED: Any = _Unloaded()


class LazyDict(dict[str, Any]):
    """A ``dict`` filled from ``load()`` on its first read (see the module docstring)."""

    __slots__ = ("_load",)

    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        dict.__setitem__(self, _UNLOADED, None)
        self._load: Callable[[], dict[str, Any]] | None = load

    def _fill(self) -> None:
        load = self._load
        if load is not None:
            values = load()  # if decoding raises, the next read tries again
            self._load = None
            dict.clear(self)
            dict.update(self, values)

    @property
    def is_loaded(self) -> bool:
        """Have the values been decoded yet?"""
        return self._load is None

    # -- reads: fill, then behave as a dict ---------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self._fill()
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        self._fill()
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def __iter__(self) -> Iterator[str]:
        self._fill()
        return dict.__iter__(self)

    def __reversed__(self) -> Iterator[str]:
        self._fill()
        return dict.__reversed__(self)

    def keys(self) -> Any:
        self._fill()
        return dict.keys(self)

    def values(self) -> Any:
        self._fill()
        return dict.values(self)

    def items(self) -> Any:
        self._fill()
        return dict.items(self)

    def __eq__(self, other: object) -> bool:
        self._fill()
        if isinstance(other, LazyDict):
            other._fill()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)

    def __or__(self, other: Any) -> Any:
        self._fill()
        return dict(self).__or__(other)

    def __ror__(self, other: Any) -> Any:
        self._fill()
        return dict(self).__ror__(other)

    def copy(self) -> dict[str, Any]:
        self._fill()
        return dict(dict.items(self))

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (dict, (self.copy(),))

    def __sizeof__(self) -> int:
        self._fill()
        return dict.__sizeof__(self)

    # -- writes: fill first so the values written are not overwritten by the load -----------

    def __setitem__(self, key: str, value: Any) -> None:
        self._fill()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self._fill()
        dict.__delitem__(self, key)

    def __ior__(self, other: Any) -> Any:
        self._fill()
        dict.update(self, other)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._fill()
        dict.update(self, *args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._fill()
        return dict.setdefault(self, key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self._fill()
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Any]:
        self._fill()
        return dict.popitem(self)

    def clear(self) -> None:
        self._load = None
        dict.clear(self)  # the placeholder too


class LazyChannelValues(LazyDict):
    """A checkpoint's channel values, each decoded by its own loader when first read.

    ``loaders`` is in channel order and holds only channels that have a value: ``in`` and
    ``len`` are answered from it without decoding anything (a loader that finds its value gone,
    returning ``ABSENT``, only happens with damaged storage).
    """

    __slots__ = ("_decoded", "_loaders")

    def __init__(self, loaders: dict[str, Callable[[], Any]]) -> None:
        super().__init__(self._load_all)
        self._loaders = loaders
        self._decoded: dict[str, Any] = {}

    def _load_all(self) -> dict[str, Any]:
        decoded = self._decoded
        values = {k: decoded[k] if k in decoded else load() for k, load in self._loaders.items()}
        return {k: v for k, v in values.items() if v is not ABSENT}

    def _one(self, key: str) -> Any:
        """One channel's value, decoded once (``_UNSET`` when it has none)."""
        found = self._decoded.get(key, _UNSET)
        if found is _UNSET:
            load = self._loaders.get(key)
            if load is None:
                return _UNSET
            found = self._decoded[key] = load()
        return _UNSET if found is ABSENT else found

    def __getitem__(self, key: str) -> Any:
        if self._load is None:
            return dict.__getitem__(self, key)
        found = self._one(key)
        if found is _UNSET:
            raise KeyError(key)
        return found

    def get(self, key: str, default: Any = None) -> Any:
        if self._load is None:
            return dict.get(self, key, default)
        found = self._one(key)
        return default if found is _UNSET else found

    def __contains__(self, key: object) -> bool:
        if self._load is None:
            return dict.__contains__(self, key)
        return key in self._loaders

    def __len__(self) -> int:
        if self._load is None:
            return dict.__len__(self)
        return len(self._loaders)
