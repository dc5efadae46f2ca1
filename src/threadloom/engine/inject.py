"""Which extra parameters a node, task or entrypoint asks for, decided once at compile time.

The rule is by parameter name (and, for ``config``, its annotation), as in LangGraph: ``config``,
``writer``, ``store``, ``runtime`` and ``previous`` are filled in from the running task's context.
"""

from __future__ import annotations

import inspect
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["Injection", "injections_for", "warn_mistyped_config"]

Injectable = Literal["config", "writer", "store", "runtime", "previous"]

INJECTABLE_NAMES: Final[frozenset[str]] = frozenset(
    {"config", "writer", "store", "runtime", "previous"}
)


@dataclass(frozen=True, slots=True)
class Injection:
    """One parameter the engine fills in."""

    name: Injectable
    required: bool
    """No default and not Optional: a missing store is an error for such a parameter."""


def _accepts_config(annotation: Any) -> bool:
    if annotation is inspect.Parameter.empty:
        return True
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return "RunnableConfig" in text or ("dict" in text.lower() and "Optional" in text)


def injections_for(func: Callable[..., Any], *, skip_first: bool = True) -> tuple[Injection, ...]:
    """The injectable parameters of ``func`` (its first, input parameter excluded)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return ()
    params = list(signature.parameters.values())
    if (
        skip_first
        and params
        and params[0].kind
        in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
    ):
        params = params[1:]
    found: list[Injection] = []
    for p in params:
        if p.name not in INJECTABLE_NAMES or p.kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            continue
        if p.name == "config" and not _accepts_config(p.annotation):
            continue  # not injected (warn_mistyped_config told the user where it was declared)
        optional = p.default is not inspect.Parameter.empty or _is_optional(p.annotation)
        found.append(Injection(p.name, required=not optional))  # type: ignore[arg-type]
    return tuple(found)


def warn_mistyped_config(func: Callable[..., Any], *, stacklevel: int = 3) -> None:
    """Warn (a ``UserWarning``, LangGraph's words) when ``func`` has a ``config`` parameter
    annotated otherwise than ``RunnableConfig``: such a parameter is not injected."""
    try:
        param = inspect.signature(func).parameters.get("config")
    except (TypeError, ValueError):
        return
    if param is not None and not _accepts_config(param.annotation):
        warnings.warn(
            "The 'config' parameter should be typed as 'RunnableConfig' or "
            f"'RunnableConfig | None', not '{param.annotation!r}'. It is not injected into "
            f"{getattr(func, '__name__', func)!r}: annotate it `config: RunnableConfig`.",
            stacklevel=stacklevel,
        )


def _is_optional(annotation: Any) -> bool:
    if annotation is inspect.Parameter.empty:
        return False
    if isinstance(annotation, str):
        return "Optional" in annotation or "None" in annotation
    return type(None) in typing.get_args(annotation)
