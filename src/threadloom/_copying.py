"""Deep copies of JSON-like values (dicts, lists, tuples, scalars), without ``deepcopy``'s
memo and dispatch for the common case: the in-memory store copies every value put and read,
a run copies the input it holds to save with its first step (``engine/saves.py``). Anything
else is left to ``copy.deepcopy``."""

from __future__ import annotations

import copy
from typing import Any, Final

__all__ = ["EXACT_SCALARS", "copy_value"]

SCALARS: Final = (str, int, float, bool, type(None))
EXACT_SCALARS: Final = frozenset(SCALARS)


def copy_value(value: Any) -> Any:
    """A deep copy of a JSON-like value, fast for dicts, lists and scalars."""
    # Exact type checks first: a put copies every value, and most values are flat dicts of
    # strings and numbers, so the common case must cost no isinstance walk per field.
    cls = type(value)
    if cls is dict:
        return {k: v if type(v) in EXACT_SCALARS else copy_value(v) for k, v in value.items()}
    if cls in EXACT_SCALARS or isinstance(value, SCALARS):
        return value
    if cls is list:
        return [v if type(v) in EXACT_SCALARS else copy_value(v) for v in value]
    if cls is tuple:
        for v in value:
            if type(v) not in EXACT_SCALARS:
                return tuple(copy_value(v) for v in value)
        return value  # immutable all through: itself, as deepcopy gives it
    return copy.deepcopy(value)
