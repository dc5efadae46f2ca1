"""LangGraph's deprecation warning classes (``langgraph.warnings``), for programs that filter them.

threadloom raises them where it keeps a LangGraph name that LangGraph itself deprecated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

_Args = TypeVar("_Args", bound=Mapping[str, Any])

__all__ = [
    "LangGraphDeprecatedSinceV05",
    "LangGraphDeprecatedSinceV10",
    "LangGraphDeprecatedSinceV11",
    "LangGraphDeprecationWarning",
]


class LangGraphDeprecationWarning(DeprecationWarning):
    """A LangGraph name or argument that will go away."""


class LangGraphDeprecatedSinceV05(LangGraphDeprecationWarning):
    """Deprecated since LangGraph 0.5."""


class LangGraphDeprecatedSinceV10(LangGraphDeprecationWarning):
    """Deprecated since LangGraph 1.0."""


class LangGraphDeprecatedSinceV11(LangGraphDeprecationWarning):
    """Deprecated since LangGraph 1.1."""


def warn_renamed(old: str, new: str, category: type[Warning], *, stacklevel: int = 3) -> None:
    """Warn (LangGraph's words) that the argument ``old`` is now called ``new``."""
    import warnings

    warnings.warn(
        f"`{old}` is deprecated and will be removed. Please use `{new}` instead.",
        category,
        stacklevel=stacklevel,
    )


def without_checkpoint_during(kwargs: _Args) -> _Args:
    """A run's keyword arguments with LangGraph's deprecated ``checkpoint_during=`` read as
    ``durability`` (``True`` is ``"async"``, ``False`` ``"exit"``), with LangGraph's warning;
    ``kwargs`` itself when it has no ``checkpoint_during``."""
    if "checkpoint_during" not in kwargs:
        return kwargs
    args: dict[str, Any] = dict(kwargs)
    checkpoint_during = args.pop("checkpoint_during")
    warn_renamed("checkpoint_during", "durability", LangGraphDeprecatedSinceV10, stacklevel=5)
    if args.get("durability") is not None:
        raise ValueError(
            f"checkpoint_during={checkpoint_during!r} and durability={args['durability']!r} were "
            "both given: they say the same thing. Pass only durability ('sync', 'async' or 'exit')."
        )
    if checkpoint_during is not None:
        args["durability"] = "async" if checkpoint_during else "exit"
    return cast(_Args, args)
