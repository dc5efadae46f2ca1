"""``DeltaChannel``: a reducer channel whose reducer folds a whole batch of writes at once.

LangGraph 1.2's ``langgraph.channels.delta``. ``DeltaChannel(reducer, typ)`` calls
``reducer(state, [write, ...])`` once per step with every write of the step (the reducer must give
the same state whether writes come in one batch or several). LangGraph stores such a channel as
the writes that made it, replayed on read, with a snapshot every ``snapshot_frequency`` updates.
threadloom's savers already store a growing list as the part that was appended (see
docs/checkpoints.md), so this channel checkpoints its value and the saver keeps it small: the
values a graph sees, streams and returns are the same; the stored blobs are threadloom's.
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Callable, Sequence
from typing import Any

from threadloom.engine.channels import MISSING, _overwrite_value, _Valued
from threadloom.errors import ErrorCode, InvalidUpdateError, create_error_message

__all__ = ["DeltaChannel"]

_CONCRETE: dict[Any, type] = {
    collections.abc.Sequence: list,
    collections.abc.MutableSequence: list,
    collections.abc.Set: set,
    collections.abc.MutableSet: set,
    collections.abc.Mapping: dict,
    collections.abc.MutableMapping: dict,
}


def _concrete(typ: Any) -> Any:
    origin = getattr(typ, "__origin__", None) or typ
    return _CONCRETE.get(origin, origin)


class DeltaChannel(_Valued):
    """Folds each step's writes into the value with one ``reducer(state, writes)`` call;
    ``Overwrite(value)`` replaces the value instead (one per step)."""

    __slots__ = ("reducer", "snapshot_frequency")

    def __init__(
        self,
        reducer: Callable[[Any, Sequence[Any]], Any],
        typ: Any = None,
        *,
        snapshot_frequency: int = 100,
        key: str = "",
    ) -> None:
        if not isinstance(snapshot_frequency, int) or snapshot_frequency <= 0:
            raise ValueError(
                f"snapshot_frequency must be a positive int, got {snapshot_frequency!r}"
            )
        super().__init__(_concrete(list if typ is None else typ), key)
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency

    def of_type(self, typ: Any) -> DeltaChannel:
        """This channel for a state key annotated ``typ`` (``Annotated[dict, DeltaChannel(f)]``)."""
        return DeltaChannel(
            self.reducer, typ, snapshot_frequency=self.snapshot_frequency, key=self.key
        )

    def _empty(self) -> Any:
        return self.__class__(
            self.reducer, self.typ, snapshot_frequency=self.snapshot_frequency, key=self.key
        )

    def _start(self) -> Any:
        return self.typ()

    def from_checkpoint(self, checkpoint: Any) -> Any:
        channel = self._empty()
        channel.value = self._start() if checkpoint is MISSING else checkpoint
        return channel

    def copy(self) -> Any:
        channel = self._empty()
        channel.value = self.value if self.value is MISSING else copy.copy(self.value)
        return channel

    def replay_writes(self, writes: Sequence[tuple[str, str, Any]]) -> None:
        """Fold ``(task_id, channel, value)`` writes in, oldest first, in one reducer call (from
        the last ``Overwrite`` on)."""
        values = [value for _, _, value in writes]
        base, start = self.value, 0
        for index, value in enumerate(values):
            is_overwrite, replacement = _overwrite_value(value)
            if is_overwrite:
                base = self._start() if replacement is None else copy.copy(replacement)
                start = index + 1
        rest = values[start:]
        self.value = self.reducer(base, rest) if rest else base

    def update(self, values: Sequence[Any]) -> bool:
        if not values:
            return False
        overwrites = [r for is_ow, r in map(_overwrite_value, values) if is_ow]
        if len(overwrites) > 1:
            raise InvalidUpdateError(
                create_error_message(
                    message="Can receive only one Overwrite value per super-step.",
                    error_code=ErrorCode.INVALID_CONCURRENT_GRAPH_UPDATE,
                )
            )
        if overwrites:
            replacement = overwrites[0]
            self.value = self._start() if replacement is None else copy.copy(replacement)
            return True
        base = self._start() if self.value is MISSING else self.value
        self.value = self.reducer(base, list(values))
        return True
