"""A ``@task`` call's future (sync driver) makes its condition only when something needs it.

``engine/sync.py``'s ``_CallFuture`` skips ``concurrent.futures.Future``'s condition while
nobody waits on another thread, registers a callback, cancels or calls ``wait``: each test
checks the future then acts as a ``Future`` does, whether it was settled without a condition
(the fast path) or with one made first (the general path).
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

import pytest

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.engine.sync import _CallFuture
from threadloom.func import entrypoint, task


def _settled_without_condition(value: Any) -> _CallFuture:
    future = _CallFuture()
    future.set_result(value)
    assert future._made is None  # the fast path: no condition was made
    return future


def test_settled_without_a_condition_reads_as_a_future() -> None:
    future = _settled_without_condition(7)
    assert future.done() and not future.cancelled() and not future.running()
    assert future.result() == 7 and future.result(timeout=0) == 7
    assert future.exception() is None
    seen: list[Any] = []
    future.add_done_callback(lambda f: seen.append(f.result()))
    assert seen == [7]  # called at once, as for a settled Future
    done, pending = concurrent.futures.wait([future], timeout=0)
    assert done == {future} and not pending
    futures: list[concurrent.futures.Future[Any]] = [future]
    assert list(concurrent.futures.as_completed(futures)) == [future]
    assert not future.cancel()


def test_failed_without_a_condition_raises_its_error() -> None:
    future = _CallFuture()
    error = ValueError("boom")
    future.set_exception(error)
    assert future._made is None
    assert future.exception() is error
    with pytest.raises(ValueError, match="boom"):
        future.result()


def test_callback_added_first_runs_when_settled() -> None:
    future = _CallFuture()
    seen: list[Any] = []
    future.add_done_callback(lambda f: seen.append(f.result()))
    assert future._made is not None and seen == []  # the general path from here on
    future.set_result(3)
    assert seen == [3] and future.result() == 3


def test_cancelled_first_refuses_a_result() -> None:
    future = _CallFuture()
    assert future.cancel()
    with pytest.raises(concurrent.futures.InvalidStateError):
        future.set_result(1)
    with pytest.raises(concurrent.futures.CancelledError):
        future.result()


def test_waiter_on_another_thread_is_woken() -> None:
    future = _CallFuture()
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(future.result(timeout=30)))
    waiter.start()
    while future._made is None:  # the waiter makes the condition before it waits
        threading.Event().wait(0.001)
    future.set_result("late")
    waiter.join(30)
    assert got == ["late"]


def test_wait_installed_before_the_result() -> None:
    future = _CallFuture()
    results: list[Any] = []

    def waits() -> None:
        done, _ = concurrent.futures.wait([future], timeout=30)
        results.append({f.result() for f in done})

    waiter = threading.Thread(target=waits)
    waiter.start()
    while future._made is None:
        threading.Event().wait(0.001)
    future.set_result(5)
    waiter.join(30)
    assert results == [{5}]


def test_call_futures_in_a_run_work_with_wait_and_callbacks() -> None:
    @task
    def double(n: int) -> int:
        return 2 * n

    @entrypoint(checkpointer=InMemorySaver())
    def flow(count: int) -> dict[str, Any]:
        futures = [double(n) for n in range(count)]
        called: list[int] = []
        futures[0].add_done_callback(lambda f: called.append(f.result()))
        done, pending = concurrent.futures.wait(futures, timeout=30)
        return {
            "results": [f.result() for f in futures],
            "done": len(done),
            "pending": len(pending),
            "called": called,
        }

    out = flow.invoke(6, {"configurable": {"thread_id": "t"}})
    assert out == {"results": [0, 2, 4, 6, 8, 10], "done": 6, "pending": 0, "called": [0]}
