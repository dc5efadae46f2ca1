"""``engine/lane.py``'s ``WorkerPool``, the top-level runs' threads: the rule of a
``ThreadPoolExecutor`` (an idle thread takes the job, else a new one up to the maximum, else
the job waits), without futures; its threads finish their jobs at interpreter exit."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from threadloom.engine.lane import Lane, WorkerPool


def test_jobs_run_on_new_threads_up_to_the_maximum_then_wait_for_a_free_one() -> None:
    pool = WorkerPool(2, "pool-test")
    gate = threading.Event()
    running = threading.Semaphore(0)
    names: list[str] = []

    def job() -> None:
        names.append(threading.current_thread().name)
        running.release()
        gate.wait(30)

    try:
        pool.submit(job)
        pool.submit(job)
        assert running.acquire(timeout=30) and running.acquire(timeout=30)
        pool.submit(job)  # both threads busy: it waits, no third thread
        assert len(pool.threads) == 2
        assert not running.acquire(timeout=0)
        gate.set()
        assert running.acquire(timeout=30)  # a thread freed by its job takes it
        assert sorted(set(names)) == ["pool-test_0", "pool-test_1"]
    finally:
        gate.set()
        pool.shutdown()


def test_an_idle_thread_takes_the_next_job_and_a_failing_job_keeps_its_thread() -> None:
    pool = WorkerPool(4, "pool-test")
    done = threading.Semaphore(0)
    names: list[str] = []

    def failing() -> None:
        names.append(threading.current_thread().name)
        done.release()
        raise ValueError("a job's own error")

    try:
        pool.submit(failing)
        assert done.acquire(timeout=30)
        deadline = time.monotonic() + 30  # until the thread counts itself idle again
        while pool.idle != 1:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        pool.submit(lambda: (names.append(threading.current_thread().name), done.release()))
        assert done.acquire(timeout=30)
        assert names == ["pool-test_0", "pool-test_0"] and len(pool.threads) == 1
    finally:
        pool.shutdown()


def test_shutdown_runs_the_jobs_submitted_then_refuses_new_ones() -> None:
    pool = WorkerPool(1, "pool-test")
    gate = threading.Event()
    ran: list[int] = []
    pool.submit(lambda: (gate.wait(30), ran.append(1)))
    pool.submit(lambda: ran.append(2))  # queued behind the first
    gate.set()
    pool.shutdown()  # joins: both ran
    assert ran == [1, 2]
    assert not any(t.is_alive() for t in pool.threads)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(lambda: None)


def test_a_lane_on_the_pool_runs_jobs_that_wait_for_each_other_at_once() -> None:
    count = 8
    barrier = threading.Barrier(count, timeout=30)
    done = threading.Semaphore(0)
    pool = WorkerPool(count, "pool-test")
    try:
        lane = Lane(pool, count)
        lane.add(*[lambda: (barrier.wait(), done.release()) for _ in range(count)])
        for _ in range(count):
            assert done.acquire(timeout=60)
    finally:
        pool.shutdown()


def test_a_job_running_at_interpreter_exit_finishes_first() -> None:
    program = textwrap.dedent(
        """
        import threading
        from threadloom.engine.lane import WorkerPool
        pool = WorkerPool(2, "pool-test")
        started, gate = threading.Event(), threading.Event()
        def job():
            started.set()
            gate.wait(30)
            print("job finished", flush=True)  # (after main's line, or mixed into it)
        pool.submit(job)
        started.wait(30)
        gate.set()
        print("main done", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True
    )
    assert "job finished" in done.stdout and "main done" in done.stdout


def test_a_run_started_on_a_pool_thread_gets_a_pool_of_its_own() -> None:
    # waiting on the shared pool from one of its own threads could starve it: a run started
    # from a pool thread (the shared pool's, or a nested pool's) gets a new executor
    from concurrent.futures import ThreadPoolExecutor

    from threadloom.engine.sync import pool_for_run

    shared = pool_for_run()
    assert isinstance(shared, WorkerPool) and pool_for_run() is shared
    seen: list[object] = []
    done = threading.Semaphore(0)

    def inner() -> None:
        seen.append(pool_for_run())
        done.release()

    def outer() -> None:
        nested = pool_for_run()
        seen.append(nested)
        assert isinstance(nested, ThreadPoolExecutor)
        nested.submit(inner)  # a run started inside the nested run's task

    shared.submit(outer)
    assert done.acquire(timeout=60)
    first, second = seen
    assert isinstance(first, ThreadPoolExecutor) and isinstance(second, ThreadPoolExecutor)
    assert first is not second
    first.shutdown(wait=True)
    second.shutdown(wait=True)
    # a thread of the caller's own is not a pool thread
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(pool_for_run()))
    thread.start()
    thread.join(60)
    assert other == [shared]
