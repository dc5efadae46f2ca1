"""Refusing LangGraph parameters that threadloom's signatures accept but do not implement yet.

They stay in the signatures (a LangGraph program passing the default still runs); a non-default
value raises ``UnsupportedParameterError`` rather than being silently ignored.
"""

from __future__ import annotations

from typing import Any

from threadloom.errors import UnsupportedParameterError

__all__ = ["refuse_unsupported"]


def refuse_unsupported(where: str, **params: Any) -> None:
    """Raise for the first of ``params`` given a value (``None`` and empty sequences are unset)."""
    for name, value in params.items():
        if value is None or (isinstance(value, list | tuple) and not value):
            continue
        raise UnsupportedParameterError(where, name, value)
