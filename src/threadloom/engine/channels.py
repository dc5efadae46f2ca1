"""Channel kinds: how writes made in one superstep become the value read in the next.

A channel holds one value (or none). At the end of a superstep the engine hands each channel the
list of values written to it in that step, in task order; the channel says whether its value
changed, and the engine bumps its version if so. Channels never do I/O: their ``checkpoint()`` value
is what a saver stores, and ``restore`` rebuilds a channel from it.
"""

from __future__ import annotations

import collections.abc
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Final

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
    "BinaryOperatorAggregate",
    "Channel",
    "EphemeralValue",
    "LastValue",
    "LastValueAfterFinish",
    "NamedBarrierValue",
    "Topic",
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
    """One state key or control slot of a graph."""

    __slots__ = ("key", "value")

    def __init__(self, key: str = "") -> None:
        self.key = key
        self.value: Any = MISSING

    @abstractmethod
    def update(self, values: Sequence[Any]) -> bool:
        """Fold the writes of one step in; return whether the value changed."""

    @abstractmethod
    def fresh(self) -> Channel:
        """A new empty channel of the same kind and configuration."""

    def get(self) -> Any:
        """The current value; raises ``EmptyChannelError`` when there is none."""
        if self.value is MISSING:
            raise EmptyChannelError(self.key)
        return self.value

    def is_available(self) -> bool:
        """Whether the channel holds a value."""
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """The value a saver stores, or ``MISSING`` to store nothing."""
        return self.value

    def restore(self, stored: Any) -> Channel:
        """A new channel of this kind holding ``stored`` (a ``checkpoint()`` value)."""
        channel = self.fresh()
        if stored is not MISSING:
            channel.value = stored
        return channel

    def copy(self) -> Channel:
        """A shallow copy, for trial applications of writes (conditional edges, previews)."""
        return self.restore(self.value)

    def consume(self) -> bool:
        """Called when a task triggered by this channel ran; return whether the value changed."""
        return False

    def finish(self) -> bool:
        """Called when a run would otherwise finish; return whether the value changed."""
        return False


class LastValue(Channel):
    """Holds the last value written; more than one write in a step is an error."""

    __slots__ = ()

    def fresh(self) -> LastValue:
        return LastValue(self.key)

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


class LastValueAfterFinish(Channel):
    """A deferred trigger: written values become visible only when the run would finish."""

    __slots__ = ("finished",)

    def __init__(self, key: str = "") -> None:
        super().__init__(key)
        self.finished = False

    def fresh(self) -> LastValueAfterFinish:
        return LastValueAfterFinish(self.key)

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

    def restore(self, stored: Any) -> Channel:
        channel = LastValueAfterFinish(self.key)
        if stored is not MISSING:
            channel.value, channel.finished = stored
        return channel

    def copy(self) -> Channel:
        channel = LastValueAfterFinish(self.key)
        channel.value, channel.finished = self.value, self.finished
        return channel

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


class BinaryOperatorAggregate(Channel):
    """Folds every write into the value with ``reducer(current, write)``.

    When a step only appended to a list value (``operator.add`` on two lists, or a reducer that
    says so, like ``add_messages``), the channel remembers the list it started from, and tells
    the saver when its value is checkpointed (``threadloom/_appended.py``): the saver then
    stores the tail without comparing the whole list.
    """

    __slots__ = ("appended", "reducer", "typ")

    def __init__(self, key: str, typ: Any, reducer: Callable[[Any, Any], Any]) -> None:
        super().__init__(key)
        self.typ = typ
        self.reducer = reducer
        self.value = _initial_value(typ)
        self.appended: tuple[list[Any], int] | None = None
        """``(list, length)``: the value is that list's first ``length`` elements plus more."""

    def fresh(self) -> BinaryOperatorAggregate:
        return BinaryOperatorAggregate(self.key, self.typ, self.reducer)

    def restore(self, stored: Any) -> Channel:
        if stored is MISSING:
            return self.fresh()
        channel = BinaryOperatorAggregate.__new__(BinaryOperatorAggregate)
        channel.key, channel.typ, channel.reducer = self.key, self.typ, self.reducer
        channel.value, channel.appended = stored, None
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


class EphemeralValue(Channel):
    """Holds a value for the one step after it was written (triggers, raw input)."""

    __slots__ = ("guard",)

    def __init__(self, key: str = "", guard: bool = True) -> None:
        super().__init__(key)
        self.guard = guard

    def fresh(self) -> EphemeralValue:
        return EphemeralValue(self.key, self.guard)

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            if self.value is MISSING:
                return False
            self.value = MISSING
            return True
        if len(values) > 1 and self.guard:
            raise InvalidUpdateError(
                f"At key '{self.key}': EphemeralValue can receive only one value per step."
            )
        self.value = values[-1]
        return True


class Topic(Channel):
    """Collects every value written in a step (``Send`` packets); emptied the step after."""

    __slots__ = ()

    def fresh(self) -> Topic:
        return Topic(self.key)

    def get(self) -> Any:
        if not self.value:
            raise EmptyChannelError(self.key)
        return self.value

    def is_available(self) -> bool:
        return bool(self.value)

    def checkpoint(self) -> Any:
        return list(self.value) if self.value else MISSING

    def restore(self, stored: Any) -> Channel:
        channel = Topic(self.key)
        channel.value = list(stored) if stored is not MISSING else MISSING
        return channel

    def update(self, values: Sequence[Any]) -> bool:
        had = bool(self.value)
        collected: list[Any] = []
        for value in values:
            if isinstance(value, list):
                collected.extend(value)
            else:
                collected.append(value)
        self.value = collected or MISSING
        return had or bool(collected)


class NamedBarrierValue(Channel):
    """A join: available once every named source has written, consumed when its node runs."""

    __slots__ = ("names",)

    def __init__(self, key: str, names: frozenset[str]) -> None:
        super().__init__(key)
        self.names = names
        self.value = set()

    def fresh(self) -> NamedBarrierValue:
        return NamedBarrierValue(self.key, self.names)

    def restore(self, stored: Any) -> Channel:
        channel = NamedBarrierValue(self.key, self.names)
        channel.value = set(stored) if stored is not MISSING else set()
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
                raise InvalidUpdateError(f"At key '{self.key}': value {name!r} is not a source")
            if name not in self.value:
                self.value.add(name)
                changed = True
        return changed

    def consume(self) -> bool:
        if self.value == self.names:
            self.value = set()
            return True
        return False
