"""``engine/lane.py``: workers that start one another still run every job without waiting for
another job to finish, and a job no worker took yet can be run by its waiter or taken back."""

import threading
from concurrent.futures import ThreadPoolExecutor

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
