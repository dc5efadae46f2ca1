"""A queue of jobs for the sync driver's worker threads, whose workers start one another.

Waking a pool thread costs far more CPU than running a small node or ``@task`` (a lock, a
semaphore, a context switch): a step of 20 quick calls that wakes one thread per call spends most
of its time handing work over. A ``Lane`` starts one worker, and a worker starts the next only
when it takes a job while more wait and no other worker is free to take them. So a burst of quick
jobs runs on one or two threads, and still no job waits for another one to finish: the worker
that takes a job has made sure, before running it, that a free worker exists for the rest.
A thread about to wait for a job no worker took yet runs it itself (``run_here``): a ``@task``
call waiting on the calls it made never waits for workers all busy waiting the same way.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threadloom.engine.core import Task

__all__ = ["Lane", "WorkerPool", "concurrency_limit"]


def concurrency_limit(tasks: Sequence[Task]) -> int | None:
    """How many of a run's step tasks may run at once: the config's ``max_concurrency``, read
    from the tasks' config (each carries the run's, as LangGraph reads it), None when unset."""
    limit = tasks[0].config.get("max_concurrency") if tasks else None
    return None if limit is None else max(1, int(limit))


class Lane:
    """Jobs run on at most ``limit`` threads of ``pool``, in the order they were added."""

    __slots__ = ("free", "jobs", "limit", "lock", "pool", "workers")

    def __init__(self, pool: ThreadPoolExecutor | WorkerPool, limit: int) -> None:
        self.pool = pool
        self.limit = limit
        self.jobs: deque[Callable[[], object]] = deque()
        self.workers = 0
        """Pool jobs running ``_work`` (started and not returned)."""
        self.free = 0
        """Those of them not running a job: each will take a waiting job, if any, next."""
        self.lock = threading.Lock()

    def add(self, *jobs: Callable[[], object]) -> None:
        """Run ``jobs`` on workers: free ones, or new ones while fewer than ``limit`` run."""
        with self.lock:
            self.jobs.extend(jobs)
            # count the new worker in before it starts, so nobody starts it twice
            start = self.free <= 0 and self.workers < self.limit
            if start:
                self.workers += 1
                self.free += 1
        if start:
            self.pool.submit(self._work)

    def run_here(self, job: Callable[[], object]) -> bool:
        """Run ``job`` in this thread if no worker took it yet; say whether it ran here."""
        with self.lock:
            # looked for first: a failed ``deque.remove`` builds its message from the job's repr,
            # which for a call's job is the repr of its task, config and all (most of the cost
            # of a quick ``@task`` call whose job a worker took)
            if job not in self.jobs:  # a worker has it (or had it)
                return False
            self.jobs.remove(job)
        job()
        return True

    def take_back(self) -> int:
        """Drop the jobs no worker has taken yet; return how many."""
        with self.lock:
            taken = len(self.jobs)
            self.jobs.clear()
        return taken

    def _start_another(self) -> None:
        try:
            self.pool.submit(self._work)
        except RuntimeError:  # the pool was shut down (its run closed): this worker goes on alone
            with self.lock:
                self.workers -= 1
                self.free -= 1

    def _work(self) -> None:
        # one lock section per job: the one that marks this worker free after a job also takes
        # the next job (a 200-task fan-out passes here 200 times)
        lock, jobs = self.lock, self.jobs
        lock.acquire()
        try:
            while True:
                if not jobs:
                    self.workers -= 1
                    self.free -= 1
                    return
                job = jobs.popleft()
                self.free -= 1
                # as ``add`` (once a job): most jobs leave a free worker behind
                start = bool(jobs) and self.free <= 0 and self.workers < self.limit
                if start:
                    self.workers += 1
                    self.free += 1
                lock.release()
                try:
                    if start:  # before running ours, which may block for long
                        self._start_another()
                    job()
                finally:
                    lock.acquire()
                    self.free += 1
        finally:
            lock.release()


class WorkerPool:
    """Threads that run the ``Lane`` workers of top-level runs: what a ``ThreadPoolExecutor``
    does for them, less the ``Future`` a Lane never reads (its jobs report their own outcome).

    ``submit(fn)`` runs ``fn`` on a thread that will be idle, else on a new thread while fewer
    than ``max_workers`` exist, else once a thread is free: the executor's rule (its idle
    semaphore is ``idle`` here). A submit is one lock round and a C queue put, where the
    executor made a future (a condition and its lock), a work item and an idle-semaphore round on
    each side: ~350 opcodes and some twenty stdlib functions per submit, the first call of every
    functional invoke and step fan-out paying them cold. At interpreter exit the threads finish
    their jobs and are joined, as the executor's are (``threading._register_atexit``)."""

    __slots__ = (
        "closed",
        "idle",
        "initializer",
        "jobs",
        "lock",
        "max_workers",
        "prefix",
        "threads",
    )

    def __init__(
        self,
        max_workers: int,
        thread_name_prefix: str,
        initializer: Callable[[], object] | None = None,
    ) -> None:
        self.max_workers = max_workers
        self.prefix = thread_name_prefix
        self.initializer = initializer
        """Called first in each of its threads (as ``ThreadPoolExecutor``'s)."""
        self.jobs: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.idle = 0
        """Threads done with their last job, less the submits since that counted on one."""
        self.threads: list[threading.Thread] = []
        self.closed = False
        threading._register_atexit(self.shutdown)  # type: ignore[attr-defined]

    def submit(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on one of the pool's threads (RuntimeError once the pool is shut down)."""
        thread = None
        with self.lock:
            if self.closed:
                raise RuntimeError("cannot schedule new jobs after shutdown")
            if self.idle > 0:
                self.idle -= 1
            elif len(self.threads) < self.max_workers:
                name = f"{self.prefix}_{len(self.threads)}"
                thread = threading.Thread(target=self._run, name=name)
                self.threads.append(thread)
        self.jobs.put(fn)
        if thread is not None:
            thread.start()

    def shutdown(self) -> None:
        """Refuse new jobs; the threads run the jobs submitted, then stop (joined)."""
        with self.lock:
            self.closed = True
            threads = list(self.threads)
        self.jobs.put(None)
        for thread in threads:
            thread.join()

    def _run(self) -> None:
        if self.initializer is not None:
            self.initializer()
        jobs, lock = self.jobs, self.lock
        while (fn := jobs.get()) is not None:
            with contextlib.suppress(BaseException):  # (a Lane's jobs report their own errors)
                fn()
            del fn  # (what it holds is freed now, not when the next job comes)
            with lock:
                self.idle += 1
        jobs.put(None)  # the next thread stops too
