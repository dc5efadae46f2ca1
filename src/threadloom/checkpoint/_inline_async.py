"""Async saver methods for savers whose work never waits: each runs its sync twin inline.

``InMemorySaver`` and ``SqliteSaver`` do their I/O in short, local calls, so their async API is the
sync one called directly. Listing the async twins once here keeps the two savers from repeating
them; ``AsyncSqliteSaver`` has its own async implementation.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from threadloom.checkpoint._saver_calls import path_args
from threadloom.checkpoint.base import (
    BaseCheckpointSaver,
    CheckpointTuple,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["InlineAsyncSaver"]

T = TypeVar("T")
P = ParamSpec("P")


def _inline(
    sync: Callable[Concatenate[Any, P], T],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """The async twin of the sync method ``sync``: it calls ``self.<sync's name>`` inline, so a
    subclass's override of the sync method serves async callers too. It has the signature and
    docstring of ``BaseCheckpointSaver``'s ``a``-method; its type is the sync method's made
    async, which mypy checks against the base class's ``a``-method where it is assigned."""
    name = sync.__name__

    @functools.wraps(getattr(BaseCheckpointSaver, "a" + name))
    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return getattr(self, name)(*args, **kwargs)  # type: ignore[no-any-return]

    return method


class InlineAsyncSaver(BaseCheckpointSaver[str]):
    """A saver whose async methods call its sync methods inline."""

    aget_tuple = _inline(BaseCheckpointSaver.get_tuple)
    aput = _inline(BaseCheckpointSaver.put)
    aput_step = _inline(BaseCheckpointSaver.put_step)
    aput_steps = _inline(BaseCheckpointSaver.put_steps)
    aput_writes_batch = _inline(BaseCheckpointSaver.put_writes_batch)
    adelete_thread = _inline(BaseCheckpointSaver.delete_thread)
    adelete_for_runs = _inline(BaseCheckpointSaver.delete_for_runs)
    acopy_thread = _inline(BaseCheckpointSaver.copy_thread)
    aprune = _inline(BaseCheckpointSaver.prune)
    athread_size_report = _inline(BaseCheckpointSaver.thread_size_report)

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
