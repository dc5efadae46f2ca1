"""Async saver methods for savers whose work never waits: each runs its sync twin inline.

``InMemorySaver`` and ``SqliteSaver`` do their I/O in short, local calls, so their async API is the
sync one called directly. Listing the async twins once here keeps the two savers from repeating
them; ``AsyncSqliteSaver`` has its own async implementation.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from threadloom.checkpoint._saver_calls import path_args
from threadloom.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointTuple,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["InlineAsyncSaver"]


def _inline(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The async twin of the sync method ``name``: it calls ``self.name`` inline. It has the
    signature and docstring of ``BaseCheckpointSaver``'s ``a``-method."""

    @functools.wraps(getattr(BaseCheckpointSaver, "a" + name))
    async def method(self: BaseCheckpointSaver[Any], /, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, name)(*args, **kwargs)

    return method


class InlineAsyncSaver(BaseCheckpointSaver[str]):
    """A saver whose async methods call its sync methods inline."""

    aget_tuple = _inline("get_tuple")
    aput = _inline("put")
    aput_step = _inline("put_step")
    adelete_thread = _inline("delete_thread")
    adelete_for_runs = _inline("delete_for_runs")
    acopy_thread = _inline("copy_thread")
    aprune = _inline("prune")
    athread_size_report = _inline("thread_size_report")

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        # a subclass written for LangGraph may override put_writes without task_path
        self.put_writes(config, writes, task_id, *path_args(self.put_writes, task_path))

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item
