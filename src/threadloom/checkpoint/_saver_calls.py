"""How the drivers call a saver written for LangGraph's interface (issue 10, group 9).

LangGraph savers subclass ``BaseCheckpointSaver`` and override ``put_writes(config, writes,
task_id)``, often without ``task_path`` (older LangGraph had none). Two rules keep such a subclass
working:

- ``task_path`` is passed only to a ``put_writes``/``aput_writes`` whose signature takes it.
- ``put_step`` (threadloom's one-call save of a step's held writes with its checkpoint) is used
  only when it stays the class's own: if a subclass overrides one of the methods a step stands
  for (``put_writes``, ``put``, ``aput_writes``, ``aput``) but not ``put_step`` and
  ``aput_step``, the inherited step method would bypass the override, so the step is saved as
  LangGraph saves it, one ``put_writes`` per task and then ``put`` (their ``a`` twins in async
  runs). Both step methods must be whole for either to be used: a saver's async methods may
  call its sync ones (``InMemorySaver``) and the reverse (``AsyncSqliteSaver``). The same rule
  holds for ``put_writes_batch`` (the writes of several tasks finished together, in one call)
  against ``put_writes`` and ``aput_writes``, and for ``put_steps`` (a run's input checkpoint
  with the step after it, in one call) against ``put``, ``put_writes`` and ``put_step``.

- ``put_step_diff`` (a step whose checkpoint header is handed over as the changes from its
  parent: ``InMemorySaver`` stores only those) is used only by a saver whose class defines it and
  overrides none of the methods it stands for (``put``, ``put_writes``, ``put_step`` and their
  ``a`` twins): any other saver gets the whole checkpoint, through those methods.

The answers depend only on the class (or function), so they are cached.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

from threadloom.checkpoint.base import BaseCheckpointSaver

__all__ = [
    "batch_is_whole",
    "path_args",
    "saves_steps_at_once",
    "step_is_whole",
    "steps_are_whole",
    "takes_diffs",
]

_STEPS = (("put_step", ("put", "put_writes")), ("aput_step", ("aput", "aput_writes")))
"""Each step method and the methods it stands for."""

_PAIRS = (
    ("put_steps", ("put", "put_writes", "put_step")),
    ("aput_steps", ("aput", "aput_writes", "aput_step")),
)
"""Each several-steps method and the methods it stands for."""

_BATCHES = (("put_writes_batch", ("put_writes",)), ("aput_writes_batch", ("aput_writes",)))
"""Each batch method and the method it stands for (the same rule as the step methods)."""


_DIFFS = (
    ("put_step_diff", ("put", "put_writes", "put_step")),
    ("aput_step_diff", ("aput", "aput_writes", "aput_step")),
)
"""Each diff method and the methods it stands for."""


def path_args(method: Callable[..., Any], task_path: str) -> tuple[str, ...]:
    """``(task_path,)`` when the bound ``method`` takes a fourth argument, else ``()``."""
    return (task_path,) if _takes_path(getattr(method, "__func__", method)) else ()


@cache
def _takes_path(function: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # no signature to read (a builtin, a C extension)
        return True
    positional = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return True
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            break
        if parameter.kind is not inspect.Parameter.VAR_KEYWORD:
            positional += 1
    return positional >= 5  # self, config, writes, task_id, task_path


def step_is_whole(saver: Any) -> bool:
    """May a step of ``saver`` be saved with ``put_step`` (``aput_step``)? Only if no method it
    stands for (``put``, ``put_writes`` and their ``a`` twins) is overridden below it."""
    whole = _STEP_WHOLE.get(type(saver))  # asked once per step: one lookup when known
    return _learn(_STEP_WHOLE, type(saver), _STEPS) if whole is None else whole


def steps_are_whole(saver: Any) -> bool:
    """May several steps be saved with ``put_steps`` (``aput_steps``)? Only if no method they
    stand for (``put``, ``put_writes``, ``put_step`` and their ``a`` twins) is overridden
    below them (else each step is saved as one step is)."""
    whole = _STEPS_WHOLE.get(type(saver))
    return _learn(_STEPS_WHOLE, type(saver), _PAIRS) if whole is None else whole


def saves_steps_at_once(saver: Any) -> bool:
    """Does ``saver`` save several steps in one call of its own (the SQL savers: one
    transaction, one round trip)? Only then is a run's input checkpoint held for the next
    step's save (``engine/saves.py``): the default ``put_steps`` makes one ``put_step`` per
    step, which gains nothing for the copy of the input that holding takes."""
    at_once = _AT_ONCE.get(type(saver))
    if at_once is None:
        method = getattr(type(saver), "put_steps", None)
        own = method is not None and method is not BaseCheckpointSaver.put_steps
        at_once = _AT_ONCE[type(saver)] = own and steps_are_whole(saver)
    return at_once


def batch_is_whole(saver: Any) -> bool:
    """May writes of several tasks be saved with ``put_writes_batch`` (``aput_writes_batch``)?
    Only if ``put_writes`` and ``aput_writes`` are not overridden below them (else one
    ``put_writes`` per task, as LangGraph calls it)."""
    whole = _BATCH_WHOLE.get(type(saver))
    return _learn(_BATCH_WHOLE, type(saver), _BATCHES) if whole is None else whole


def takes_diffs(saver: Any) -> bool:
    """May a step of ``saver`` be saved with ``put_step_diff`` (``aput_step_diff``)? Only if its
    class defines them and overrides nothing they stand for below them."""
    whole = _DIFF_WHOLE.get(type(saver))
    return _learn(_DIFF_WHOLE, type(saver), _DIFFS) if whole is None else whole


_STEP_WHOLE: dict[type, bool] = {}
_BATCH_WHOLE: dict[type, bool] = {}
_STEPS_WHOLE: dict[type, bool] = {}
_AT_ONCE: dict[type, bool] = {}
_DIFF_WHOLE: dict[type, bool] = {}
"""The answers by class, one dict per question (they depend only on the class)."""


def _learn(
    known: dict[type, bool], cls: type, methods: tuple[tuple[str, tuple[str, ...]], ...]
) -> bool:
    whole = known[cls] = all(_step_is_whole(cls, *m) for m in methods)
    return whole


def _step_is_whole(cls: type, step: str, stood_for: tuple[str, ...]) -> bool:
    """Does the class that defines ``step`` see the same ``stood_for`` methods as ``cls``?"""
    owner = next((k for k in cls.__mro__ if step in k.__dict__), None)
    return owner is not None and all(
        getattr(owner, name, None) is getattr(cls, name, None) for name in stood_for
    )
