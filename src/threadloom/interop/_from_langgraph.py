"""A LangGraph checkpointer under threadloom's engine: ``from_langgraph_saver(saver)``.

Any LangGraph ``BaseCheckpointSaver`` (its SQLite, PostgreSQL, in-memory savers, or one of the
ecosystem's: MongoDB, Redis, ...) becomes a threadloom ``BaseCheckpointSaver``, so threadloom
graphs and entrypoints run on a backend threadloom does not ship.

What this module decides:

- Every call goes to the LangGraph saver's method of the same name; sync calls to sync methods,
  ``a``-prefixed ones to async methods (LangGraph's ``SqliteSaver`` is sync only and its
  ``AsyncSqliteSaver`` async only: wrap the one that fits how the graph is run).
- Values cross through ``threadloom.interop._objects``, the one conversion of LangGraph's records
  (``Interrupt``, ``Send``, ``Command``, ``Overwrite``): threadloom's going in, LangGraph's
  coming out. What the wrapped saver stores is what LangGraph itself would store, so LangGraph
  can still read the threads.
- Channel versions come from the wrapped saver (``get_next_version``); its serializer decides
  what can be stored, and ``with_allowlist`` widens its allow-list with the graph's state types.

What threadloom's own savers add and a LangGraph saver cannot give is lost: the head check that
refuses a second writer (DECISIONS 4), one transaction for a step's writes and checkpoint, list
deltas. ``docs/coming-from-langgraph.md`` says so.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from threadloom._twins import async_iter, async_op, sync_iter, sync_op
from threadloom.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
)
from threadloom.interop._forward import Call, SaverForwarder
from threadloom.interop._objects import (
    checkpoint_to_langgraph,
    checkpoint_to_threadloom,
    to_langgraph,
    to_threadloom,
)

if TYPE_CHECKING:
    from typing import Self

    from langchain_core.runnables import RunnableConfig

__all__ = ["LangGraphSaverAdapter", "from_langgraph_saver"]


def _tuple_in(saved: Any) -> CheckpointTuple | None:
    """A LangGraph ``CheckpointTuple`` as threadloom's, its values converted."""
    if saved is None:
        return None
    writes = saved.pending_writes
    return CheckpointTuple(
        config=saved.config,
        checkpoint=checkpoint_to_threadloom(saved.checkpoint),
        metadata=saved.metadata,
        parent_config=saved.parent_config,
        pending_writes=None
        if writes is None
        else [(task_id, channel, to_threadloom(value)) for task_id, channel, value in writes],
    )


def _check_prune(
    thread_ids: Sequence[str], strategy: str, keep_last: int | None, before: datetime | None
) -> None:
    """LangGraph's ``prune`` takes only ``strategy``: refuse threadloom's extra arguments."""
    if keep_last is not None or before is not None:
        raise NotImplementedError(
            f"prune(keep_last={keep_last!r}, before={before!r}) is threadloom's; LangGraph's "
            f"savers take only strategy=. Call prune({builtins.list(thread_ids)!r}, "
            f"strategy={strategy!r}) on this saver, or migrate the threads to a threadloom saver "
            "(threadloom migrate)."
        )


def _writes_out(writes: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(channel, to_langgraph(value)) for channel, value in writes]


class LangGraphSaverAdapter(SaverForwarder, BaseCheckpointSaver[Any]):
    """A LangGraph checkpointer seen as a threadloom saver; make one with
    ``from_langgraph_saver``. ``langgraph_saver`` is the wrapped saver."""

    def __init__(self, langgraph_saver: Any) -> None:
        super().__init__()
        self.langgraph_saver = langgraph_saver
        self.serde = langgraph_saver.serde

    def __repr__(self) -> str:
        return f"from_langgraph_saver({self.langgraph_saver!r})"

    def _wrapped(self) -> Any:
        return self.langgraph_saver

    # -- each operation once (``_forward``); ``list`` / ``alist`` are generators ----------------

    def _get_tuple(self, /, config: RunnableConfig) -> Call[CheckpointTuple | None]:
        return Call("get_tuple", (config,), then=_tuple_in)

    def _list(
        self,
        /,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Call[CheckpointTuple]:
        options = {"filter": filter, "before": before, "limit": limit}
        return Call("list", (config,), options, then=_tuple_in)  # type: ignore[arg-type]

    def _put(
        self,
        /,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Call[RunnableConfig]:
        return Call("put", (config, checkpoint_to_langgraph(checkpoint), metadata, new_versions))

    def _put_writes(
        self,
        /,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> Call[None]:
        return Call("put_writes", (config, _writes_out(writes), task_id, task_path))

    def _prune(
        self,
        /,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> Call[None]:
        _check_prune(thread_ids, strategy, keep_last, before)
        return Call("prune", (thread_ids,), {"strategy": strategy})

    get_tuple = sync_op(_get_tuple)
    list = sync_iter(_list)
    put = sync_op(_put)
    put_writes = sync_op(_put_writes)
    prune = sync_op(_prune)

    aget_tuple = async_op(_get_tuple)
    alist = async_iter(_list)
    aput = async_op(_put)
    aput_writes = async_op(_put_writes)
    aprune = async_op(_prune)

    # -- versions and serializer ------------------------------------------------------------

    def get_next_version(self, current: Any, channel: None = None) -> Any:
        return self.langgraph_saver.get_next_version(current, channel)

    def with_allowlist(self, extra_allowlist: Any) -> Self:
        """The wrapped saver's ``with_allowlist`` given the types as LangGraph names them
        (``(module, qualname)``); ``self`` when its allow-list does not change."""
        widen = getattr(self.langgraph_saver, "with_allowlist", None)
        if widen is None or not extra_allowlist or isinstance(extra_allowlist, bool):
            return self
        widened = widen(_type_keys(extra_allowlist))
        if widened is self.langgraph_saver:
            return self
        return type(self)(widened)


def _type_keys(types: Iterable[Any]) -> list[tuple[str, ...]]:
    """Types as LangGraph's allow-list names them: ``(module, qualname)``."""
    return [(t.__module__, t.__qualname__) if isinstance(t, type) else tuple(t) for t in types]


def from_langgraph_saver(saver: Any) -> LangGraphSaverAdapter:
    """``saver``, a LangGraph checkpointer, as a threadloom saver for ``compile(checkpointer=...)``
    and ``@entrypoint(checkpointer=...)``.

    Threads stay in the LangGraph saver's own format, readable by LangGraph. Use the sync methods
    of a sync saver (``invoke``/``stream``) and the async ones of an async saver
    (``ainvoke``/``astream``), as LangGraph does.
    """
    if isinstance(saver, LangGraphSaverAdapter):
        return saver
    if isinstance(saver, BaseCheckpointSaver):
        raise TypeError(
            f"from_langgraph_saver() got threadloom's {type(saver).__name__}, which threadloom "
            "graphs take as it is: pass it to compile(checkpointer=...) directly."
        )
    required = ("get_tuple", "list", "put", "put_writes", "get_next_version")
    if any(not callable(getattr(saver, name, None)) for name in required):
        raise TypeError(
            f"from_langgraph_saver() needs a LangGraph checkpointer (a subclass of "
            f"langgraph.checkpoint.base.BaseCheckpointSaver); got {type(saver).__name__}: "
            f"{saver!r}. Open the saver first, e.g. `with SqliteSaver.from_conn_string(path) as "
            "saver: from_langgraph_saver(saver)`."
        )
    return LangGraphSaverAdapter(saver)
