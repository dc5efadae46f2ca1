"""``AsyncBatchedBaseStore``: a store whose async calls made together run as one ``abatch``.

For store implementers, as LangGraph's class of this name: a subclass writes ``abatch`` (and
may write ``batch``); the convenience methods (``aget``, ``aput``, ``asearch``, ``adelete``,
``alist_namespaces``) check their arguments at once, then queue their op. A task on the event loop
the store was made in takes every op queued meanwhile, runs them as one ``abatch`` call (repeated
reads asked once, and of several puts to one key the last), and answers each caller. The sync
methods, called from another thread, wait for the async ones on that loop; called on the loop
itself they would deadlock and raise ``asyncio.InvalidStateError`` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterable
from typing import Any, TypeVar

from threadloom.store.base import BaseStore, GetOp, ListNamespacesOp, Op, PutOp, Result, SearchOp

__all__ = ["AsyncBatchedBaseStore"]  # OpQueue: for threadloom's own async stores

T = TypeVar("T")

_Queued = tuple["asyncio.Future[Result]", Op]


class OpQueue:
    """The ops of concurrent async calls to one store: a task on ``loop`` takes every op queued
    meanwhile, runs them as one ``abatch`` of the store and answers each caller."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, store: BaseStore, *, linger: bool = True
    ) -> None:
        self.loop = loop
        self.linger = linger
        """Keep the task waiting for more (``AsyncBatchedBaseStore``, as LangGraph's); else it
        ends once the queue is empty and the next call starts another (no task left pending
        when the loop closes)."""
        self.queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self.store_ref = weakref.ref(store)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """(Re)start the queue's task: it may have been cancelled."""
        if self.task is None or self.task.done():
            running = _run_queue(self.queue, self.store_ref, self.linger)
            self.task = self.loop.create_task(running)

    async def run(self, op: Op) -> Result:
        """``op``'s result, run in the next batch."""
        self.start()
        future: asyncio.Future[Result] = self.loop.create_future()
        self.queue.put_nowait((future, op))
        return await future

    def stop(self) -> None:
        """Cancel the queue's task (the store is closed or gone)."""
        if self.task is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closed
                self.task.cancel()


class GathersAsyncCalls:
    """For threadloom's own async stores (made with or without a running loop): their ``aget``,
    ``aput``, ``asearch``... made together (in one turn of the event loop) run as one ``abatch``,
    one transaction, as LangGraph's async stores (``AsyncBatchedBaseStore``s) do: many
    concurrent calls on a pool do not each wait for a connection of their own."""

    _ops: OpQueue | None = None

    async def _arun(self, one: Any) -> Any:
        loop = asyncio.get_running_loop()
        if self._ops is None or self._ops.loop is not loop:
            self._ops = OpQueue(loop, self, linger=False)  # type: ignore[arg-type]
        return one.then(await self._ops.run(one.op))

    def _stop_gathering(self) -> None:
        """Cancel the queue's task (the store is closing)."""
        if self._ops is not None:
            self._ops.stop()


class AsyncBatchedBaseStore(BaseStore):
    """A ``BaseStore`` that gathers concurrent async calls into one ``abatch`` (see the module).

    Make it inside a running event loop (its queue's task runs there).
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._ops = OpQueue(self._loop, self)
        self._ops.start()

    @property
    def _task(self) -> asyncio.Task[None] | None:
        """The queue's task (LangGraph's attribute; restarted on the next call once done)."""
        return self._ops.task

    def __del__(self) -> None:
        ops = getattr(self, "_ops", None)
        if ops is not None:
            ops.stop()

    async def _arun(self, one: Any) -> Any:
        return one.then(await self._ops.run(one.op))

    def _run(self, one: Any) -> Any:
        self._refuse_on_loop()
        return asyncio.run_coroutine_threadsafe(self._arun(one), self._loop).result()

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` with ``abatch`` on the store's loop, from another thread."""
        self._refuse_on_loop()
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), self._loop).result()

    def _refuse_on_loop(self) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        if running is self._loop:
            raise asyncio.InvalidStateError(
                f"Synchronous call to {type(self).__name__} in the event loop it runs on: it "
                "would wait for itself. Await the async method instead (store.aget(...), "
                "store.aput(...), store.asearch(...), store.abatch(...))."
            )


async def _run_queue(queue: asyncio.Queue[_Queued], store_ref: Any, linger: bool) -> None:
    """Run what is queued, a batch at a time, while the store lives (and, unless ``linger``,
    until nothing is queued)."""
    while linger or not queue.empty():
        queued = [await queue.get()]
        while not queue.empty():
            queued.append(queue.get_nowait())
        waiting = [(future, op) for future, op in queued if not future.cancelled()]
        if not waiting:
            continue
        store = store_ref()
        if store is None:
            break
        listen, ops = _dedupe_ops([op for _, op in waiting])
        try:
            results = await store.abatch(ops)
        except Exception as exc:  # every caller of the batch gets the error
            for future, _ in waiting:
                if not future.done():
                    future.set_exception(exc)
        else:
            for i, (future, _) in enumerate(waiting):
                if not future.done():
                    future.set_result(results[listen[i] if listen is not None else i])
        del store  # the task must not keep the store alive between batches


def _dedupe_ops(values: list[Op]) -> tuple[list[int] | None, list[Op]]:
    """The ops to run for ``values`` and, for each value, the index of its op's result.

    Equal reads run once; puts to one ``(namespace, key)`` become the last of them, where the
    first stood. ``None`` for the indexes when there is nothing to merge (one op or none).
    """
    if len(values) <= 1:
        return None, list(values)
    ops: list[Op] = []
    listen: list[int] = []
    reads: dict[tuple[type, Op], int] = {}  # by type too: ops are tuples, equal across types
    puts: dict[tuple[tuple[str, ...], str], int] = {}
    for op in values:
        if isinstance(op, GetOp | SearchOp | ListNamespacesOp):
            try:
                at = reads.setdefault((type(op), op), len(ops))
            except TypeError:  # a filter dict makes the op unhashable: compare instead
                same = (i for i, o in enumerate(ops) if type(o) is type(op) and o == op)
                at = next(same, len(ops))
            if at == len(ops):
                ops.append(op)
        elif isinstance(op, PutOp):
            at = puts.setdefault((op.namespace, op.key), len(ops))
            if at == len(ops):
                ops.append(op)
            else:
                ops[at] = op
        else:
            at = len(ops)
            ops.append(op)
        listen.append(at)
    return listen, ops
