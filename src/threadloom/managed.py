"""Managed state keys: values the engine computes for each task instead of reading a channel.

A state key annotated ``RemainingSteps`` or ``IsLastStep`` gets no channel: it is never stored in a
checkpoint, never part of the output, and a node's write to it is ignored. When a node runs, its
input holds the value for its step, computed from the run's step counter and recursion limit, as
LangGraph computes it: ``remaining_steps`` is the number of steps the run may still take including
this one, ``is_last_step`` is true in the last step before the recursion limit stops the run.
``create_react_agent`` uses ``remaining_steps`` to answer instead of calling tools it has no steps
left to run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, get_args, get_origin, get_type_hints

__all__ = [
    "IsLastStep",
    "IsLastStepManager",
    "ManagedValue",
    "RemainingSteps",
    "RemainingStepsManager",
    "managed_keys",
]


class ManagedValue:
    """A value computed per task from the step it runs in and the step the run stops at."""

    @staticmethod
    def get(step: int, stop: int) -> Any:
        """The value for a task of ``step`` in a run that may not pass ``stop``."""
        raise NotImplementedError


class RemainingStepsManager(ManagedValue):
    """How many steps the run may still take, this one included."""

    @staticmethod
    def get(step: int, stop: int) -> int:
        return stop - step


class IsLastStepManager(ManagedValue):
    """Whether this is the last step the recursion limit allows."""

    @staticmethod
    def get(step: int, stop: int) -> bool:
        return step == stop - 1


RemainingSteps = Annotated[int, RemainingStepsManager]
"""A state key holding the number of steps left before the recursion limit."""

IsLastStep = Annotated[bool, IsLastStepManager]
"""A state key that is true in the last step the recursion limit allows."""


def _manager(annotation: Any) -> type[ManagedValue] | None:
    while get_origin(annotation) is Annotated:
        base, *meta = get_args(annotation)
        for item in meta:
            if isinstance(item, type) and issubclass(item, ManagedValue):
                return item
        annotation = base
    args = get_args(annotation)  # NotRequired[RemainingSteps], Required[...]
    if len(args) == 1 and get_origin(annotation) is not None:
        return _manager(args[0])
    return None


def managed_keys(schema: Any) -> Mapping[str, Callable[[int, int], Any]]:
    """The managed keys of a state schema, each with the function that computes its value."""
    if not isinstance(schema, type):
        return {}
    try:
        hints = get_type_hints(schema, include_extras=True)
    except Exception:
        hints = dict(getattr(schema, "__annotations__", {}))
    found: dict[str, Callable[[int, int], Any]] = {}
    for key, annotation in hints.items():
        manager = _manager(annotation)
        if manager is not None:
            found[key] = manager.get
    return found
