"""``AsyncBatchedBaseStore`` (``threadloom.store.base.batch``), LangGraph's base class for a store
that gathers concurrent async calls into one ``abatch``: a store implementer's subclass writes
``abatch`` and gets every other method."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import pytest

from threadloom.store.base import GetOp, Op, PutOp, Result, SearchOp
from threadloom.store.base.batch import AsyncBatchedBaseStore
from threadloom.store.memory import InMemoryStore


class Recording(AsyncBatchedBaseStore):
    """Runs each batch on an ``InMemoryStore`` and records the ops it was given."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.inner = InMemoryStore()
        self.batches: list[list[Op]] = []
        self.fail = fail

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        self.batches.append(ops)
        if self.fail:
            raise RuntimeError("backend down")
        return await self.inner.abatch(ops)


async def test_concurrent_calls_run_as_one_batch() -> None:
    store = Recording()
    await asyncio.gather(store.aput(("a",), "k", {"v": 1}), store.aput(("b",), "k", {"v": 2}))
    assert len(store.batches) == 1
    got = await asyncio.gather(store.aget(("a",), "k"), store.aget(("b",), "k"))
    assert [item.value for item in got if item is not None] == [{"v": 1}, {"v": 2}]
    assert store.batches[1] == [GetOp(("a",), "k", True), GetOp(("b",), "k", True)]


async def test_repeated_reads_run_once_and_the_last_put_to_a_key_wins() -> None:
    store = Recording()
    await asyncio.gather(store.aput(("t",), "k", {"v": 1}), store.aput(("t",), "k", {"v": 2}))
    assert store.batches == [[PutOp(("t",), "k", {"v": 2})]]
    same = await asyncio.gather(
        store.aget(("t",), "k"),
        store.aget(("t",), "k"),
        store.asearch(("t",), filter={"v": 2}),
        store.asearch(("t",), filter={"v": 2}),
    )
    assert store.batches[1] == [GetOp(("t",), "k", True), SearchOp(("t",), {"v": 2})]
    assert same[0] == same[1] and same[0] is not None and same[0].value == {"v": 2}
    assert same[2] == same[3] and [item.key for item in same[2]] == ["k"]


async def test_an_error_reaches_every_caller_of_the_batch() -> None:
    store = Recording(fail=True)
    results = await asyncio.gather(
        store.aget(("a",), "k"), store.aget(("b",), "k"), return_exceptions=True
    )
    assert [str(error) for error in results] == ["backend down", "backend down"]
    store.fail = False
    assert await store.aget(("a",), "k") is None  # the store still works


async def test_a_cancelled_call_does_not_stop_the_store() -> None:
    store = Recording()
    call = asyncio.create_task(store.aget(("a",), "k"))
    await asyncio.sleep(0)
    call.cancel()
    await store.aput(("c",), "d", {"v": 1})
    assert (await store.aget(("c",), "d")).value == {"v": 1}  # type: ignore[union-attr]


async def test_bad_arguments_are_refused_before_anything_is_queued() -> None:
    store = Recording()
    with pytest.raises(ValueError, match="langgraph"):
        await store.aput(("langgraph", "x"), "k", {"v": 1})
    with pytest.raises(ValueError, match="periods"):
        await store.aget(("a.b",), "k")
    assert store.batches == []


async def test_sync_calls_wait_on_the_loop_from_another_thread_and_are_refused_on_it() -> None:
    store = Recording()

    def from_a_thread() -> Any:
        store.put(("a",), "k", {"v": 1})
        return store.get(("a",), "k"), store.batch([GetOp(("a",), "k")])

    item, results = await asyncio.to_thread(from_a_thread)
    assert item.value == {"v": 1} and results[0].value == {"v": 1}
    with pytest.raises(asyncio.InvalidStateError):
        store.get(("a",), "k")
    with pytest.raises(asyncio.InvalidStateError):
        store.batch([GetOp(("a",), "k")])


async def test_the_async_sqlite_store_gathers_concurrent_calls_too(tmp_path: Any) -> None:
    # as LangGraph's AsyncSqliteStore (an AsyncBatchedBaseStore); each call was its own batch
    from threadloom.store.sqlite.aio import AsyncSqliteStore

    async with AsyncSqliteStore.from_conn_string(str(tmp_path / "s.db")) as store:
        await store.setup()
        batches: list[int] = []
        run_batch = store.abatch

        async def counted(ops: Iterable[Op]) -> list[Result]:
            ops = list(ops)
            batches.append(len(ops))
            return await run_batch(ops)

        store.abatch = counted  # type: ignore[method-assign]
        await asyncio.gather(*(store.aput(("a",), f"k{i}", {"i": i}) for i in range(50)))
        items = await asyncio.gather(*(store.aget(("a",), f"k{i}") for i in range(50)))
        assert batches == [50, 50]
        assert [item.value["i"] for item in items] == list(range(50))  # type: ignore[union-attr]
        await store.aput(("a",), "k0", {"i": -1})  # alone, after the others
        assert (await store.aget(("a",), "k0")).value == {"i": -1}  # type: ignore[union-attr]
        # nothing queued: no task is left waiting (none pending when the loop closes)
        await asyncio.sleep(0)
        assert store._ops is not None and store._ops.task is not None
        assert store._ops.task.done()


async def test_a_cancelled_queue_task_is_replaced_on_the_next_call() -> None:
    # LangGraph's test_async_batch_store_resilience reads the store's _task
    store = Recording()
    await store.aput(("a",), "k", {"v": 1})
    first = store._task
    assert first is not None and not first.done()
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    found = await store.aget(("a",), "k")
    assert found is not None and found.value == {"v": 1}
    assert store._task is not first and not store._task.done()  # type: ignore[union-attr]
