"""Functional ``@task`` calls: scheduled inside the running superstep, saved as they finish.

A call gets a deterministic id from its parent task and its call index, so when the entrypoint
re-runs after an interrupt, an error or a crash, a call that already returned resolves at once
with its saved result instead of running again. Sync calls run on the run's thread pool and return
a ``concurrent.futures.Future``; calls made from an async entrypoint return an asyncio future.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from contextvars import copy_context
from dataclasses import dataclass, field
from typing import Any

from threadloom.constants import ERROR, PUSH, RESUME, RETURN
from threadloom.engine.core import Task
from threadloom.engine.ids import task_id, task_path_str
from threadloom.engine.plan import NodeSpec
from threadloom.engine.scratch import TaskScratchpad, current_scratchpad
from threadloom.types import RetryPolicy

__all__ = ["CallSite", "schedule_call"]


@dataclass(slots=True)
class CallSite:
    """What the driver gives a run so that ``@task`` calls can be scheduled and saved."""

    checkpoint_id: str
    step: int
    pending: dict[str, list[tuple[str, Any]]]
    """Saved writes by task id (results of calls finished in an earlier attempt)."""
    save: Callable[[str, str, list[tuple[str, Any]]], Any]
    """Saves a finished call's writes: ``save(task_id, task_path, writes)``; may be async."""
    emit: Callable[[str, Any], None]
    """Streams a chunk: ``emit(mode, payload)``."""
    pool: concurrent.futures.ThreadPoolExecutor | None = None
    runner: Any = None
    loop: Any = field(default=None)
    """The event loop of an async run (sync calls made on executor threads save through it)."""


def _call_task(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tuple[RetryPolicy, ...],
    parent: TaskScratchpad,
) -> Task:
    site: CallSite = parent.runner.call_site()
    parent_task: Task = parent.task
    index = parent.call_counter
    parent.call_counter += 1
    path = (PUSH, parent_task.path, index, True)
    tid = task_id(
        site.checkpoint_id,
        "",
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


def _writes_of(task: Task) -> list[tuple[str, Any]]:
    if task.error is not None:
        return [(ERROR, task.error)]
    if task.interrupts:
        return [w for w in task.writes if w[0] == RESUME]
    return task.writes


def schedule_call(
    name: str,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: tuple[RetryPolicy, ...],
    is_async: bool,
) -> Any:
    """Schedule one ``@task`` call from inside a run; return its future."""
    parent = current_scratchpad(name)
    site: CallSite = parent.runner.call_site()
    task = _call_task(name, func, args, kwargs, retry, parent)
    found, result = _saved_result(site, task)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        return _schedule_async(site, task, func, found, result, is_async, loop)
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    if found:
        future.set_result(result)
        return future
    from threadloom.engine.sync import pool_for_run, run_task

    def run() -> None:
        run_task(task, site.runner)
        _finish(site, task, future)

    if site.pool is None:
        site.pool = pool_for_run()
    site.pool.submit(copy_context().run, run)
    return future


def _finish(site: CallSite, task: Task, future: concurrent.futures.Future[Any]) -> None:
    writes = _writes_of(task)
    if writes:
        saved = site.save(task.id, task.path_str, writes)
        if asyncio.iscoroutine(saved):  # a sync call made inside an async run
            asyncio.run_coroutine_threadsafe(saved, site.loop).result()
    if task.error is not None:
        future.set_exception(task.error)
    elif task.interrupts:
        from threadloom.errors import GraphInterrupt

        future.set_exception(GraphInterrupt(task.interrupts))
    else:
        value = next((v for c, v in task.writes if c == RETURN), None)
        site.emit("updates", {task.name: value})
        future.set_result(value)


def _schedule_async(
    site: CallSite,
    task: Task,
    func: Callable[..., Any],
    found: bool,
    result: Any,
    is_async: bool,
    loop: asyncio.AbstractEventLoop,
) -> asyncio.Future[Any]:
    if found:
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result(result)
        return done
    from threadloom.engine.aio import arun_task

    if is_async:
        task.node.afunc = lambda value: func(*value[0], **value[1])

    async def run() -> Any:
        await arun_task(task, site.runner)
        writes = _writes_of(task)
        if writes:
            saved = site.save(task.id, task.path_str, writes)
            if asyncio.iscoroutine(saved):
                await saved
        if task.error is not None:
            raise task.error
        if task.interrupts:
            from threadloom.errors import GraphInterrupt

            raise GraphInterrupt(task.interrupts)
        value = next((v for c, v in task.writes if c == RETURN), None)
        site.emit("updates", {task.name: value})
        return value

    return asyncio.ensure_future(run())
