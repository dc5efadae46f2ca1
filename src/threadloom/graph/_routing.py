"""Calling conditional-edge functions (routers), async ones included.

A node's writer calls its routers with the state as updated by the node. An async router cannot
be awaited there (the writer is plain code), so under ``ainvoke``/``astream`` a node with one gets
an async wrapper: after the node returns, the wrapper computes the same updated state, awaits the
routers and leaves their results for the writer, which uses them instead of calling again. Under
``invoke`` an async router is refused with LangGraph's ``TypeError``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Sequence
from contextvars import copy_context
from typing import Any

from threadloom._running import running_task
from threadloom.engine.plan import TaskWriteContext

__all__ = ["awaiting_routers", "call_router", "take_routes"]

_ROUTES: dict[int, list[Any]] = {}
"""Router results computed by the async wrapper, by id of the task's scratchpad."""

RouterState = Callable[[Any, TaskWriteContext], Any]


def call_router(branch: Any, state: Any, config: Any) -> Any:
    """A sync router's result; an async one raises LangGraph's TypeError (sync run)."""
    if branch.is_async:
        raise TypeError(
            f'No synchronous function provided to "{branch.name}".\nEither initialize with a '
            "synchronous function or invoke via the async API (ainvoke, astream, etc.)"
        )
    if branch.wants_config:
        return branch.path(state, config=config)
    return branch.path(state)


async def _acall_router(branch: Any, state: Any, config: Any) -> Any:
    result = branch.path(state, config=config) if branch.wants_config else branch.path(state)
    return await result if inspect.isawaitable(result) else result


def take_routes(ctx: TaskWriteContext) -> list[Any] | None:
    """The router results the async wrapper left for this task, if any (taken once)."""
    if not _ROUTES:
        return None
    try:
        pad = running_task()
    except RuntimeError:
        return None
    return _ROUTES.pop(id(pad), None)


def awaiting_routers(
    func: Callable[..., Any],
    afunc: Callable[..., Any] | None,
    branches: Sequence[Any],
    router_state: RouterState,
) -> Callable[..., Any]:
    """An async node that runs ``afunc`` (or ``func`` in the executor), then awaits the routers.

    ``router_state(output, ctx)`` is the state the routers are given, as the writer computes it.
    """

    async def run(value: Any, **kwargs: Any) -> Any:
        if afunc is not None:
            output = await afunc(value, **kwargs)
        else:
            call = functools.partial(copy_context().run, func, value, **kwargs)
            output = await asyncio.get_running_loop().run_in_executor(None, call)
        pad = running_task()
        ctx = TaskWriteContext(pad.runner.channels, pad.task.node, pad.config, pad.task.managed_at)
        state = router_state(output, ctx)
        _ROUTES[id(pad)] = [await _acall_router(b, state, pad.config) for b in branches]
        return output

    return run
