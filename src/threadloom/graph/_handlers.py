"""Error handler nodes (``add_node(..., error_handler=...)``): their name and what they are given.

A handler is an ordinary node of the graph named ``__error_handler__<node>``, never reached by an
edge: the engine runs it in the step where ``<node>`` failed for good, in place of the failed task
(``engine/run.py``, ``Run.handle_failure``). It reads the state as the failed node did; a parameter
annotated ``NodeError`` (or named ``error``) is given the failure.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Final, get_type_hints

from threadloom.engine.scratch import current_scratchpad
from threadloom.errors import NodeError

__all__ = ["DEFAULT_ERROR_HANDLER", "ERROR_HANDLER_PREFIX", "with_node_error"]

ERROR_HANDLER_PREFIX: Final = "__error_handler__"
DEFAULT_ERROR_HANDLER: Final = "__default_error_handler__"
"""The node of ``set_node_defaults(error_handler=...)``."""


def _error_parameter(handler: Callable[..., Any]) -> str | None:
    """The handler's parameter that takes the ``NodeError``, if it has one."""
    try:
        params = list(inspect.signature(handler).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    try:
        hints = get_type_hints(handler)
    except Exception:
        hints = {}
    for param in params:
        annotation = hints.get(param.name, param.annotation)
        if annotation is NodeError or annotation == "NodeError":
            return param.name
    return next((p.name for p in params if p.name == "error"), None)


def _failure() -> NodeError:
    failure: NodeError | None = current_scratchpad("an error handler").task.failure
    if failure is None:  # run as an ordinary node (a goto to it): there is no failure to give
        raise RuntimeError("an error handler ran without a failed node to handle")
    return failure


def with_node_error(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler``, given the failure in its ``NodeError`` parameter; the other parameters keep
    their meaning (``config``, ``store``, ``runtime`` ... are injected as for any node)."""
    name = _error_parameter(handler)
    if name is None:
        return handler
    signature = inspect.signature(handler)
    rest = signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name != name]
    )
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def acall(state: Any, **kwargs: Any) -> Any:
            return await handler(state, **{name: _failure()}, **kwargs)

        acall.__signature__ = rest  # type: ignore[attr-defined]
        return acall

    @functools.wraps(handler)
    def call(state: Any, **kwargs: Any) -> Any:
        return handler(state, **{name: _failure()}, **kwargs)

    call.__signature__ = rest  # type: ignore[attr-defined]
    return call
