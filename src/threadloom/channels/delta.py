"""``DeltaChannel``: a reducer channel whose reducer folds a whole step's writes in one call.

LangGraph's ``langgraph.channels.delta`` (beta there). The reducer has the shape
``reducer(state, [write, ...]) -> new_state`` and must not depend on how writes are batched:
``reducer(reducer(s, xs), ys) == reducer(s, xs + ys)``. Use it as a state key::

    class State(TypedDict):
        items: Annotated[list[str], DeltaChannel(lambda state, writes: state + writes)]

``Overwrite(value)`` (or ``{"__overwrite__": value}``) replaces the value, as for any reducer key.

Storage differs from LangGraph's, observably only in the stored checkpoint: LangGraph keeps the
channel out of ``channel_values`` and rebuilds it from the writes of ancestor checkpoints
(``BaseCheckpointSaver.get_delta_channel_history``), with a full snapshot every
``snapshot_frequency`` updates. threadloom's savers already store a list value as the elements
appended since the parent checkpoint (``threadloom/checkpoint/_delta.py``), so the channel hands
the saver its value like any other channel, and reads never walk ancestors. ``replay_writes`` and
``get_delta_channel_history`` exist for code written against LangGraph's contract.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from threadloom.channels._message_ids import with_message_ids
from threadloom.channels._messages_delta import messages_delta_reducer
from threadloom.engine.channels import (
    MISSING,
    _initial_value,
    _overwrite_value,
    _Valued,
)
from threadloom.errors import InvalidUpdateError

__all__ = ["DeltaChannel"]


def _same_reducer(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    # Lambdas in two copies of one schema are different objects; their names are what can match.
    if a is b or a == b:
        return True
    name_a, name_b = getattr(a, "__qualname__", None), getattr(b, "__qualname__", None)
    return (
        name_a is not None
        and name_a == name_b
        and getattr(a, "__module__", None) == getattr(b, "__module__", None)
    )


class DeltaChannel(_Valued):
    """A reducer channel folding each step's writes with one ``reducer(state, writes)`` call.

    ``typ`` is the value type; inside ``Annotated[T, DeltaChannel(...)]`` it is taken from ``T``
    when not given. The value starts as ``typ()`` (an empty list, dict, ...).
    ``snapshot_frequency`` (a positive int, default 100) is kept for LangGraph compatibility:
    threadloom's savers store every checkpoint's value incrementally, so it changes no behaviour.
    """

    __slots__ = ("reducer", "snapshot_frequency", "typ_given")

    def __init__(
        self,
        reducer: Callable[[Any, Sequence[Any]], Any],
        typ: Any = None,
        *,
        snapshot_frequency: int = 100,
        key: str = "",
    ) -> None:
        if (
            isinstance(snapshot_frequency, bool)
            or not isinstance(snapshot_frequency, int)
            or snapshot_frequency <= 0
        ):
            raise ValueError(
                f"snapshot_frequency must be a positive int, got {snapshot_frequency!r}: "
                "pass snapshot_frequency=1 or more (the default is 100)."
            )
        self.typ_given = typ is not None
        super().__init__(list if typ is None else typ, key)
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeltaChannel):
            return False
        return self.snapshot_frequency == other.snapshot_frequency and _same_reducer(
            self.reducer, other.reducer
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by configuration

    def for_type(self, typ: Any) -> DeltaChannel:
        """This channel's configuration with value type ``typ`` (an ``Annotated`` key's type)."""
        return DeltaChannel(
            self.reducer, typ, snapshot_frequency=self.snapshot_frequency, key=self.key
        )

    def _empty(self) -> Any:
        channel = DeltaChannel.__new__(self.__class__)
        channel.typ, channel.key, channel.reducer = self.typ, self.key, self.reducer
        channel.snapshot_frequency, channel.typ_given = self.snapshot_frequency, self.typ_given
        channel.value = MISSING
        return channel

    def _start(self) -> Any:
        """The value of a channel with no history: ``typ()``."""
        value = _initial_value(self.typ)
        return None if value is MISSING else value

    def from_checkpoint(self, checkpoint: Any) -> Any:
        channel = self._empty()
        channel.value = self._start() if checkpoint is MISSING else checkpoint
        return channel

    def copy(self) -> Any:
        channel = self._empty()
        channel.value = self.value if self.value is MISSING else copy.copy(self.value)
        return channel

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        values = self._with_message_ids(values)
        replacement: Any = MISSING
        for value in values:
            is_overwrite, new = _overwrite_value(value)
            if is_overwrite:
                if replacement is not MISSING:
                    raise InvalidUpdateError("Can receive only one Overwrite value per super-step.")
                replacement = self._start() if new is None else copy.copy(new)
        if replacement is not MISSING:
            self.value = replacement  # the step's other writes are dropped, as LangGraph does
            return True
        base = self._start() if self.value is MISSING else self.value
        self.value = self.reducer(base, list(values))
        return True

    def _with_message_ids(self, values: Sequence[Any]) -> Sequence[Any]:
        messages_reducer = self.reducer is messages_delta_reducer
        return [with_message_ids(value, messages_reducer) for value in values]

    def replay_writes(self, writes: Sequence[tuple[str, str, Any]]) -> None:
        """Fold stored writes ``(task_id, channel, value)``, oldest first, into the value with
        one reducer call; the last ``Overwrite`` among them restarts from its value."""
        values = [value for _, _, value in writes]
        base, start = self.value, 0
        for at, value in enumerate(values):
            is_overwrite, new = _overwrite_value(value)
            if is_overwrite:
                base, start = (self._start() if new is None else copy.copy(new)), at + 1
        rest = values[start:]
        if base is MISSING and rest:
            base = self._start()
        self.value = self.reducer(base, rest) if rest else base
