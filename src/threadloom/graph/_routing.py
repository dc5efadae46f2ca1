"""Calling conditional-edge functions (routers), async ones included.

A node's writer calls its routers with the state as updated by the node. An async router cannot
be awaited there (the writer is plain code), so under ``ainvoke``/``astream`` a node with one gets
an async wrapper: after the node returns, the wrapper computes the same updated state, awaits the
routers and leaves their results for the writer, which uses them instead of calling again.
``aupdate_state`` as such a node awaits them the same way (the plan's ``update_awriters``). Under
``invoke`` and ``update_state`` an async router is refused with LangGraph's ``TypeError``.
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

__all__ = ["RouterState", "awaited_routes", "awaiting_routers", "call_router", "take_routes"]

_ROUTES: dict[int, list[Any]] = {}
"""Router results computed by the async wrapper, by id of the task's scratchpad."""

RouterState = Callable[[Any, TaskWriteContext, Any], Any]
"""``(node output, write context, branch) -> the state that branch's router is given``."""


def call_router(branch: Any, state: Any, config: Any, index: int = 0) -> Any:
    """A sync router's result; an async one raises LangGraph's TypeError (sync run).

    In a traced run the router is a run below its node's, tagged ``seq:step:<3 + index>`` as in
    LangGraph (the node's code is step 1 of its sequence, its writes step 2)."""
    if branch.is_async:
        raise no_sync_function(branch.name)
    manager = _router_manager(config, index)
    if manager is None:
        return branch.path(state, config=config) if branch.wants_config else branch.path(state)
    run = manager.on_chain_start(None, state, name=_run_name(branch, config))
    try:
        result = branch.path(state, config=config) if branch.wants_config else branch.path(state)
    except BaseException as exc:
        run.on_chain_error(exc)
        raise
    run.on_chain_end(result)
    return result


async def _acall_router(branch: Any, state: Any, config: Any, index: int) -> Any:
    manager = _router_manager(config, index, asynchronous=True)
    name = _run_name(branch, config)
    run = None if manager is None else await manager.on_chain_start(None, state, name=name)
    try:
        result = branch.path(state, config=config) if branch.wants_config else branch.path(state)
        result = await result if inspect.isawaitable(result) else result
    except BaseException as exc:
        if run is not None:
            await run.on_chain_error(exc)
        raise
    if run is not None:
        await run.on_chain_end(result)
    return result


def no_sync_function(name: str) -> TypeError:
    """LangGraph's error for an async node or router run by ``invoke``/``stream``."""
    return TypeError(
        f'No synchronous function provided to "{name}".\nEither initialize with a '
        "synchronous function or invoke via the async API (ainvoke, astream, etc.)"
    )


def _run_name(branch: Any, config: Any) -> str | None:
    """The router's run name: its own, or LangGraph's for a lambda (``RunnableCallable`` in a
    sync run, none in an async one: its wrapper's ``get_name()`` and ``name``)."""
    if not branch.anonymous:
        return str(branch.name)
    from langchain_core.callbacks import AsyncCallbackManager

    return None if isinstance(config.get("callbacks"), AsyncCallbackManager) else "RunnableCallable"


def _router_manager(config: Any, index: int, *, asynchronous: bool = False) -> Any:
    """The callback manager a router's run starts from, or None when the run is not traced."""
    callbacks = (config or {}).get("callbacks")
    from langchain_core.callbacks import AsyncCallbackManager, BaseCallbackManager, CallbackManager

    if not isinstance(callbacks, BaseCallbackManager):
        return None
    # the router's run is a sibling of the node code's runs: same parent, handlers and metadata
    manager = (AsyncCallbackManager if asynchronous else CallbackManager)(
        handlers=list(callbacks.handlers),
        inheritable_handlers=list(callbacks.inheritable_handlers),
        parent_run_id=callbacks.parent_run_id,
        tags=[tag for tag in callbacks.tags if not tag.startswith("seq:step:")],
        inheritable_tags=list(callbacks.inheritable_tags),
        metadata=dict(callbacks.metadata),
        inheritable_metadata=dict(callbacks.inheritable_metadata),
    )
    manager.add_tags([f"seq:step:{3 + index}"], inherit=False)
    return manager


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

    ``router_state(output, ctx, branch)`` is the state a router is given, as the writer computes
    it.
    """

    async def run(value: Any, **kwargs: Any) -> Any:
        if afunc is not None:
            output = await afunc(value, **kwargs)
        else:
            call = functools.partial(copy_context().run, func, value, **kwargs)
            output = await asyncio.get_running_loop().run_in_executor(None, call)
        pad = running_task()
        ctx = TaskWriteContext(pad.runner.channels, pad.task.node, pad.config, pad.task.managed_at)
        _ROUTES[id(pad)] = await awaited_routes(branches, router_state, output, ctx)
        return output

    return run


async def awaited_routes(
    branches: Sequence[Any], router_state: RouterState, output: Any, ctx: TaskWriteContext
) -> list[Any]:
    """The results of a node's routers (async ones awaited) for the node's ``output``."""
    return [
        await _acall_router(b, router_state(output, ctx, b), ctx.config, i)
        for i, b in enumerate(branches)
    ]
