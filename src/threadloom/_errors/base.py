"""The roots of threadloom's own errors and warnings, and how a bad value is shown in a message."""

from __future__ import annotations

import reprlib
from typing import Any


class ThreadloomError(Exception):
    """Base of threadloom's own errors that have no standard-library parent."""


class ThreadloomWarning(UserWarning):
    """Base of threadloom's warnings: ``warnings.filterwarnings("ignore", category=...)``."""


def shown_value(value: Any, limit: int = 120) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters; never raises.

    Huge ints are described rather than converted (int-to-str conversion has a digit limit and
    is quadratic), and a ``__repr__`` that fails or recurses too deeply is replaced.
    """
    if isinstance(value, int) and value.bit_length() > 256:
        return f"<{type(value).__name__} of {value.bit_length()} bits>"
    try:
        shown = _BOUNDED_REPR.repr(value)
    except Exception:  # a broken __repr__ must not hide the error being reported
        shown = f"<{type(value).__qualname__} object (its repr() failed)>"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


_BOUNDED_REPR = reprlib.Repr()  # bounded in depth and width: a huge or deep value stays cheap
_BOUNDED_REPR.maxlevel = 4
_BOUNDED_REPR.maxstring = _BOUNDED_REPR.maxother = _BOUNDED_REPR.maxlong = 100
