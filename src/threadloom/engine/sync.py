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
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from functools import partial
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from threadloom.constants import RETURN
from threadloom.engine import _drive_sync, caching
from threadloom.engine._drive_sync import result_of, saver_call
from threadloom.engine.callbacks import end_node, fail_node, start_node
from threadloom.engine.calls import (
    NOT_SAVED,
    CallOf,
    CallSite,
    call_outcome,
    save_call,
    settle_calls,
)
from threadloom.engine.core import Task
from threadloom.engine.effects import (
    NOTHING_READY,
    STEP_TIMED_OUT,
    Effect,
    PutWrites,
    StartTasks,
)
from threadloom.engine.lane import Lane, WorkerPool, concurrency_limit
from threadloom.engine.scratch import current_task
from threadloom.engine.tasks import TaskRunner

__all__ = ["drive", "pool_for_run", "result_of", "run_plain", "run_task", "way_to_run"]

_MAX_WORKERS = 32
_THREAD_PREFIX = "threadloom-task"


class _Shared:
    """One worker pool for top-level runs: starting threads for every run costs milliseconds."""

    pool: WorkerPool | None = None
    lock = threading.Lock()


_SHARED = _Shared()
# A forked child inherits the pool object but none of its threads: it starts its own.
os.register_at_fork(after_in_child=lambda: vars(_SHARED).update(pool=None, lock=threading.Lock()))


class _PoolThread(threading.local):
    on = False
    """Set in the threads of the run pools (``pool_for_run``): read without a Python call,
    where ``threading.current_thread().name`` ran two functions of ``threading`` per run."""


_POOL_THREAD = _PoolThread()


def _mark_pool_thread() -> None:
    _POOL_THREAD.on = True


def pool_for_run() -> ThreadPoolExecutor | WorkerPool:
    # A run started from inside a task (a subgraph, a graph called by a node) gets a pool of its
    # own: waiting on the shared pool from one of its own threads could starve it.
    if _POOL_THREAD.on:
        return ThreadPoolExecutor(
            _MAX_WORKERS,
            thread_name_prefix=f"{_THREAD_PREFIX}-nested",
            initializer=_mark_pool_thread,
        )
    with _SHARED.lock:
        if _SHARED.pool is None:
            _SHARED.pool = WorkerPool(
                _MAX_WORKERS, thread_name_prefix=_THREAD_PREFIX, initializer=_mark_pool_thread
            )
        return _SHARED.pool


def run_task(task: Task, runner: TaskRunner) -> None:
    """Run one task to its outcome (writes, interrupt or error), retrying as its policy says."""
    cache = runner.cache
    key = None if cache is None else caching.cache_key(task, cache, runner.cache_policy)
    if key is not None and caching.replay(task, key, cache.get([key[0]])):
        return
    attempt, first = 0, time.time()
    while True:
        attempt += 1
        pad = runner.prepare(task, attempt, first)
        node_run = start_node(task, pad) if runner.traced else None
        token = var_child_runnable_config.set(pad.config)
        try:
            running = current_task.set(pad)  # what ``task_context(pad)`` does, inlined
            try:
                try:
                    output = task.node.func(task.input, **runner.kwargs(task, pad))
                finally:
                    if pad.open_calls is not None:
                        settle_calls(pad)
                runner.succeed(task, pad, output)
            finally:
                current_task.reset(running)
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
        cache.set(entry)


def run_plain(task: Task, runner: TaskRunner) -> None:
    """``run_task`` for a task with nothing to retry, cache, inject, time or trace: one attempt.
    A graph node's task (``way_to_run``) turns its output into writes with ``runner.succeed``;
    a ``@task`` call (``CallOf.plain``) calls its function with the call's arguments, and its
    writes are those of ``calls._return_write``. As ``run_task`` would do
    (``tests/func/test_plain_call.py`` and ``tests/engine/test_plain_task.py`` compare them)."""
    pad = runner.prepare(task, 1, time.time())
    token = var_child_runnable_config.set(pad.config)
    try:
        running = current_task.set(pad)
        try:
            func = task.node.func
            call = type(func) is CallOf
            try:
                if call:
                    args, kwargs = task.input
                    output = func.func(*args, **kwargs)  # type: ignore[attr-defined]
                else:
                    output = func(task.input)
            finally:
                if pad.open_calls is not None:  # (the calls it started, as run_task)
                    settle_calls(pad)
            if call:
                task.writes = [*pad.writes, (RETURN, output)]
            else:
                runner.succeed(task, pad, output)
        finally:
            current_task.reset(running)
    except BaseException as exc:  # (as run_task: the task's context already reset)
        runner.failed(task, pad, exc, 1)  # (no retry policy: never a delay)
    finally:
        var_child_runnable_config.reset(token)


def way_to_run(task: Task, runner: TaskRunner) -> Callable[[Task, TaskRunner], None]:
    """``run_plain`` for a task of a node with nothing to retry or inject in a run that caches
    and traces nothing (``TaskRunner.plain_nodes``), when it has no timeout; else ``run_task``."""
    return run_plain if task.timeout is None and task.name in runner.plain_nodes else run_task


def drive(core: Generator[Effect, Any, None], saver: Any) -> Generator[tuple[str, Any], None, None]:
    """Carry out the run loop's effects, yielding ``(mode, payload)`` chunks as they come."""
    return _drive_sync.drive(core, saver, _Workers(saver))


class _Workers:
    """The tasks of the current step on threads, and the queue their outcomes and chunks use.

    A step's tasks and the ``@task`` calls each wait in a ``Lane`` that at most ``_MAX_WORKERS``
    pool jobs empty, started one by one as work is taken, rather than one pool job (and one
    ``Future``, with its lock and condition) per task: a 200-task fan-out cost more in futures
    than in running its tasks, and 20 quick calls more in waking threads than in running them.
    """

    __slots__ = ("calls", "deadline", "events", "saver", "steps")

    stopped = (GeneratorExit,)
    """What reaches the driver when its consumer stops the run (``close()``, a ``break``)."""

    def __init__(self, saver: Any) -> None:
        self.saver = saver
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.steps: Lane | None = None
        """The steps' tasks, on workers that start one another (``engine/lane.py``)."""
        self.deadline: float | None = None
        """When the current step must be done (``step_timeout``), in ``time.monotonic()``."""
        self.calls: Lane | None = None
        """``@task`` calls (never taken back: a caller waits on each)."""

    def next_event(self) -> tuple[str, Any]:
        if self.deadline is None:
            return self.events.get()
        try:  # what has arrived counts, even past the deadline
            return self.events.get(timeout=max(self.deadline - time.monotonic(), 0.0))
        except queue.Empty:
            return "done", STEP_TIMED_OUT

    def ready_event(self) -> tuple[str, Any]:
        try:
            return self.events.get_nowait()
        except queue.Empty:
            return NOTHING_READY

    def put(self, chunk: tuple[str, Any]) -> None:
        self.events.put(("chunk", chunk))

    def save(self, effect: PutWrites) -> None:
        saver_call(effect, self.saver)

    def start(self, effect: StartTasks) -> Task | None:
        if effect.step_timeout is not None:
            self.deadline = time.monotonic() + effect.step_timeout
        if effect.inline:  # an exception escaping the task (a bubble-up) escapes the run
            task, runner = effect.tasks[0], effect.runner
            way_to_run(task, runner)(task, runner)
            if self.events.empty():  # nothing to stream before its outcome: hand it back now
                return task
            self.events.put(("done", task))
            return None
        if self.steps is None:
            limit = min(concurrency_limit(effect.tasks) or _MAX_WORKERS, _MAX_WORKERS)
            self.steps = Lane(pool_for_run(), limit)
        runner, events = effect.runner, self.events
        context = copy_context()  # the caller's, as each task starts from it
        self.steps.add(  # a context each
            *[
                partial(
                    context.copy().run, _run_and_report, way_to_run(t, runner), t, runner, events
                )
                for t in effect.tasks
            ]
        )
        return None

    def call(self, task: Task, site: CallSite, saved: Any, runner: TaskRunner) -> Future[Any]:
        """Run a ``@task`` call on a worker (unless its result was saved); return its future."""
        if task.node.afunc is not None:  # its coroutine would be the result (LangGraph raises)
            raise RuntimeError(  # LangGraph's words first (a caller may match them), then ours
                f"In an sync context async tasks cannot be called: task {task.name!r} is async. "
                "Run the graph or entrypoint with ainvoke() / astream(), or make the task a "
                "plain def."
            )
        future: _CallFuture = _CallFuture()
        if saved is not NOT_SAVED:
            future.set_result(saved)
            return future
        if self.calls is None:  # chosen from the caller's thread: on our workers, a pool apart
            self.calls = Lane(pool_for_run(), _MAX_WORKERS)
        future.lane, future.job = (
            self.calls,
            partial(copy_context().run, _run_call, task, site, runner, future),
        )
        self.calls.add(future.job)
        return future

    def cancel(self, failed: Task | None) -> int:
        """Take back the tasks not started yet; return how many (they never report)."""
        return self.steps.take_back() if self.steps is not None else 0

    def drain(self) -> Iterator[tuple[str, Any]]:
        while True:
            try:
                kind, value = self.events.get_nowait()
            except queue.Empty:
                return
            if kind == "chunk":
                yield value

    def close(self) -> None:
        # a nested run's own pools (the shared one is a WorkerPool: pool_for_run)
        if self.steps is not None and isinstance(pool := self.steps.pool, ThreadPoolExecutor):
            pool.shutdown(wait=False, cancel_futures=True)
        if self.calls is not None and isinstance(pool := self.calls.pool, ThreadPoolExecutor):
            pool.shutdown(wait=False)  # a call still queued runs: someone may wait


_PENDING, _FINISHED = "PENDING", "FINISHED"
"""``concurrent.futures.Future._state`` values (``_base.PENDING``, ``_base.FINISHED``)."""

_LISTS = frozenset(("_waiters", "_done_callbacks"))
"""``Future``'s lists, made on demand by a call's future (``_CallFuture.__getattr__``)."""

_CONDITIONS = threading.Lock()
"""Guards the making of a call future's condition against its settling (``_CallFuture``)."""


class _CallFuture(Future[Any]):
    """A ``@task`` call's future: waited on before a worker took the call, it runs the call in
    the waiting thread (``Lane.run_here``), so calls that wait on the calls they make never all
    wait for workers, and a quick call costs no thread hand-over. Not with a ``timeout``: a
    call cannot be stopped midway, so the waiter only waits, and times out when it should.

    Its ``threading.Condition`` (a lock, a Python ``__init__``, a ``notify_all`` when settled:
    most of what a quick call's future cost) is made only when something needs it: a thread
    waiting for a call another runs, a done callback, ``concurrent.futures.wait``, a cancel.
    A future settled before that is settled without one, under a lock that the making of the
    condition also takes: whoever makes it afterwards sees the future settled."""

    lane: Lane | None = None
    job: Any = None
    _made: threading.Condition | None = None
    # What ``Future.__init__`` sets, as class attributes until set (a call's future is made
    # without a Python ``__init__``); its two lists are made when first read (``__getattr__``).
    _state = _PENDING
    _result: Any = None
    _exception: BaseException | None = None

    __init__ = object.__init__

    def __getattr__(self, name: str) -> Any:
        # ``_waiters`` and ``_done_callbacks``, read by ``Future``'s methods under the
        # condition's lock only (so never made twice at once)
        if name in _LISTS:
            made: list[Any] = []
            setattr(self, name, made)
            return made
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        made = self._made
        if made is None:
            with _CONDITIONS:
                made = self._made
                if made is None:
                    made = self._made = threading.Condition()
        return made

    def set_result(self, result: Any) -> None:
        with _CONDITIONS:
            if self._made is None:  # nobody waits, watches or cancelled: nothing to signal
                self._result, self._state = result, _FINISHED
                return
        super().set_result(result)

    def set_exception(self, exception: BaseException | None) -> None:
        with _CONDITIONS:
            if self._made is None:
                self._exception, self._state = exception, _FINISHED
                return
        super().set_exception(exception)

    def result(self, timeout: float | None = None) -> Any:
        lane, job = self.lane, self.job
        if timeout is None and job is not None and lane is not None and self._state == _PENDING:
            self.job = None  # one try: a worker may run it meanwhile
            lane.run_here(job)
        if self._state == _FINISHED:  # final: read without the lock (set before the state)
            if self._exception is not None:
                raise self._exception
            return self._result
        return super().result(timeout)


def _run_and_report(
    way: Callable[[Task, TaskRunner], None],
    task: Task,
    runner: TaskRunner,
    events: queue.SimpleQueue[Any],
) -> None:
    try:
        way(task, runner)
    except BaseException as exc:  # a bubble-up (ParentCommand) is surfaced like an error
        task.error = exc
    finally:
        events.put(("done", task))


def _run_call(task: Task, site: CallSite, runner: TaskRunner, future: _CallFuture) -> None:
    future.job = None  # running: no waiter runs it now (and future -> job -> future is a cycle)
    try:
        # (a call's node function is a CallOf)
        if site.plain and task.node.func.plain and task.timeout is None:  # type: ignore[attr-defined]
            run_plain(task, runner)
        else:
            run_task(task, runner)
        save_call(site, task)
        future.set_result(call_outcome(site, task))
    except BaseException as exc:
        future.set_exception(exc)
