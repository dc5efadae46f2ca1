"""The async driver: the twin of ``engine/sync.py`` on asyncio.

The effect loop is ``_drive_async.py`` (the sync one is generated from it); what is here is how
asyncio waits. Async nodes are awaited as asyncio tasks; sync nodes run in the default executor
with the task's context copied. Saver calls use the saver's ``a*`` methods, so an async saver is
never called from sync code. When a task fails, the async tasks still running are cancelled
(a sync node's thread cannot be stopped: it finishes and its writes are kept).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import time
from collections.abc import AsyncGenerator, Generator
from contextvars import Context, copy_context
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from threadloom.engine import _drive_async, caching
from threadloom.engine._drive_async import result_of, saver_call
from threadloom.engine.callbacks import aend_node, afail_node, astart_node
from threadloom.engine.calls import (
    NOT_SAVED,
    CallSite,
    asettle_calls,
    call_outcome,
    save_call,
)
from threadloom.engine.core import Task
from threadloom.engine.effects import (
    NOTHING_READY,
    STEP_TIMED_OUT,
    Effect,
    PutWrites,
    StartTasks,
)
from threadloom.engine.lane import concurrency_limit
from threadloom.engine.scratch import task_context
from threadloom.engine.tasks import TaskRunner
from threadloom.engine.timeouts import bounded
from threadloom.errors import GraphBubbleUp

__all__ = ["arun_task", "drive", "result_of"]


async def arun_task(task: Task, runner: TaskRunner) -> None:
    """Run one task to its outcome (writes, interrupt or error), retrying as its policy says."""
    key = caching.cache_key(task, runner.cache, runner.cache_policy)
    if key is not None and caching.replay(task, key, await runner.cache.aget([key[0]])):
        return
    attempt, first = 0, time.time()
    loop = asyncio.get_running_loop()
    while True:
        attempt += 1
        pad = runner.prepare(task, attempt, first)
        node_run = await astart_node(task, pad) if runner.traced else None
        token = var_child_runnable_config.set(pad.config)
        try:
            with task_context(pad):
                kwargs = runner.kwargs(task, pad)
                try:
                    if pad.clock is not None and task.node.afunc is not None:
                        running = task.node.afunc(task.input, **kwargs)
                        output = await bounded(running, pad.clock, task.name)
                    elif task.node.afunc is not None:
                        output = await task.node.afunc(task.input, **kwargs)
                    else:
                        ctx = copy_context()
                        call = functools.partial(ctx.run, task.node.func, task.input, **kwargs)
                        output = await loop.run_in_executor(None, call)
                except BaseException as exc:
                    if pad.open_calls is not None:
                        await asettle_calls(pad, not isinstance(exc, GraphBubbleUp))
                    raise
                if pad.open_calls is not None:
                    await asettle_calls(pad, False)
                runner.succeed(task, pad, output)
            if node_run is not None:
                await aend_node(node_run, output)
            break
        except BaseException as exc:
            if node_run is not None:
                await afail_node(node_run, exc)
            if isinstance(exc, asyncio.CancelledError):
                current = asyncio.current_task()
                if current is None or current.cancelling():  # a cancel from outside the node
                    raise
            delay = runner.failed(task, pad, exc, attempt)
            if delay is None:
                return
        finally:
            var_child_runnable_config.reset(token)
        await asyncio.sleep(delay)
    if key is not None and (entry := caching.cache_entry(task, key)):
        await runner.cache.aset(entry)


def drive(core: Generator[Effect, Any, None], saver: Any) -> AsyncGenerator[tuple[str, Any], None]:
    """Carry out the run loop's effects, yielding ``(mode, payload)`` chunks as they come."""
    return _drive_async.drive(core, saver, _Workers(saver))


class _Workers:
    """The current step's asyncio tasks, and the queue their outcomes and chunks come through."""

    __slots__ = ("deadline", "events", "loop", "running", "saver", "slots")

    stopped = (GeneratorExit, asyncio.CancelledError)
    """What reaches the driver when its consumer stops the run (``aclose()``, a cancel)."""

    def __init__(self, saver: Any) -> None:
        self.saver = saver
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.running: dict[asyncio.Future[None], Task] = {}
        self.deadline: float | None = None
        """When the current step must be done (``step_timeout``), on the event loop's clock."""
        self.slots: asyncio.Semaphore | None = None
        """Taken by each step task while it runs, under ``max_concurrency`` (None: no limit)."""

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:  # a sync node on an executor thread
            return False

    async def next_event(self) -> tuple[str, Any]:
        if self.deadline is None or not self.events.empty():  # what has arrived counts
            return await self.events.get()
        try:
            left = max(self.deadline - self.loop.time(), 0.0)
            return await asyncio.wait_for(self.events.get(), left)
        except TimeoutError:
            return "done", STEP_TIMED_OUT

    def ready_event(self) -> tuple[str, Any]:
        try:
            return self.events.get_nowait()
        except asyncio.QueueEmpty:
            return NOTHING_READY

    def put(self, chunk: tuple[str, Any]) -> None:
        if self._on_loop():
            self.events.put_nowait(("chunk", chunk))
        else:
            self.loop.call_soon_threadsafe(self.events.put_nowait, ("chunk", chunk))

    def save(self, effect: PutWrites) -> Any:
        saved = saver_call(effect, self.saver)
        if self._on_loop():
            return saved
        return asyncio.run_coroutine_threadsafe(saved, self.loop).result()

    async def start(self, effect: StartTasks) -> Task | None:
        if effect.step_timeout is not None:
            self.deadline = self.loop.time() + effect.step_timeout
        if effect.inline:  # an exception escaping the task (a bubble-up) escapes the run
            task = effect.tasks[0]
            await arun_task(task, effect.runner)
            if self.events.empty():  # nothing to stream before its outcome: hand it back now
                return task
            self.events.put_nowait(("done", task))
            return None
        running = {f: t for f, t in self.running.items() if not f.done()}  # (an error handler
        # starts in the middle of its step, beside the tasks still running)
        if self.slots is None and (limit := concurrency_limit(effect.tasks)) is not None:
            self.slots = asyncio.Semaphore(limit)
        for task in effect.tasks:
            job = _run_and_report(task, effect.runner, self.events, self.slots)
            running[asyncio.ensure_future(job)] = task
        self.running = running
        return None

    def call(self, task: Task, site: CallSite, saved: Any, runner: TaskRunner) -> Any:
        """Run a ``@task`` call as an asyncio task (unless its result was saved); return its
        future: an asyncio one on the event loop, a ``concurrent.futures.Future`` for a call
        from a sync node's thread (the call still runs on the loop, in the caller's context)."""
        if self._on_loop():
            if saved is NOT_SAVED:
                return asyncio.ensure_future(_arun_call(task, site, runner))
            done: asyncio.Future[Any] = self.loop.create_future()
            done.set_result(saved)
            return done
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if saved is not NOT_SAVED:
            future.set_result(saved)
        else:
            context = copy_context()
            args = (self.loop, task, site, runner, future, context)
            self.loop.call_soon_threadsafe(_start_call, *args)
        return future

    def cancel(self, failed: Task | None) -> int:
        cancelled = 0
        for future, task in self.running.items():
            # a sync node runs in a worker thread, which cannot be stopped: as on the sync
            # driver it finishes, and its writes are kept (cancelling would only drop them)
            if not future.done() and task is not failed and task.node.afunc is not None:
                future.cancel()  # its writes are lost
                cancelled += 1
        return cancelled

    def drain(self) -> list[tuple[str, Any]]:
        chunks = []
        while not self.events.empty():
            kind, value = self.events.get_nowait()
            if kind == "chunk":
                chunks.append(value)
        return chunks

    async def close(self) -> None:
        """Cancel the tasks still running and wait until they have stopped (as LangGraph does,
        so a node's cleanup has run when the caller's cancel or ``aclose()`` returns)."""
        pending = [future for future in self.running if not future.done()]
        for future in pending:
            future.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def _run_and_report(
    task: Task, runner: TaskRunner, events: asyncio.Queue[Any], slots: asyncio.Semaphore | None
) -> None:
    try:
        if slots is None:
            await arun_task(task, runner)
        else:
            async with slots:
                await arun_task(task, runner)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # a bubble-up (ParentCommand) is surfaced like an error
        task.error = exc
    events.put_nowait(("done", task))


async def _arun_call(task: Task, site: CallSite, runner: TaskRunner) -> Any:
    await arun_task(task, runner)
    if inspect.isawaitable(saved := save_call(site, task)):
        await saved
    return call_outcome(site, task, asyncio.get_running_loop().call_soon)


def _start_call(
    loop: asyncio.AbstractEventLoop,
    task: Task,
    site: CallSite,
    runner: TaskRunner,
    future: concurrent.futures.Future[Any],
    context: Context,
) -> None:
    """Start a call made from a thread on the loop, its outcome going to ``future``."""
    running = loop.create_task(_arun_call(task, site, runner), context=context)

    def report(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            future.cancel()
        elif (error := done.exception()) is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())

    running.add_done_callback(report)
