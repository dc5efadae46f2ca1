"""The sync driver: carries out a core's effects with threads and blocking saver calls.

It decides nothing about graph semantics: it starts the tasks the run loop asks for (inline when
the loop says so, else on a thread pool), hands back each outcome as it arrives while streaming
the live chunks tasks produce, and makes the saver calls the core asks for. The effect loop itself
is ``_drive_sync.py``, generated from the async one; what is here is how threads wait.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import Context, copy_context
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from threadloom.engine import _drive_sync, caching
from threadloom.engine._drive_sync import result_of, saver_call
from threadloom.engine.callbacks import end_node, fail_node, start_node
from threadloom.engine.calls import NOT_SAVED, CallSite, call_outcome, save_call
from threadloom.engine.core import Task
from threadloom.engine.effects import STEP_TIMED_OUT, Effect, PutWrites, StartTasks
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
    key = caching.cache_key(task, runner.cache, runner.cache_policy)
    if key is not None and caching.replay(task, key, runner.cache.get([key[0]])):
        return
    attempt, first = 0, time.time()
    while True:
        attempt += 1
        pad = runner.prepare(task, attempt, first)
        node_run = start_node(task, pad) if runner.traced else None
        token = var_child_runnable_config.set(pad.config)
        try:
            with task_context(pad):
                output = task.node.func(task.input, **runner.kwargs(task, pad))
                runner.succeed(task, pad, output)
            if node_run is not None:
                end_node(node_run, output)
            break
        except BaseException as exc:
            if node_run is not None:
                fail_node(node_run, exc)
            delay = runner.failed(task, pad, exc, attempt)
            if delay is None:
                return
        finally:
            var_child_runnable_config.reset(token)
        time.sleep(delay)
    if key is not None and (entry := caching.cache_entry(task, key)):
        runner.cache.set(entry)


def drive(core: Generator[Effect, Any, None], saver: Any) -> Generator[tuple[str, Any], None, None]:
    """Carry out the run loop's effects, yielding ``(mode, payload)`` chunks as they come."""
    return _drive_sync.drive(core, saver, _Workers(saver))


class _Workers:
    """The tasks of the current step on threads, and the queue their outcomes and chunks use.

    A step's tasks wait in one queue that at most ``_MAX_WORKERS`` pool jobs empty, rather than
    one pool job (and one ``Future``, with its lock and condition) per task: a 200-task fan-out
    cost more in futures than in running its tasks.
    """

    __slots__ = (
        "call_jobs",
        "call_pool",
        "calls",
        "deadline",
        "events",
        "lock",
        "pending",
        "pool",
        "saver",
    )

    stopped = (GeneratorExit,)
    """What reaches the driver when its consumer stops the run (``close()``, a ``break``)."""

    def __init__(self, saver: Any) -> None:
        self.saver = saver
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.pool: ThreadPoolExecutor | None = None
        self.pending: deque[Task] = deque()
        """The current step's tasks no worker has taken yet."""
        self.deadline: float | None = None
        """When the current step must be done (``step_timeout``), in ``time.monotonic()``."""
        self.calls: deque[tuple[Context, Task, CallSite, Future[Any]]] = deque()
        """``@task`` calls no worker has taken yet (never cancelled: a caller waits on each)."""
        self.call_jobs = 0
        """Pool jobs emptying ``calls`` (at most ``_MAX_WORKERS``)."""
        self.call_pool: ThreadPoolExecutor | None = None
        self.lock = threading.Lock()

    def next_event(self) -> tuple[str, Any]:
        if self.deadline is None:
            return self.events.get()
        try:  # what has arrived counts, even past the deadline
            return self.events.get(timeout=max(self.deadline - time.monotonic(), 0.0))
        except queue.Empty:
            return "done", STEP_TIMED_OUT

    def put(self, chunk: tuple[str, Any]) -> None:
        self.events.put(("chunk", chunk))

    def save(self, effect: PutWrites) -> None:
        saver_call(effect, self.saver)

    def start(self, effect: StartTasks) -> None:
        if effect.step_timeout is not None:
            self.deadline = time.monotonic() + effect.step_timeout
        if effect.inline:  # an exception escaping the task (a bubble-up) escapes the run
            run_task(effect.tasks[0], effect.runner)
            self.events.put(("done", effect.tasks[0]))
            return
        self.pool = self.pool or pool_for_run()
        self.pending = pending = deque(effect.tasks)
        runner, events = effect.runner, self.events
        context = copy_context()  # the caller's, as each task starts from it

        def work() -> None:
            while True:
                try:
                    task = pending.popleft()
                except IndexError:
                    return
                context.copy().run(_run_and_report, task, runner, events)  # a context each

        for _ in range(min(len(pending), _MAX_WORKERS)):
            self.pool.submit(work)

    def call(self, task: Task, site: CallSite, saved: Any) -> Future[Any]:
        """Run a ``@task`` call on a worker (unless its result was saved); return its future."""
        future: Future[Any] = Future()
        if saved is not NOT_SAVED:
            future.set_result(saved)
            return future
        with self.lock:
            self.calls.append((copy_context(), task, site, future))
            if self.call_jobs >= _MAX_WORKERS:  # a running job takes it
                return future
            self.call_jobs += 1
            # chosen from the caller's thread: a caller on one of our workers gets its own pool
            self.call_pool = pool = self.call_pool or pool_for_run()
        pool.submit(self._take_calls)
        return future

    def _take_calls(self) -> None:
        while True:
            with self.lock:
                if not self.calls:
                    self.call_jobs -= 1
                    return
                context, task, site, future = self.calls.popleft()
            context.run(_run_call, task, site, future)

    def cancel(self, failed: Task | None) -> int:
        """Take back the tasks not started yet; return how many (they never report)."""
        taken = 0
        while True:
            try:
                self.pending.popleft()
            except IndexError:
                return taken
            taken += 1

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
        if self.call_pool is not None and self.call_pool is not _SHARED.pool:
            self.call_pool.shutdown(wait=False)  # a call still queued runs: someone may wait


def _run_and_report(task: Task, runner: TaskRunner, events: queue.SimpleQueue[Any]) -> None:
    try:
        run_task(task, runner)
    except BaseException as exc:  # a bubble-up (ParentCommand) is surfaced like an error
        task.error = exc
    finally:
        events.put(("done", task))


def _run_call(task: Task, site: CallSite, future: Future[Any]) -> None:
    try:
        run_task(task, site.runner)
        save_call(site, task)
        future.set_result(call_outcome(site, task))
    except BaseException as exc:
        future.set_exception(exc)
