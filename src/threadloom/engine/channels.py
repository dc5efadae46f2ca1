"""Channel kinds: how writes made in one superstep become the value read in the next.

A channel holds one value (or none). At the end of a superstep the engine hands each channel the
list of values written to it in that step, in task order; the channel says whether its value
changed, and the engine bumps its version if so. Channels never do I/O: their ``checkpoint()`` value
is what a saver stores, and ``from_checkpoint`` rebuilds a channel from it.

The classes are LangGraph's public channel API (``threadloom.channels`` re-exports them): the same
constructors (``LastValue(int)``, ``Topic(str, accumulate=True)``, ``BinaryOperatorAggregate(int,
operator.add)``), the same methods, and ``Channel`` is ``BaseChannel``, so a user's own channel
class runs on the engine as it does on LangGraph's. Every constructor also takes ``key=`` (the
name the engine gives the channel in a graph).

Which engine calls a channel needs is read from the class (``Channel.__init_subclass__``): only
channels that may change on a step without writes (``update(())``), when a task they triggered ran
(``consume``) or when the run would finish (``finish``) are called then, so a step costs
O(writes), not O(channels).
"""

from __future__ import annotations

import collections.abc
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

from threadloom._appended import publish, take_note
from threadloom.errors import (
    EmptyChannelError,
    ErrorCode,
    InvalidUpdateError,
    create_error_message,
)
from threadloom.types import Overwrite

__all__ = [
    "MISSING",
    "AnyValue",
    "BaseChannel",
    "BinaryOperatorAggregate",
    "Channel",
    "EphemeralValue",
    "LastValue",
    "LastValueAfterFinish",
    "NamedBarrierValue",
    "Topic",
    "UntrackedValue",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
"""A channel with no value; never stored."""


class Channel(ABC):
    """One state key or control slot of a graph (LangGraph's ``BaseChannel``).

    A subclass implements ``update``, ``get`` and ``from_checkpoint``; the rest has defaults
    written in terms of those. The built-in kinds keep their value in ``value`` (``MISSING`` when
    empty); a subclass may keep it anywhere, as the engine reads a channel through ``get``.
    """

    __slots__ = ("key", "typ", "value")

    clears_when_idle: ClassVar[bool] = True
    """``update(())`` may change the value: the engine calls it on steps without writes to it.
    True unless a class says otherwise, as LangGraph calls it on every channel every step."""
    consumes: ClassVar[bool] = False
    """The class overrides ``consume`` (set by ``__init_subclass__``)."""
    finishes: ClassVar[bool] = False
    """The class overrides ``finish`` (set by ``__init_subclass__``)."""
    stores_value: ClassVar[bool] = False
    """``checkpoint()`` is ``value`` (True only for built-in kinds, as ``holds_written``)."""
    holds_written: ClassVar[bool] = False
    """An ``update`` with at least one value always leaves the channel available (True only for
    built-in kinds, whose ``is_available`` the engine then need not ask after a write)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.consumes = cls.consume is not Channel.consume
        cls.finishes = cls.finish is not Channel.finish
        if "holds_written" not in cls.__dict__:  # a subclass may change is_available: it says
            cls.holds_written = False
        if "stores_value" not in cls.__dict__:  # (or checkpoint)
            cls.stores_value = False

    def __init__(self, typ: Any = Any, key: str = "") -> None:
        self.typ = typ
        self.key = key
        self.value: Any = MISSING

    @property
    def ValueType(self) -> Any:
        """The type of the value ``get`` returns."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type of one write."""
        return self.typ

    @abstractmethod
    def update(self, values: Sequence[Any]) -> bool:
        """Fold the writes of one step in; return whether the value changed."""

    @abstractmethod
    def from_checkpoint(self, checkpoint: Any) -> Any:
        """A new channel of this kind and configuration holding ``checkpoint`` (a value
        ``checkpoint()`` returned), or empty when it is ``MISSING``."""

    def get(self) -> Any:
        """The current value; raises ``EmptyChannelError`` when there is none."""
        if self.value is MISSING:
            raise EmptyChannelError(self.key)
        return self.value

    def is_available(self) -> bool:
        """Whether the channel holds a value."""
        try:
            self.get()
        except EmptyChannelError:
            return False
        return True

    def checkpoint(self) -> Any:
        """The value a saver stores, or ``MISSING`` to store nothing."""
        try:
            return self.get()
        except EmptyChannelError:
            return MISSING

    def copy(self) -> Any:
        """A copy, for trial applications of writes (conditional edges, previews)."""
        return self.from_checkpoint(self.checkpoint())

    def consume(self) -> bool:
        """Called when a task triggered by this channel ran; return whether the value changed."""
        return False

    def finish(self) -> bool:
        """Called when a run would otherwise finish; return whether the value changed."""
        return False


BaseChannel = Channel
"""LangGraph's name for the base class of channels."""


class _Valued(Channel):
    """A channel whose value is ``value``: cheap reads, copies and restores."""

    __slots__ = ()
    clears_when_idle = False

    def is_available(self) -> bool:
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        return self.value

    def _empty(self) -> Any:
        """A new empty channel of the same kind, configuration and key."""
        return self.__class__(self.typ, self.key)

    def from_checkpoint(self, checkpoint: Any) -> Any:
        cls = self.__class__
        if cls in _PLAIN_KINDS:  # a run restores every channel: no __init__ chain for these
            channel = _new(cls)
            channel.typ, channel.key, channel.value = self.typ, self.key, checkpoint
            if cls is EphemeralValue:
                channel.guard = self.guard  # type: ignore[attr-defined]
            return channel
        channel = self._empty()
        if checkpoint is not MISSING:
            channel.value = checkpoint
        return channel

    def copy(self) -> Any:
        return self.from_checkpoint(self.value)


def _one_value(channel: Channel, values: Sequence[Any], guard: bool, kind: str) -> bool:
    """The rule of the single-value kinds: no write keeps the value, two writes are refused."""
    if not values:
        return False
    if len(values) > 1 and guard:
        raise InvalidUpdateError(
            f"At key '{channel.key}': {kind} can receive only one value per step, got "
            f"{len(values)}. Use {kind}(..., guard=False) to keep the last of several values."
        )
    channel.value = values[-1]
    return True


class LastValue(_Valued):
    """Holds the last value written; more than one write in a step is an error."""

    __slots__ = ()
    stores_value = True
    holds_written = True

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        if len(values) > 1:
            raise InvalidUpdateError(
                create_error_message(
                    message=f"At key '{self.key}': Can receive only one value per step. "
                    "Use an Annotated key to handle multiple values.",
                    error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                )
            )
        self.value = values[-1]
        return True


class AnyValue(_Valued):
    """Holds the last value written in a step (every write assumed equal); emptied by a step
    without writes."""

    __slots__ = ()
    stores_value = True
    holds_written = True
    clears_when_idle = True

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self.value = values[-1]
        return True


class UntrackedValue(_Valued):
    """Holds the last value written, for the run only: never checkpointed."""

    __slots__ = ("guard",)
    holds_written = True

    def __init__(self, typ: Any = Any, guard: bool = True, *, key: str = "") -> None:
        super().__init__(typ, key)
        self.guard = guard

    def _empty(self) -> Any:
        return self.__class__(self.typ, self.guard, key=self.key)

    def checkpoint(self) -> Any:
        return MISSING

    def from_checkpoint(self, checkpoint: Any) -> Any:
        return self._empty()  # whatever was stored, an untracked value starts empty

    def copy(self) -> Any:
        channel = self._empty()
        channel.value = self.value
        return channel

    def update(self, values: Sequence[Any]) -> bool:
        return _one_value(self, values, self.guard, "UntrackedValue")


class LastValueAfterFinish(_Valued):
    """A deferred trigger: written values become visible only when the run would finish."""

    __slots__ = ("finished",)

    def __init__(self, typ: Any = Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.finished = False

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        self.value = values[-1]
        self.finished = False
        return True

    def is_available(self) -> bool:
        return self.finished and self.value is not MISSING

    def get(self) -> Any:
        if not self.is_available():
            raise EmptyChannelError(self.key)
        return self.value

    def checkpoint(self) -> Any:
        return MISSING if self.value is MISSING else (self.value, self.finished)

    def from_checkpoint(self, checkpoint: Any) -> Any:
        channel = self._empty()
        if checkpoint is not MISSING:
            channel.value, channel.finished = checkpoint
        return channel

    def copy(self) -> Any:
        return self.from_checkpoint(self.checkpoint())

    def consume(self) -> bool:
        if self.finished:
            self.value, self.finished = MISSING, False
            return True
        return False

    def finish(self) -> bool:
        if not self.finished and self.value is not MISSING:
            self.finished = True
            return True
        return False


_ABSTRACT_DEFAULTS: Final[dict[Any, type]] = {
    collections.abc.Sequence: list,
    collections.abc.MutableSequence: list,
    collections.abc.Set: set,
    collections.abc.MutableSet: set,
    collections.abc.Mapping: dict,
    collections.abc.MutableMapping: dict,
}


def _initial_value(typ: Any) -> Any:
    """``typ()`` for a type that can be built with no arguments, else ``MISSING``."""
    origin = getattr(typ, "__origin__", None) or typ
    origin = _ABSTRACT_DEFAULTS.get(origin, origin)
    try:
        return origin()
    except Exception:
        return MISSING


def _overwrite_value(value: Any) -> tuple[bool, Any]:
    if isinstance(value, Overwrite):
        return True, value.value
    if isinstance(value, dict):
        if len(value) == 1 and "__overwrite__" in value:
            return True, value["__overwrite__"]
        if value.get("type") == "__overwrite__" and set(value) == {"type", "value"}:
            return True, value["value"]
    return False, None


class BinaryOperatorAggregate(_Valued):
    """Folds every write into the value with ``operator(current, write)``.

    Starts from ``typ()`` when the type can be built without arguments (``0`` for ``int``, an
    empty list for ``list``). When a step only appended to a list value (``operator.add`` on two
    lists, or a reducer that says so, like ``add_messages``), the channel remembers the list it
    started from, and tells the saver when its value is checkpointed
    (``threadloom/_appended.py``): the saver then stores the tail without comparing the whole list.
    """

    __slots__ = ("appended", "reducer")
    holds_written = True

    def __init__(self, typ: Any, operator: Callable[[Any, Any], Any], *, key: str = "") -> None:
        super().__init__(typ, key)
        self.reducer = operator
        self.value = _initial_value(typ)
        self.appended: tuple[list[Any], int] | None = None
        """``(list, length)``: the value is that list's first ``length`` elements plus more."""

    @property
    def operator(self) -> Callable[[Any, Any], Any]:
        """The reducer (LangGraph's attribute name)."""
        return self.reducer

    def from_checkpoint(self, checkpoint: Any) -> Any:
        if checkpoint is MISSING:
            return self.__class__(self.typ, self.reducer, key=self.key)
        channel = self.__class__.__new__(self.__class__)  # no ``typ()`` call for a stored value
        channel.typ, channel.key, channel.reducer = self.typ, self.key, self.reducer
        channel.value, channel.appended = checkpoint, None
        return channel

    def checkpoint(self) -> Any:
        appended = self.appended
        if appended is not None:
            publish(self.value, *appended)
        return self.value

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        start = self.value
        if self.reducer is operator.add and type(start) is list and {*map(type, values)} == {list}:
            # list + list is associative: the step's appends in one pass, in write order, not
            # one new list per write (a 200-wide fan-out's results cost O(n) instead of O(n^2))
            joined = start.copy()
            for value in values:
                joined += value
            self.value, self.appended = joined, (start, len(start))
            return True
        appends = type(start) is list  # so far, the value is ``start`` plus appended elements
        overwritten = False
        for value in values:
            is_overwrite, replacement = _overwrite_value(value)
            if is_overwrite:
                if overwritten:
                    raise InvalidUpdateError("Can receive only one Overwrite value per super-step.")
                overwritten, appends = True, False
                self.value = replacement
            elif overwritten:
                continue  # writes after an Overwrite in the same step are ignored
            elif self.value is MISSING:
                self.value = value
                appends = False
            else:
                old = self.value
                self.value = new = self.reducer(old, value)
                if self.reducer is operator.add:
                    appends = appends and type(value) is list and type(new) is list
                else:
                    noted = take_note(new, old)  # always taken, so no note outlives its call
                    appends = appends and noted
        self.appended = (start, len(start)) if appends and self.value is not start else None
        return True


class EphemeralValue(_Valued):
    """Holds a value for the one step after it was written (triggers, raw input)."""

    __slots__ = ("guard",)
    stores_value = True
    holds_written = True
    clears_when_idle = True

    def __init__(self, typ: Any = Any, guard: bool = True, *, key: str = "") -> None:
        super().__init__(typ, key)
        self.guard = guard

    def _empty(self) -> Any:
        return self.__class__(self.typ, self.guard, key=self.key)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        return _one_value(self, values, self.guard, "EphemeralValue")


_new = object.__new__
_PLAIN_KINDS: frozenset[type] = frozenset({LastValue, AnyValue, EphemeralValue})
"""Kinds ``_Valued.from_checkpoint`` builds by setting their slots (``typ``, ``key``,
``value``, and an ``EphemeralValue``'s ``guard``): their ``__init__`` sets nothing else. A
subclass is not one of them, and goes through its own ``__init__``."""


class Topic(_Valued):
    """Collects every value written in a step, a written list giving its items (``Send``
    packets); emptied the step after unless ``accumulate`` keeps the values across steps."""

    __slots__ = ("accumulate",)
    clears_when_idle = True

    def __init__(self, typ: Any = Any, accumulate: bool = False, *, key: str = "") -> None:
        super().__init__(typ, key)
        self.accumulate = accumulate

    def _empty(self) -> Any:
        return self.__class__(self.typ, self.accumulate, key=self.key)

    @property
    def ValueType(self) -> Any:
        return collections.abc.Sequence[self.typ]  # type: ignore[name-defined]

    @property
    def UpdateType(self) -> Any:
        return self.typ | list[self.typ]  # type: ignore[name-defined]

    def get(self) -> Any:
        if not self.value:
            raise EmptyChannelError(self.key)
        return list(self.value)

    def is_available(self) -> bool:
        return bool(self.value)

    def checkpoint(self) -> Any:
        return list(self.value) if self.value else MISSING

    def from_checkpoint(self, checkpoint: Any) -> Any:
        if self.__class__ is Topic:  # a run restores every channel: no __init__ chain (a
            channel = _new(Topic)  # subclass goes through its own, _empty)
            channel.typ, channel.key, channel.accumulate = self.typ, self.key, self.accumulate
            channel.value = MISSING
        else:
            channel = self._empty()
        if checkpoint is not MISSING and checkpoint:
            # LangGraph < 0.2 stored ``(seen, values)``
            channel.value = list(checkpoint[1] if isinstance(checkpoint, tuple) else checkpoint)
        return channel

    def update(self, values: Sequence[Any]) -> bool:
        written: list[Any] = []
        for value in values:
            if isinstance(value, list):
                written.extend(value)
            else:
                written.append(value)
        if self.accumulate:
            if not written:
                return False
            self.value = [*(self.value or ()), *written]
            return True
        had = bool(self.value)
        self.value = written or MISSING
        return had or bool(written)


class NamedBarrierValue(_Valued):
    """A join: available once every named source has written, consumed when its node runs."""

    __slots__ = ("names",)

    def __init__(self, typ: Any, names: set[Any] | frozenset[Any], *, key: str = "") -> None:
        super().__init__(typ, key)
        self.names = frozenset(names)
        self.value = set()

    def _empty(self) -> Any:
        return self.__class__(self.typ, self.names, key=self.key)

    @property
    def seen(self) -> set[Any]:
        """The sources that have written since the node last ran (LangGraph's name)."""
        return self.value  # type: ignore[no-any-return]

    def from_checkpoint(self, checkpoint: Any) -> Any:
        channel = self._empty()
        if checkpoint is not MISSING:
            channel.value = set(checkpoint)
        return channel

    def get(self) -> Any:
        if not self.is_available():
            raise EmptyChannelError(self.key)
        return None

    def is_available(self) -> bool:
        return bool(self.names) and self.value == self.names

    def checkpoint(self) -> Any:
        return set(self.value) if self.value else MISSING

    def update(self, values: Sequence[Any]) -> bool:
        changed = False
        for name in values:
            if name not in self.names:
                raise InvalidUpdateError(
                    f"At key '{self.key}': value {name!r} is not one of the sources "
                    f"{sorted(map(str, self.names))!r} this barrier waits for."
                )
            if name not in self.value:
                self.value.add(name)
                changed = True
        return changed

    def consume(self) -> bool:
        if self.value == self.names:
            self.value = set()
            return True
        return False
