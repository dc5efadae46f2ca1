"""How the drivers call a saver written for LangGraph's interface (issue 10, group 9).

LangGraph savers subclass ``BaseCheckpointSaver`` and override ``put_writes(config, writes,
task_id)``, often without ``task_path`` (older LangGraph had none). Two rules keep such a subclass
working:

- ``task_path`` is passed only to a ``put_writes``/``aput_writes`` whose signature takes it.
- ``put_step`` (threadloom's one-call save of a step's held writes with its checkpoint) is used
  only when it stays the class's own: if a subclass overrides ``put_writes`` but not
  ``put_step``, the inherited ``put_step`` would bypass the override, so the step is saved as
  LangGraph saves it, one ``put_writes`` per task and then ``put``.

Both answers depend only on the class (or function), so they are cached.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import Any

__all__ = ["path_args", "step_is_whole"]

_PAIRS = (("put_step", "put_writes"), ("aput_step", "aput_writes"))


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
    """Does ``saver.put_step`` (and ``aput_step``) go through the class's own ``put_writes``?"""
    cls = type(saver)
    whole = _WHOLE.get(cls)
    if whole is None:
        whole = _WHOLE[cls] = all(_pair_is_whole(cls, step, writes) for step, writes in _PAIRS)
    return whole


_WHOLE: dict[type, bool] = {}


def _pair_is_whole(cls: type, step: str, writes: str) -> bool:
    owner = next((k for k in cls.__mro__ if step in k.__dict__), None)
    return owner is not None and getattr(owner, writes, None) is getattr(cls, writes, None)
