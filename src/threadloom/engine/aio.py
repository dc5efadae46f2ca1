"""The async driver: the twin of ``engine/sync.py`` on asyncio.

Async nodes are awaited as asyncio tasks; sync nodes run in the default executor with the task's
context copied. The first failure cancels the tasks still running.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from contextvars import copy_context
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from threadloom.engine.calls import CallSite
from threadloom.engine.core import Effect, Emit, Put, PutWrites, Task
from threadloom.engine.messages import StreamMessagesHandler, attach
from threadloom.engine.run import Run
from threadloom.engine.scratch import task_context
from threadloom.engine.tasks import TaskRunner

__all__ = ["arun_task", "drive"]


async def arun_task(task: Task, runner: TaskRunner) -> None:
    """Run one task to its outcome (writes, interrupt or error), retrying as its policy says."""
    attempt, first = 0, time.time()
    loop = asyncio.get_running_loop()
    while True:
        attempt += 1
        pad = runner.prepare(task, attempt, first)
        token = var_child_runnable_config.set(task.config)
        try:
            with task_context(pad):
                kwargs = runner.kwargs(task, pad)
                if task.node.afunc is not None:
                    output = await task.node.afunc(task.input, **kwargs)
                else:
                    ctx = copy_context()
                    call = functools.partial(ctx.run, task.node.func, task.input, **kwargs)
                    output = await loop.run_in_executor(None, call)
                runner.succeed(task, pad, output)
            return
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            delay = runner.failed(task, pad, exc, attempt)
            if delay is None:
                return
        finally:
            var_child_runnable_config.reset(token)
        await asyncio.sleep(delay)


async def _carry_out(effect: Effect, saver: Any) -> tuple[str, Any] | None:
    match effect:
        case Put(config, checkpoint, metadata, new_versions):
            await saver.aput(config, checkpoint, metadata, new_versions)
        case PutWrites(config, writes, task_id, task_path):
            await saver.aput_writes(config, writes, task_id, task_path)
        case Emit(mode, payload):
            return mode, payload
    return None


async def drive(
    run: Run, saver: Any, runner: TaskRunner, start: list[Effect], *, relay: Any = None
) -> AsyncIterator[tuple[str, Any]]:
    """Step ``run`` to its end, yielding ``(mode, payload)`` chunks as they are produced."""
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    if "custom" in run.options.modes:

        def write(chunk: Any) -> None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                events.put_nowait(("chunk", ("custom", chunk)))
            else:  # a sync node on an executor thread
                loop.call_soon_threadsafe(events.put_nowait, ("chunk", ("custom", chunk)))

        runner.writer = write

    modes = run.options.modes

    def emit(mode: str, payload: Any) -> None:
        if mode not in modes:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            events.put_nowait(("chunk", (mode, payload)))
        else:
            loop.call_soon_threadsafe(events.put_nowait, ("chunk", (mode, payload)))

    if relay is not None:  # subgraphs forward their chunks into this run's stream

        def forward(ns: tuple[str, ...], mode: str, payload: Any) -> None:
            item = ("chunk", ("__subgraph__", (ns, mode, payload)))
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                events.put_nowait(item)
            else:
                loop.call_soon_threadsafe(events.put_nowait, item)

        relay.put = forward
    if "messages" in modes:
        runner.messages = StreamMessagesHandler(emit)
        attach(run.config, runner.messages)  # type: ignore[arg-type]

    for effect in start:
        if (chunk := await _carry_out(effect, saver)) is not None:
            yield chunk
    while run.status == "pending":
        tasks = run.tick()
        for effect in run.tick_effects():
            if (chunk := await _carry_out(effect, saver)) is not None:
                yield chunk
        if tasks is None:
            break
        runner.new_step(run.checkpoint["id"], _call_site_factory(run, saver, runner, emit, loop))
        running = {
            asyncio.ensure_future(_run_and_report(task, runner, events)): task for task in tasks
        }
        remaining, failed = len(tasks), False
        try:
            while remaining:
                kind, value = await events.get()
                if kind == "chunk":
                    yield value
                    continue
                remaining -= 1
                if value.error is not None and not failed:
                    failed = True  # cancel the siblings still running; their writes are lost
                    for future, task in running.items():
                        if not future.done() and task is not value:
                            future.cancel()
                            remaining -= 1
                for effect in run.task_finished(value):
                    if (chunk := await _carry_out(effect, saver)) is not None:
                        yield chunk
        finally:
            for future in running:
                if not future.done():
                    future.cancel()
        for effect in run.end_step():
            if (chunk := await _carry_out(effect, saver)) is not None:
                yield chunk
    effects = run.exit_effects()
    if run.status in ("interrupt_before", "interrupt_after"):
        effects += run.breakpoint_chunks()
    for effect in effects:
        if (chunk := await _carry_out(effect, saver)) is not None:
            yield chunk
    while not events.empty():
        kind, value = events.get_nowait()
        if kind == "chunk":
            yield value
    if run.errors:
        raise run.errors[0].error  # type: ignore[misc]


def _call_site_factory(
    run: Run, saver: Any, runner: TaskRunner, emit: Any, loop: asyncio.AbstractEventLoop
) -> Any:
    def make() -> CallSite:
        site = CallSite(*run.call_site(), save=_saver_of(run, saver), emit=emit)
        site.runner, site.loop = runner, loop
        return site

    return make


def _saver_of(run: Run, saver: Any) -> Any:
    config = run.checkpoint_config

    async def save(task_id: str, task_path: str, writes: list[tuple[str, Any]]) -> None:
        if saver is not None and run.options.durability != "exit":
            await saver.aput_writes(config, writes, task_id, task_path)

    return save


async def _run_and_report(task: Task, runner: TaskRunner, events: asyncio.Queue[Any]) -> None:
    try:
        await arun_task(task, runner)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # a bubble-up (ParentCommand) is surfaced like an error
        task.error = exc
    events.put_nowait(("done", task))
