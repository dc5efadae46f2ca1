"""Functional ``@task`` calls: scheduled inside the running superstep, saved as they finish.

A call gets a deterministic id from its parent task and its call index, so when the entrypoint
re-runs after an interrupt, an error or a crash, a call that already returned resolves at once
with its saved result instead of running again. What a finished call saves and streams, and what
its future resolves to, is decided once (``_save``, ``_outcome``); sync calls run on the run's
thread pool and return a ``concurrent.futures.Future``, calls made on an event loop return an
asyncio future, and the two differ only in how they wait.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Callable
from contextvars import copy_context
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from threadloom.constants import ERROR, NS_SEP, PUSH, RESUME, RETURN
from threadloom.engine.core import Task
from threadloom.engine.effects import PutWrites
from threadloom.engine.ids import task_id, task_path_str
from threadloom.engine.plan import NodeSpec
from threadloom.engine.scratch import TaskScratchpad, current_scratchpad
from threadloom.errors import GraphInterrupt
from threadloom.types import RetryPolicy, TimeoutPolicy

__all__ = ["CallSite", "schedule_call"]


@dataclass(slots=True)
class CallSite:
    """Where the ``@task`` calls of one superstep are scheduled and saved (made by the loop)."""

    checkpoint_id: str
    step: int
    pending: dict[str, list[tuple[str, Any]]]
    """Saved writes by task id (results of calls finished in an earlier attempt)."""
    writes_config: RunnableConfig | None
    """Where a finished call's writes are saved; None when they are not (no saver, or "exit")."""
    save: Callable[[PutWrites], Any]
    """The driver's carry-out of a ``PutWrites`` (may return an awaitable)."""
    on_update: Callable[[Any], None] | None
    """Streams a finished call's ``{name: result}`` update, when that is streamed."""
    runner: Any
    pool: concurrent.futures.ThreadPoolExecutor | None = None


def _call_task(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tuple[RetryPolicy, ...],
    parent: TaskScratchpad,
    site: CallSite,
    timeout: TimeoutPolicy | None = None,
    cache: Any = None,
) -> Task:
    parent_task: Task = parent.task
    index = parent.call_counter
    parent.call_counter += 1
    path = (PUSH, parent_task.path, index, True)
    caller_ns = parent_task.config["configurable"].get("checkpoint_ns", "")  # as LangGraph's
    tid = task_id(
        site.checkpoint_id,
        f"{caller_ns}{NS_SEP}{name}" if caller_ns else name,
        str(site.step),
        name,
        PUSH,
        task_path_str(parent_task.path),
        str(index),
    )
    spec = NodeSpec(
        name=name,
        triggers=(PUSH,),
        read=lambda _: None,
        func=lambda value: func(*value[0], **value[1]),
        afunc=None,
        write=lambda output, _ctx: [(RETURN, output)],
        retry_policy=retry,
        cache=cache,
    )
    task = Task(
        tid,
        name,
        path,
        task_path_str(path),
        (PUSH,),
        (args, kwargs),
        spec,
        parent.config,
        timeout=timeout,
    )
    for chan, value in site.pending.get(tid, []):
        if chan == RESUME:
            task.resume = list(value)
    return task


def _saved_result(site: CallSite, task: Task) -> tuple[bool, Any]:
    for chan, value in site.pending.get(task.id, []):
        if chan == RETURN:
            return True, value
    return False, None


def _save(site: CallSite, task: Task) -> Any:
    """Save a finished call's writes (its result, its error, or the answers it consumed)."""
    if task.error is not None:
        writes: list[tuple[str, Any]] = [(ERROR, task.error)]
    elif task.interrupts:
        writes = [w for w in task.writes if w[0] == RESUME]
    else:
        writes = task.writes
    if writes and site.writes_config is not None:
        return site.save(PutWrites(site.writes_config, writes, task.id, task.path_str))
    return None


def _outcome(site: CallSite, task: Task) -> Any:
    """The call's result (streamed as an update), or its error or interrupt raised."""
    if task.error is not None:
        raise task.error
    if task.interrupts:
        raise GraphInterrupt(task.interrupts)
    value = next((v for c, v in task.writes if c == RETURN), None)
    if site.on_update is not None:
        update = {task.name: value}
        if task.cached:  # as LangGraph marks a replayed cache hit
            update["__metadata__"] = {"cached": True}
        site.on_update(update)
    return value


def schedule_call(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tuple[RetryPolicy, ...],
    is_async: bool,
    timeout: TimeoutPolicy | None = None,
    cache: Any = None,
) -> Any:
    """Schedule one ``@task`` call from inside a run; return its future.

    ``cache`` is the task's ``engine.caching.CacheSpec`` (None: never cached).
    """
    parent = current_scratchpad(name)
    site: CallSite = parent.runner.call_site()
    task = _call_task(name, func, args, kwargs, retry, parent, site, timeout, cache)
    found, result = _saved_result(site, task)
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        if is_async:
            task.node.afunc = lambda value: func(*value[0], **value[1])
        if found:
            done: asyncio.Future[Any] = loop.create_future()
            done.set_result(result)
            return done
        return asyncio.ensure_future(_arun_call(site, task))
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    if found:
        future.set_result(result)
        return future
    from threadloom.engine.sync import pool_for_run

    if site.pool is None:
        site.pool = pool_for_run()
    site.pool.submit(copy_context().run, _run_call, site, task, future)
    return future


def _run_call(site: CallSite, task: Task, future: concurrent.futures.Future[Any]) -> None:
    from threadloom.engine.sync import run_task

    try:
        run_task(task, site.runner)
        _save(site, task)
        future.set_result(_outcome(site, task))
    except BaseException as exc:
        future.set_exception(exc)


async def _arun_call(site: CallSite, task: Task) -> Any:
    from threadloom.engine.aio import arun_task

    await arun_task(task, site.runner)
    if inspect.isawaitable(saved := _save(site, task)):
        await saved
    return _outcome(site, task)
