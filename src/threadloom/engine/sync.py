"""The sync driver: carries out a core's effects with threads and blocking saver calls.

It decides nothing about graph semantics: it starts the tasks the run loop asks for (inline when
the loop says so, else on a thread pool), hands back each outcome as it arrives while streaming
the live chunks tasks produce, and makes the saver calls the core asks for. ``engine/aio.py`` is
its asyncio twin and reads line for line the same.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from threadloom.engine.core import Task
from threadloom.engine.effects import (
    CancelTasks,
    Effect,
    Emit,
    Flush,
    GetTuple,
    ListTuples,
    NextDone,
    Put,
    PutStep,
    PutWrites,
    SaverEffect,
    StartTasks,
    Wire,
)
from threadloom.engine.scratch import task_context
from threadloom.engine.tasks import TaskRunner

__all__ = ["drive", "pool_for_run", "result_of", "run_task"]

_MAX_WORKERS = 32
_THREAD_PREFIX = "threadloom-task"


class _Shared:
    """One worker pool for top-level runs: starting threads for every run costs milliseconds."""

    pool: ThreadPoolExecutor | None = None
    lock = threading.Lock()


_SHARED = _Shared()


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


def _saver_call(effect: SaverEffect, saver: Any) -> Any:
    match effect:
        case PutWrites(config, writes, task_id, task_path):
            return saver.put_writes(config, writes, task_id, task_path)
        case PutStep(config, writes, checkpoint, metadata, new_versions):
            return saver.put_step(config, writes, checkpoint, metadata, new_versions)
        case Put(config, checkpoint, metadata, new_versions):
            return saver.put(config, checkpoint, metadata, new_versions)
        case GetTuple(config):
            return saver.get_tuple(config)
        case ListTuples(config, filter, before, limit):
            return list(saver.list(config, filter=filter, before=before, limit=limit))


def result_of(core: Generator[SaverEffect, Any, Any], saver: Any) -> Any:
    """Run a core that only talks to the saver (the state API); return what it returns."""
    result: Any = None
    while True:
        try:
            effect = core.send(result)
        except StopIteration as done:
            return done.value
        result = _saver_call(effect, saver)


def drive(core: Generator[Effect, Any, None], saver: Any) -> Iterator[tuple[str, Any]]:
    """Carry out the run loop's effects, yielding ``(mode, payload)`` chunks as they come."""
    workers = _Workers(saver)
    result: Any = None
    try:
        while True:
            try:
                effect = core.send(result)
            except StopIteration:
                return
            result = None
            kind = type(effect)
            if kind is Emit:
                yield effect.mode, effect.payload  # type: ignore[union-attr]
            elif kind is NextDone:
                while (item := workers.events.get())[0] == "chunk":
                    yield item[1]
                result = item[1]
            elif kind is StartTasks:
                workers.start(effect)  # type: ignore[arg-type]
            elif kind is CancelTasks:
                result = workers.cancel()
            elif kind is Wire:
                effect.connect(workers.put, workers.save)  # type: ignore[union-attr]
            elif kind is Flush:
                yield from workers.drain()
            else:
                result = _saver_call(effect, saver)  # type: ignore[arg-type]
    finally:
        workers.close()


class _Workers:
    """The tasks of the current step on threads, and the queue their outcomes and chunks use."""

    __slots__ = ("events", "futures", "pool", "saver")

    def __init__(self, saver: Any) -> None:
        self.saver = saver
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Future[None]] = []

    def put(self, chunk: tuple[str, Any]) -> None:
        self.events.put(("chunk", chunk))

    def save(self, effect: PutWrites) -> None:
        _saver_call(effect, self.saver)

    def start(self, effect: StartTasks) -> None:
        if effect.inline:  # an exception escaping the task (a bubble-up) escapes the run
            run_task(effect.tasks[0], effect.runner)
            self.events.put(("done", effect.tasks[0]))
            return
        self.pool = self.pool or pool_for_run()
        submit = self.pool.submit
        self.futures = [  # each task in a context of its own
            submit(copy_context().run, _run_and_report, task, effect.runner, self.events)
            for task in effect.tasks
        ]

    def cancel(self) -> int:
        return sum(1 for f in self.futures if f.cancel())  # only tasks not started yet

    def drain(self) -> Iterator[tuple[str, Any]]:
        while True:
            try:
                kind, value = self.events.get_nowait()
            except queue.Empty:
                return
            if kind == "chunk":
                yield value

    def close(self) -> None:
        if self.pool is not None and self.pool is not _SHARED.pool:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _run_and_report(task: Task, runner: TaskRunner, events: queue.SimpleQueue[Any]) -> None:
    try:
        run_task(task, runner)
    except BaseException as exc:  # a bubble-up (ParentCommand) is surfaced like an error
        task.error = exc
    finally:
        events.put(("done", task))
