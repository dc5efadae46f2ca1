"""The sync driver: runs a ``Run``'s tasks on threads and carries out its effects.

It decides nothing about graph semantics: it asks the run for tasks, runs them (inline when there
is one, on a thread pool when there are several), hands back each outcome as it arrives, saves what
the run asks to save and yields what it asks to emit. ``engine/aio.py`` is its asyncio twin.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from threadloom.engine.calls import CallSite
from threadloom.engine.core import Effect, Emit, Put, PutWrites, Task
from threadloom.engine.messages import StreamMessagesHandler, attach
from threadloom.engine.run import Run
from threadloom.engine.scratch import task_context
from threadloom.engine.tasks import TaskRunner

__all__ = ["drive", "run_task"]

_MAX_WORKERS = 32
SUBGRAPH = "__subgraph__"  # the mode of chunks forwarded by subgraphs (see pregel.StreamRelay)
_THREAD_PREFIX = "threadloom-task"


class _Shared:
    """One worker pool for top-level runs: starting threads for every run costs milliseconds."""

    pool: ThreadPoolExecutor | None = None
    lock = threading.Lock()


_SHARED = _Shared()
# A forked child inherits the pool object but none of its threads: it starts its own.
os.register_at_fork(after_in_child=lambda: vars(_SHARED).update(pool=None, lock=threading.Lock()))


def pool_for_run() -> ThreadPoolExecutor:
    # A run started from inside a task (a subgraph, a graph called by a node) gets a pool of its
    # own: waiting on the shared pool from one of its own threads could starve it.
    if threading.current_thread().name.startswith(_THREAD_PREFIX):
        return ThreadPoolExecutor(_MAX_WORKERS, thread_name_prefix=f"{_THREAD_PREFIX}-nested")
    with _SHARED.lock:
        if _SHARED.pool is None:
            _SHARED.pool = ThreadPoolExecutor(_MAX_WORKERS, thread_name_prefix=_THREAD_PREFIX)
        return _SHARED.pool


def run_task(task: Task, runner: TaskRunner) -> None:
    """Run one task to its outcome (writes, interrupt or error), retrying as its policy says."""
    attempt, first = 0, time.time()
    while True:
        attempt += 1
        pad = runner.prepare(task, attempt, first)
        token = var_child_runnable_config.set(task.config)
        try:
            with task_context(pad):
                output = task.node.func(task.input, **runner.kwargs(task, pad))
                runner.succeed(task, pad, output)
            return
        except BaseException as exc:
            delay = runner.failed(task, pad, exc, attempt)
            if delay is None:
                return
        finally:
            var_child_runnable_config.reset(token)
        time.sleep(delay)


def _carry_out(effect: Effect, saver: Any) -> tuple[str, Any] | None:
    kind = type(effect)
    if kind is Emit:
        return effect.mode, effect.payload  # type: ignore[union-attr]
    if kind is PutWrites:
        saver.put_writes(effect.config, effect.writes, effect.task_id, effect.task_path)  # type: ignore[union-attr]
    elif kind is Put:
        saver.put(effect.config, effect.checkpoint, effect.metadata, effect.new_versions)  # type: ignore[union-attr]
    return None


def drive(
    run: Run, saver: Any, runner: TaskRunner, start: list[Effect], *, relay: Any = None
) -> Iterator[tuple[str, Any]]:
    """Step ``run`` to its end, yielding ``(mode, payload)`` chunks as they are produced."""
    events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    modes = run.options.modes
    if "custom" in modes:
        runner.writer = lambda chunk: events.put(("chunk", ("custom", chunk)))

    def emit(mode: str, payload: Any) -> None:
        if mode in modes:
            events.put(("chunk", (mode, payload)))

    if relay is not None:  # subgraphs forward their chunks into this run's stream
        relay.put = lambda ns, mode, payload: events.put(("chunk", (SUBGRAPH, (ns, mode, payload))))
    if "messages" in modes:
        runner.messages = StreamMessagesHandler(emit)
        attach(run.config, runner.messages)  # type: ignore[arg-type]
    # with token or custom streaming, even a lone task runs on a worker, so chunks flow live
    inline_ok = not ({"messages", "custom"} & modes)

    pool: ThreadPoolExecutor | None = None
    try:
        for effect in start:
            if (chunk := _carry_out(effect, saver)) is not None:
                yield chunk
        while run.status == "pending":
            tasks = run.tick()
            for effect in run.tick_effects():
                if (chunk := _carry_out(effect, saver)) is not None:
                    yield chunk
            if tasks is None:
                break
            runner.new_step(run.checkpoint["id"], _call_site_factory(run, saver, runner, emit))
            if len(tasks) == 1 and inline_ok:
                run_task(tasks[0], runner)
                yield from _drain(events)
                for effect in run.task_finished(tasks[0]):
                    if (chunk := _carry_out(effect, saver)) is not None:
                        yield chunk
            else:
                pool = pool or pool_for_run()
                futures = [
                    pool.submit(copy_context().run, _run_and_report, task, runner, events)
                    for task in tasks
                ]
                remaining, failed = len(tasks), False
                while remaining:
                    kind, value = events.get()
                    if kind == "chunk":
                        yield value
                        continue
                    remaining -= 1
                    if value.error is not None and not failed:
                        failed = True  # tasks that have not started yet never will
                        remaining -= sum(1 for f in futures if f.cancel())
                    for effect in run.task_finished(value):
                        if (chunk := _carry_out(effect, saver)) is not None:
                            yield chunk
            for effect in run.end_step():
                if (chunk := _carry_out(effect, saver)) is not None:
                    yield chunk
        yield from _finish(run, saver)
    finally:
        if pool is not None and pool is not _SHARED.pool:
            pool.shutdown(wait=False, cancel_futures=True)


def _run_and_report(task: Task, runner: TaskRunner, events: queue.SimpleQueue[Any]) -> None:
    try:
        run_task(task, runner)
    except BaseException as exc:  # a bubble-up (ParentCommand) is surfaced like an error
        task.error = exc
    finally:
        events.put(("done", task))


def _drain(events: queue.SimpleQueue[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    while True:
        try:
            _, chunk = events.get_nowait()
        except queue.Empty:
            return
        yield chunk


def _call_site_factory(run: Run, saver: Any, runner: TaskRunner, emit: Any) -> Any:
    def make() -> CallSite:
        site = CallSite(*run.call_site(), save=_saver_of(run, saver), emit=emit)
        site.runner = runner
        return site

    return make


def _saver_of(run: Run, saver: Any) -> Any:
    config = run.checkpoint_config

    def save(task_id: str, task_path: str, writes: list[tuple[str, Any]]) -> None:
        if saver is not None and run.options.durability != "exit":
            saver.put_writes(config, writes, task_id, task_path)

    return save


def _finish(run: Run, saver: Any) -> Iterator[tuple[str, Any]]:
    effects = run.exit_effects()
    if run.status == "interrupt_before" or run.status == "interrupt_after":
        effects += run.breakpoint_chunks()
    for effect in effects:
        if (chunk := _carry_out(effect, saver)) is not None:
            yield chunk
    if run.errors:
        raise run.errors[0].error  # type: ignore[misc]
