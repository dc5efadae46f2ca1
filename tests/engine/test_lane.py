"""``engine/lane.py``: workers that start one another still run every job without waiting for
another job to finish, and a job no worker took yet can be run by its waiter or taken back."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from threadloom.engine.lane import Lane


def test_jobs_that_wait_for_each_other_all_run_at_once() -> None:
    # each job waits until all of them are running: serialised, the barrier would break
    count = 12
    barrier = threading.Barrier(count, timeout=30)
    passed: list[int] = []
    done = threading.Semaphore(0)

    def job(n: int) -> None:
        barrier.wait()
        passed.append(n)
        done.release()

    with ThreadPoolExecutor(count) as pool:
        lane = Lane(pool, count)
        lane.add(*[lambda n=n: job(n) for n in range(count // 2)])
        for n in range(count // 2, count):  # added one by one too
            lane.add(lambda n=n: job(n))
        for _ in range(count):
            assert done.acquire(timeout=60)
    assert sorted(passed) == list(range(count))
    assert lane.workers == 0 and lane.free == 0  # every worker returned


def test_a_job_not_taken_yet_runs_in_the_waiting_thread_or_is_taken_back() -> None:
    gate = threading.Event()
    started = threading.Event()
    ran_on: list[str] = []

    def blocker() -> None:
        started.set()
        gate.wait(30)

    with ThreadPoolExecutor(1) as pool:
        lane = Lane(pool, 1)  # one worker, kept busy: the next jobs wait in the lane
        lane.add(blocker)
        assert started.wait(30)

        def record() -> None:
            ran_on.append(threading.current_thread().name)

        lane.add(record, lambda: ran_on.append("never"), lambda: ran_on.append("never"))
        assert lane.run_here(record)
        assert ran_on == [threading.current_thread().name]
        assert not lane.run_here(record)  # not queued any more
        assert lane.take_back() == 2
        gate.set()
    assert ran_on == [threading.current_thread().name]


class _Job:
    """A job that records being described: a call's job holds its task, config and all."""

    def __init__(self) -> None:
        self.described = 0

    def __call__(self) -> None:
        pass

    def __repr__(self) -> str:
        self.described += 1
        return "job"


def test_a_job_a_worker_took_is_not_described_by_run_here() -> None:
    # run_here on a job that is no longer queued answers False without building a message
    # from the job's repr (what a failed deque.remove does, the cost of a quick @task call)
    with ThreadPoolExecutor(1) as pool:
        lane = Lane(pool, 1)
        job = _Job()
        assert not lane.run_here(job)  # never queued
        lane.add(job)
        lane.run_here(job)  # runs it here, unless the worker took it first
        assert not lane.run_here(job)
    assert job.described == 0


def test_a_call_future_waited_on_with_a_timeout_is_not_run_by_the_waiter() -> None:
    # ``_CallFuture.result()`` runs a call no worker took yet in the waiting thread; with a
    # timeout it must not (a call cannot be stopped midway): it waits, and times out
    from threadloom.engine.sync import _CallFuture

    gate = threading.Event()
    started = threading.Event()
    release = threading.Event()
    ran_on: list[str] = []

    def blocker() -> None:
        started.set()
        gate.wait(30)

    with ThreadPoolExecutor(1) as pool:
        lane = Lane(pool, 1)  # its one worker kept busy: the call waits in the lane
        lane.add(blocker)
        assert started.wait(30)
        future = _CallFuture()

        def call() -> None:
            ran_on.append(threading.current_thread().name)
            release.wait(10)  # run by the waiter, this would outlast its timeout
            future.set_result("done")

        future.lane, future.job = lane, call
        lane.add(call)
        with pytest.raises(TimeoutError):
            future.result(timeout=0.01)
        assert ran_on == []  # still queued, not run here
        release.set()
        assert future.result() == "done"  # without a timeout the waiter runs it
        assert ran_on == [threading.current_thread().name]
        gate.set()
