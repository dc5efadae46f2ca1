"""A threadloom saver as LangGraph's ``BaseCheckpointSaver``, for LangGraph's engine.

``LangGraphSaver`` is a real subclass of ``langgraph.checkpoint.base.BaseCheckpointSaver``
(LangGraph's ``compile`` checks with ``isinstance``) that forwards every call to the threadloom
saver it wraps, method for method: a sync call to the sync method, an ``a``-call to its async
twin. threadloom's savers already serve both (the sync ones run their async twins inline, the
async ones run their sync methods on their loop from another thread), so the wrapper never
chooses a thread or a loop itself. What it adds, once for both drivers:

- values cross ``interop._objects`` (LangGraph's ``Send``/``Interrupt``/``Command``/``Overwrite``
  ↔ threadloom's), and tuples become LangGraph's ``CheckpointTuple``;
- the head check (DECISIONS 4) where LangGraph's calls allow it, kept in ``_HeadsSeen``:
  LangGraph's ``put`` names the parent (``configurable["checkpoint_id"]``) but no head the run
  saw. A parent this wrapper last handed out as the *latest* checkpoint of its (thread,
  namespace) — read by ``get_tuple`` without a checkpoint id (None for an empty thread) — or
  wrote itself, is taken as the head the writer saw; that put then carries it as the expected
  head, and fails with ``CheckpointConflictError`` when another writer moved the head
  meanwhile. A parent read by its id (time travel: replay, fork, ``update_state`` on a past
  checkpoint) is a deliberate branch, and its put is not checked.

Channel versions are the wrapped saver's (zero-padded strings, increasing, as LangGraph's own
savers make them), so ``get_next_version`` forwards too.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint import base as lg

from threadloom._twins import async_iter, async_op, sync_iter, sync_op
from threadloom.checkpoint import base as tl
from threadloom.interop._forward import Call, SaverForwarder
from threadloom.interop._objects import (
    checkpoint_to_langgraph,
    checkpoint_to_threadloom,
    pending_writes_to_langgraph,
    writes_to_threadloom,
)

__all__ = ["LangGraphSaver"]

C = TypeVar("C", bound=Mapping[str, Any])

_HeadKey = tuple[str, str, str | None]
"""``(thread_id, checkpoint_ns, checkpoint_id or None)``."""

_HEADS_KEPT: Final = 4096
"""How many (thread, namespace, head) facts a wrapper remembers; the oldest are forgotten
first (a forgotten head only means that put is not checked)."""


class _HeadsSeen:
    """Checkpoints this wrapper handed out as the latest of their (thread, namespace), or
    wrote: the heads a writer that puts their child has seen (see the module docstring)."""

    __slots__ = ("_keys", "_lock")

    def __init__(self) -> None:
        self._keys: OrderedDict[_HeadKey, None] = OrderedDict()
        self._lock = threading.Lock()  # LangGraph saves from its background threads too

    def saw(self, key: _HeadKey) -> None:
        with self._lock:
            keys = self._keys
            keys[key] = None
            keys.move_to_end(key)
            if len(keys) > _HEADS_KEPT:
                keys.popitem(last=False)

    def forget(self, key: _HeadKey) -> None:
        with self._lock:
            self._keys.pop(key, None)

    def __contains__(self, key: _HeadKey) -> bool:
        return key in self._keys


def _key(config: RunnableConfig) -> _HeadKey:
    configurable = config.get("configurable", {})
    return (
        str(configurable.get("thread_id")),
        configurable.get("checkpoint_ns", ""),
        configurable.get("checkpoint_id") or None,
    )


def _to_langgraph_tuple(found: tl.CheckpointTuple | None) -> lg.CheckpointTuple | None:
    if found is None:
        return None
    return lg.CheckpointTuple(
        config=found.config,
        checkpoint=checkpoint_to_langgraph(found.checkpoint),
        metadata=found.metadata,  # type: ignore[arg-type]
        parent_config=found.parent_config,
        pending_writes=pending_writes_to_langgraph(found.pending_writes),
    )


def _owned(checkpoint: C, new_versions: lg.ChannelVersions) -> C:
    """``checkpoint`` with its own copy of each new value that LangGraph's channels change in
    place: a barrier's set (``NamedBarrierValue``, also inside ``(set, finished)``) and an
    accumulating ``Topic``'s list. LangGraph hands ``put`` the channels' live objects and runs
    its next step while the put waits (an async saver waits for its connection before it
    encodes): without the copy, a join's step could be stored with the next step's barrier."""
    values = checkpoint["channel_values"]
    copies: dict[str, Any] = {}
    for channel in new_versions:
        value = values.get(channel)
        kind = type(value)
        if kind is set or kind is list:
            copies[channel] = kind(value)
        elif kind is tuple and len(value) == 2 and type(value[0]) is set:
            copies[channel] = (set(value[0]), value[1])
    if not copies:
        return checkpoint
    owned: dict[str, Any] = {**checkpoint, "channel_values": {**values, **copies}}
    return owned  # type: ignore[return-value]


def _strategy(strategy: str) -> tl.PruneStrategy:
    # LangGraph types it as str; the wrapped saver checks the value and names the bad one
    return strategy  # type: ignore[return-value]


class LangGraphSaver(SaverForwarder, lg.BaseCheckpointSaver[str]):
    """A threadloom saver seen by LangGraph as one of its checkpointers.

    Made by ``threadloom.interop.langgraph.as_langgraph_saver``; ``saver`` is the wrapped
    threadloom saver.
    """

    def __init__(self, saver: tl.BaseCheckpointSaver[Any]) -> None:
        super().__init__()
        self.saver = saver
        self._heads = _HeadsSeen()

    def __repr__(self) -> str:
        return f"as_langgraph_saver({self.saver!r})"

    # -- the core: what both drivers do before and after the wrapped call --------------------

    def _read(self, config: RunnableConfig, found: tl.CheckpointTuple | None) -> Any:
        """Note the latest checkpoint handed out (or forget a past one read by id)."""
        key = _key(config)
        if key[2] is None:
            self._heads.saw((key[0], key[1], found.checkpoint["id"] if found else None))
        else:
            self._heads.forget(key)
        return _to_langgraph_tuple(found)

    def _put_config(self, config: RunnableConfig) -> RunnableConfig:
        """``config`` with the expected head when its parent is a head this wrapper knows."""
        key = _key(config)
        if key not in self._heads:
            return config
        configurable = {**config.get("configurable", {}), tl.CONFIG_KEY_EXPECTED_HEAD: key[2]}
        return {**config, "configurable": configurable}

    def _wrote(self, stored: RunnableConfig) -> RunnableConfig:
        self._heads.saw(_key(stored))
        return stored

    def _wrapped(self) -> Any:
        return self.saver

    # -- each operation once (``_forward``); ``list`` / ``alist`` are generators ----------------

    def _get_tuple(self, /, config: RunnableConfig) -> Call[lg.CheckpointTuple | None]:
        """The checkpoint ``config`` addresses (the latest without an id)."""
        return Call("get_tuple", (config,), then=lambda found: self._read(config, found))

    def _list(
        self,
        /,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Call[lg.CheckpointTuple]:
        """Checkpoints newest first (filters pushed into the wrapped saver)."""
        options = {"filter": filter, "before": before, "limit": limit}
        return Call("list", (config,), options, then=_to_langgraph_tuple)  # type: ignore[arg-type]

    def _put(
        self,
        /,
        config: RunnableConfig,
        checkpoint: lg.Checkpoint,
        metadata: lg.CheckpointMetadata,
        new_versions: lg.ChannelVersions,
    ) -> Call[RunnableConfig]:
        """Store ``checkpoint`` as a child of ``config``'s checkpoint (head-checked, see above)."""
        converted = checkpoint_to_threadloom(_owned(checkpoint, new_versions))  # now: see _owned
        return Call(
            "put",
            (self._put_config(config), converted, metadata, new_versions),
            then=self._wrote,
        )

    def _put_writes(
        self,
        /,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> Call[None]:
        """Store a task's writes against ``config``'s checkpoint."""
        return Call("put_writes", (config, writes_to_threadloom(writes), task_id, task_path))

    def _prune(
        self,
        /,
        thread_ids: Sequence[str],
        *,
        strategy: str = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> Call[None]:
        """LangGraph's ``prune`` plus threadloom's ``keep_last`` and ``before``."""
        options = {"strategy": _strategy(strategy), "keep_last": keep_last, "before": before}
        return Call("prune", (thread_ids,), options)

    def _thread_size_report(self, /, thread_id: str) -> Call[tl.ThreadSizeReport]:
        """threadloom's counts and stored bytes of one thread."""
        return Call("thread_size_report", (thread_id,))

    get_tuple = sync_op(_get_tuple)
    list = sync_iter(_list)
    put = sync_op(_put)
    put_writes = sync_op(_put_writes)
    prune = sync_op(_prune)
    thread_size_report = sync_op(_thread_size_report)

    aget_tuple = async_op(_get_tuple)
    alist = async_iter(_list)
    aput = async_op(_put)
    aput_writes = async_op(_put_writes)
    aprune = async_op(_prune)
    athread_size_report = async_op(_thread_size_report)

    # -- versions and serializer -------------------------------------------------------------

    def get_next_version(self, current: str | None, channel: None = None) -> str:
        """The wrapped saver's next version (zero-padded strings that sort as numbers)."""
        return self.saver.get_next_version(current, None)  # type: ignore[no-any-return]

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> LangGraphSaver:
        """A clone whose wrapped saver also rebuilds ``extra_allowlist`` (``(module, name)``
        pairs: LangGraph's compile passes its state types when strict msgpack is on)."""
        pairs = [key for key in extra_allowlist if len(key) == 2]
        widened = self.saver.with_allowlist(pairs)
        if widened is self.saver:
            return self
        clone = copy.copy(self)
        clone.saver = widened
        return clone
