"""Which stream chunks a run's events become: one table from event to (mode, payload shape).

The run says what happened (a step's values changed, a task ended, a checkpoint was made) as an
*event*; ``PROJECTION`` says, for each event, which stream modes show it and how each mode shapes
its payload. A run asks its ``Projection`` (the table cut down to the modes the caller streams)
whether an event is wanted before building the payload, so unstreamed modes cost nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from threadloom.constants import INTERRUPT, RETURN
from threadloom.engine import stream
from threadloom.engine.effects import Effect, Emit
from threadloom.engine.plan import Plan

__all__ = ["PROJECTION", "EventKind", "InterruptEvent", "Projection", "task_update"]

EventKind = Literal[
    "values",  # the stream keys' values after a step (or at a resume or replay)
    "update",  # a task finished with writes
    "cached_update",  # a task's saved writes were reused on resume
    "interrupt",  # tasks of the step raised interrupts
    "breakpoint",  # a static breakpoint (interrupt_before / interrupt_after) stopped the run
    "checkpoint",  # a step starts from this checkpoint
    "task_start",
    "task_end",
    "custom",  # a node called its stream writer
    "token",  # a chat model produced a token (or a message)
    "tool",  # a tool call started, finished or failed
]

Shape = Callable[[Any, int], Any]
"""``shape(payload, step)``: the chunk a mode shows for an event's payload."""


@dataclass(frozen=True, slots=True)
class InterruptEvent:
    """Payload of an ``interrupt`` event."""

    interrupts: tuple[Any, ...]
    values: Any
    """The stream keys' values when the step stopped."""


def _same(payload: Any, _step: int) -> Any:
    return payload


def _debug(kind: str) -> Shape:
    return lambda payload, step: stream.debug(kind, step, payload)


def _interrupt_values(event: InterruptEvent, _step: int) -> Any:
    if isinstance(event.values, dict):
        return {**event.values, INTERRUPT: event.interrupts}
    return {INTERRUPT: event.interrupts}


PROJECTION: Final[Mapping[EventKind, tuple[tuple[str, Shape], ...]]] = {
    "values": (("values", _same),),
    "update": (("updates", _same),),
    "cached_update": (("updates", _same),),
    "interrupt": (
        ("updates", lambda e, _: {INTERRUPT: e.interrupts}),
        ("values", _interrupt_values),
    ),
    "breakpoint": (("updates", lambda _e, _s: {INTERRUPT: ()}),),
    "checkpoint": (("checkpoints", _same), ("debug", _debug("checkpoint"))),
    "task_start": (("tasks", _same), ("debug", _debug("task"))),
    "task_end": (("tasks", _same), ("debug", _debug("task_result"))),
    "custom": (("custom", _same),),
    "token": (("messages", _same),),
    "tool": (("tools", _same),),
}
"""Event → the modes that show it, in the order their chunks are streamed, and their shapes."""


_MADE: dict[frozenset[str], Projection] = {}
"""The projection of each set of modes met so far (a projection never changes once made)."""
_MADE_KEPT: Final = 64


class Projection:
    """``PROJECTION`` cut down to the modes one run streams (``Projection.of(modes)``: shared
    by the runs streaming the same modes)."""

    __slots__ = ("live", "routes", "wants")

    def __init__(self, modes: frozenset[str]) -> None:
        routes: dict[EventKind, tuple[tuple[str, Shape], ...]] = {}
        for event, route in PROJECTION.items():
            kept = tuple((mode, shape) for mode, shape in route if mode in modes)
            if kept:
                routes[event] = kept
        self.routes: Mapping[EventKind, tuple[tuple[str, Shape], ...]] = routes
        # the dict's own lookup: a run asks several times a step, without a Python call
        self.wants: Callable[[EventKind], bool] = routes.__contains__
        """Whether some streamed mode shows an event (build its payload only then)."""
        self.live = "custom" in routes or "token" in routes or "tool" in routes
        """Chunks may come from inside a running task (so a lone task still needs a worker)."""

    @staticmethod
    def of(modes: frozenset[str]) -> Projection:
        """The projection for ``modes``, made once (a few mode sets recur: every run has one)."""
        made = _MADE.get(modes)
        if made is None:
            made = Projection(modes)
            if len(_MADE) < _MADE_KEPT:
                _MADE[modes] = made
        return made

    def chunks(self, event: EventKind, payload: Any, step: int = 0) -> list[Effect]:
        """The chunks ``event`` becomes (none when no streamed mode shows it)."""
        return [Emit(mode, shape(payload, step)) for mode, shape in self.routes.get(event, ())]

    def sink(
        self, event: EventKind, put: Callable[[Any], None], step: int = 0
    ) -> Callable[[Any], None] | None:
        """A callback streaming each payload it gets as ``event`` (of ``step``, for ``debug``)
        through ``put``, if wanted."""
        route = self.routes.get(event)
        if route is None:
            return None

        def send(payload: Any) -> None:
            for mode, shape in route:
                put((mode, shape(payload, step)))

        return send


def task_update(plan: Plan, keys: str | Sequence[str], writes: Sequence[tuple[str, Any]]) -> Any:
    """What the ``updates`` mode shows for a task's writes."""
    if plan.is_functional:
        for chan, value in writes:
            if chan == RETURN or (isinstance(keys, str) and chan == keys):
                return value
        return None
    if isinstance(keys, str):  # a root-value graph: the update is the bare value, or the
        values = [v for c, v in writes if c == keys]  # list of them when there are several
        return values[0] if len(values) == 1 else values or None
    wanted = [(c, v) for c, v in writes if c in keys]
    if not wanted:
        return None
    counts: dict[str, int] = defaultdict(int)
    for c, _ in wanted:
        counts[c] += 1
    if any(n > 1 for n in counts.values()):
        return [{c: v} for c, v in wanted]
    return dict(wanted)
