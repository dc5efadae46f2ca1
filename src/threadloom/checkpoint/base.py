"""The checkpoint data model and the saver interface every backend implements.

A *checkpoint* is the state of one graph (one thread, one checkpoint namespace) after a
superstep; *pending writes* are what tasks wrote while running from it. This module defines
their shapes, the helpers the engine uses to build them, and ``BaseCheckpointSaver`` with its
sync and async methods. How a backend stores them is left to the backend; what a backend must
do is the contract below (and the conformance suite in ``threadloom.checkpoint.conformance``).
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from random import getrandbits as _getrandbits
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    NamedTuple,
    NotRequired,
    Protocol,
    TypedDict,
    TypeVar,
)

from threadloom.checkpoint._delta_history import (
    DeltaChannelHistory,
    run_async,
    run_sync,
    walk_delta_history,
)
from threadloom.checkpoint._header import note_version
from threadloom.checkpoint._metadata import (
    EXCLUDED_METADATA_KEYS,
    get_checkpoint_metadata,
    get_serializable_checkpoint_metadata,
)
from threadloom.checkpoint.id import uuid6_str
from threadloom.checkpoint.serde.base import SerializerProtocol, maybe_add_typed_methods
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import EmptyChannelError

if TYPE_CHECKING:
    from typing import Self

    from langchain_core.runnables import RunnableConfig

__all__ = [
    "CONFIG_KEY_EXPECTED_HEAD",
    "ERROR",
    "EXCLUDED_METADATA_KEYS",
    "INTERRUPT",
    "LATEST_VERSION",
    "RESUME",
    "SCHEDULED",
    "WRITES_IDX_MAP",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "DeltaChannelHistory",
    "EmptyChannelError",
    "PendingWrite",
    "PruneStrategy",
    "StepSave",
    "TaskWrites",
    "ThreadSizeReport",
    "copy_checkpoint",
    "create_checkpoint",
    "empty_checkpoint",
    "get_checkpoint_id",
    "get_checkpoint_metadata",
    "get_serializable_checkpoint_metadata",
    "next_string_version",
    "writes_sort_key",
]

logger = logging.getLogger(__name__)

V = TypeVar("V", int, float, str)

LATEST_VERSION: Final = 4
"""Format version written in ``Checkpoint["v"]``; readers accept older ones."""

CONFIG_KEY_EXPECTED_HEAD: Final = "__pregel_expected_head"
"""Configurable key a run sets on ``put``: the head id of (thread, ns) it last saw, or None for an
empty (thread, ns). When present and the head moved, ``put`` raises CheckpointConflictError.
It starts with ``__`` so it is never copied into metadata."""

ERROR: Final = "__error__"
SCHEDULED: Final = "__scheduled__"
INTERRUPT: Final = "__interrupt__"
RESUME: Final = "__resume__"

WRITES_IDX_MAP: Final[Mapping[str, int]] = {ERROR: -1, SCHEDULED: -2, INTERRUPT: -3, RESUME: -4}
"""Special write channels keep a fixed negative index, so a task has at most one of each."""

ChannelVersions = dict[str, str | int | float]
"""Channel name → its current version."""

PendingWrite = tuple[str, str, Any]
"""``(task_id, channel, value)``."""

TaskWrites = tuple[str, str, Sequence[tuple[str, Any]]]
"""``(task_id, task_path, [(channel, value), ...])``: one task's writes, for ``put_step`` and
``put_writes_batch``."""

PruneStrategy = Literal["keep_latest", "delete"]


class Checkpoint(TypedDict):
    """The state of one (thread, namespace) after a superstep."""

    v: int
    """Format version; see ``LATEST_VERSION``."""
    id: str
    """Time-ordered id (``uuid6``): string order is creation order."""
    ts: str
    """ISO-8601 UTC creation time."""
    channel_values: dict[str, Any]
    """Channels that have a value; empty or never-written channels are absent."""
    channel_versions: ChannelVersions
    """Version of every channel ever written on this branch, including ones now empty."""
    versions_seen: dict[str, ChannelVersions]
    """Per node, the version of each trigger channel it last consumed."""
    updated_channels: builtins.list[str] | None
    """Sorted names of the channels the producing step updated, or None."""
    pending_sends: NotRequired[builtins.list[Any]]
    """Legacy (v < 4); no longer written by the engine, kept when present."""


class CheckpointMetadata(TypedDict, total=False):
    """What a checkpoint records about how it was made; extra keys come from the run config."""

    source: Literal["input", "loop", "update", "fork"]
    step: int
    parents: dict[str, str]
    run_id: str


class CheckpointTuple(NamedTuple):
    """A checkpoint as returned by a saver, with its config, metadata, parent and writes."""

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    parent_config: RunnableConfig | None = None
    pending_writes: builtins.list[PendingWrite] | None = None


@dataclasses.dataclass(slots=True, frozen=True)
class ThreadSizeReport:
    """How much one thread costs in a saver (``saver.thread_size_report(thread_id)``)."""

    thread_id: str
    checkpoints: int
    """Checkpoints stored, over every namespace."""
    namespaces: int
    """Checkpoint namespaces (root graph and subgraphs) that hold checkpoints."""
    writes: int
    """Pending writes stored."""
    blobs: int
    """Stored channel versions (full values, deltas and empty markers)."""
    delta_blobs: int
    """How many of ``blobs`` hold only the tail appended to an earlier version."""
    checkpoint_bytes: int
    """Serialized checkpoint headers and metadata."""
    blob_bytes: int
    """Serialized channel values."""
    write_bytes: int
    """Serialized pending-write values."""

    @property
    def total_bytes(self) -> int:
        """Everything stored for the thread."""
        return self.checkpoint_bytes + self.blob_bytes + self.write_bytes


class _SupportsCheckpoint(Protocol):
    def checkpoint(self) -> Any: ...


def writes_sort_key(key: tuple[str, str, int]) -> tuple[str, str, int]:
    """Sort key of a pending write given as ``(task_path, task_id, idx)``.

    Writes saved without a task path (``""``) sort first, by task id; a task's writes keep their
    index order, special channels (negative indexes) first.
    """
    task_path, task_id, idx = key
    return (task_path, task_id, idx)


def get_checkpoint_id(config: RunnableConfig) -> str | None:
    """The checkpoint id a config addresses, or None for "the latest"."""
    return config.get("configurable", {}).get("checkpoint_id")


def empty_checkpoint() -> Checkpoint:
    """A checkpoint with no channels (legacy helper: it still carries ``pending_sends``)."""
    return Checkpoint(
        v=LATEST_VERSION,
        id=uuid6_str(-2),  # no UUID object: a new thread's run starts here
        ts=datetime.now(UTC).isoformat(),
        channel_values={},
        channel_versions={},
        versions_seen={},
        updated_channels=None,
        pending_sends=[],
    )


def copy_checkpoint(checkpoint: Checkpoint) -> Checkpoint:
    """A copy whose dicts can be changed without touching the original."""
    copied: Checkpoint = {**checkpoint}
    copied["channel_values"] = dict(checkpoint["channel_values"])
    copied["channel_versions"] = dict(checkpoint["channel_versions"])
    copied["versions_seen"] = {k: dict(v) for k, v in checkpoint["versions_seen"].items()}
    copied["pending_sends"] = builtins.list(checkpoint.get("pending_sends", []))
    return copied


def create_checkpoint(
    checkpoint: Checkpoint,
    channels: Mapping[str, _SupportsCheckpoint] | None,
    step: int,
    *,
    id: str | None = None,
    updated_channels: Sequence[str] | None = None,
) -> Checkpoint:
    """A new checkpoint after ``checkpoint``: values read from ``channels`` (or copied when None),
    a fresh id carrying ``step``, the same versions."""
    if channels is None:
        values = dict(checkpoint["channel_values"])
    else:
        values = {}
        for name, channel in channels.items():
            if name not in checkpoint["channel_versions"]:
                continue
            with contextlib.suppress(EmptyChannelError):  # an empty channel has no value
                values[name] = channel.checkpoint()
    return Checkpoint(
        v=LATEST_VERSION,
        id=id or uuid6_str(step),
        ts=datetime.now(UTC).isoformat(),
        channel_values=values,
        channel_versions=dict(checkpoint["channel_versions"]),
        versions_seen={k: dict(v) for k, v in checkpoint["versions_seen"].items()},
        updated_channels=None if updated_channels is None else sorted(updated_channels),
        pending_sends=[],
    )


_last_made: tuple[str | None, int, str] = (None, 0, "")
"""The version ``next_string_version`` made last, with its integer and random parts. The engine
bumps from the newest version, which is usually that one: knowing it saves parsing the string."""


def next_string_version(current: str | int | float | None, channel: None = None) -> str:
    """The string versions the bundled savers use: ``f"{n+1:032}.{random:016}"``.

    Zero padding makes string order numeric order; the random part (two branches bumping one
    version differ) is a float's ``repr`` made without formatting one (~3% of a chain step):
    15 digits from 48 random bits, the first not 0, the last odd, as such a float prints.
    """
    global _last_made
    made, n, _ = _last_made  # one tuple, read and replaced whole: safe across threads
    if current is None:
        n = 0
    elif current is not made:
        if type(current) is str:
            n = int(current.partition(".")[0])
        elif isinstance(current, int):
            n = current
        else:
            n = int(str(current).partition(".")[0])
    n += 1
    random = "0.%d" % (100_000_000_000_001 + 2 * _getrandbits(48))  # noqa: UP031 (speed)
    version = str(n).zfill(32) + "." + random  # (zfill(32): format(n, "032") without a parser)
    _last_made = (version, n, random)
    return version


def next_noted_version(current: str | int | float | None, channel: None = None) -> str:
    """``next_string_version``, noted in the SQL savers' header caches (``_header.note_version``:
    packed and read back without parsing or ``repr``); the memory saver packs nothing."""
    version = next_string_version(current)
    made, n, random = _last_made
    if made is version:  # (else another thread made one since: packed when written, as any)
        note_version(version, n, float(random))
    return version


StepSave = tuple[
    "RunnableConfig", Sequence[TaskWrites], Checkpoint, CheckpointMetadata, "ChannelVersions"
]
"""``(config, writes, checkpoint, metadata, new_versions)``: ``put_step``'s arguments, one item
of ``put_steps``."""


class BaseCheckpointSaver(Generic[V]):
    """Interface of every checkpointer: store checkpoints and pending writes per thread.

    The engine calls the sync methods from ``invoke``/``stream`` and the ``a``-prefixed twins from
    ``ainvoke``/``astream``. ``put``, ``put_writes``, ``get_tuple``, ``list`` and
    ``delete_thread`` are required; ``delete_for_runs``, ``copy_thread`` and ``prune`` are
    optional (the conformance suite detects them by whether the async method is overridden).
    """

    serde: SerializerProtocol = JsonPlusSerializer()

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = maybe_add_typed_methods(serde or self.serde)

    @property
    def config_specs(self) -> builtins.list[Any]:
        """Configurable fields a saver declares; none."""
        return []

    # -- sync -------------------------------------------------------------------------------

    def get(self, config: RunnableConfig) -> Checkpoint | None:
        """The checkpoint ``config`` addresses (the latest without an id), or None."""
        if value := self.get_tuple(config):
            return value.checkpoint
        return None

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` addresses with its metadata, parent and pending writes."""
        raise NotImplementedError

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first, narrowed by config (thread, ns, id), metadata filter,
        ``before`` (strictly older ids) and ``limit``."""
        raise NotImplementedError

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` as a child of ``config``'s checkpoint id; return its config."""
        raise NotImplementedError

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store writes a task made while running from ``config``'s checkpoint."""
        raise NotImplementedError

    def put_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a superstep's unsaved task writes and the checkpoint it produced, together.

        ``writes`` are ``(task_id, task_path, writes)`` made while running from ``config``'s
        checkpoint; the checkpoint is stored as its child, as ``put`` does. A backend with
        transactions overrides this to commit both at once (DECISIONS 3); this default calls
        ``put_writes`` for each task and then ``put``.
        """
        for task_id, task_path, task_writes in writes:
            self.put_writes(config, task_writes, task_id, task_path)
        return self.put(config, checkpoint, metadata, new_versions)

    def put_steps(self, steps: Sequence[StepSave]) -> RunnableConfig:
        """Store several steps in order, each as ``put_step`` stores it; return the config of
        the last checkpoint.

        The engine hands over two steps when a run's input checkpoint and the step that applied
        the input are saved together (nothing ran in between but the built-in input task). A
        backend with transactions overrides this to commit them at once (the SQL savers: one
        transaction; the expected head is checked for the first, and a conflict stores
        nothing); this default calls ``put_step`` for each.
        """
        if not steps:
            raise ValueError("put_steps() needs at least one step: got none")
        for step in steps:
            config = self.put_step(*step)
        return config

    def put_writes_batch(self, config: RunnableConfig, writes: Sequence[TaskWrites]) -> None:
        """Store the writes of several tasks that ran from ``config``'s checkpoint, in one call.

        ``writes`` are ``(task_id, task_path, writes)``; what is stored is what one
        ``put_writes`` per task stores. A backend overrides this to save them at one go; this
        default calls ``put_writes`` for each task.
        """
        for task_id, task_path, task_writes in writes:
            self.put_writes(config, task_writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, write and value of a thread, in all namespaces."""
        raise NotImplementedError

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete checkpoints (and their writes) whose ``metadata["run_id"]`` is listed."""
        raise NotImplementedError

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy a thread's checkpoints, writes and values to another thread, keeping ids."""
        raise NotImplementedError

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        """Drop old checkpoints of the threads; see ``threadloom.checkpoint._lifecycle``."""
        raise NotImplementedError

    def thread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread."""
        raise NotImplementedError

    # -- async ------------------------------------------------------------------------------

    async def aget(self, config: RunnableConfig) -> Checkpoint | None:
        """Async ``get``."""
        if value := await self.aget_tuple(config):
            return value.checkpoint
        return None

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async ``get_tuple``."""
        raise NotImplementedError

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async ``list``."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async ``put``."""
        raise NotImplementedError

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async ``put_writes``."""
        raise NotImplementedError

    async def aput_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async ``put_step``."""
        for task_id, task_path, task_writes in writes:
            await self.aput_writes(config, task_writes, task_id, task_path)
        return await self.aput(config, checkpoint, metadata, new_versions)

    async def aput_steps(self, steps: Sequence[StepSave]) -> RunnableConfig:
        """Async ``put_steps``."""
        if not steps:
            raise ValueError("aput_steps() needs at least one step: got none")
        for step in steps:
            config = await self.aput_step(*step)
        return config

    async def aput_writes_batch(self, config: RunnableConfig, writes: Sequence[TaskWrites]) -> None:
        """Async ``put_writes_batch``."""
        for task_id, task_path, task_writes in writes:
            await self.aput_writes(config, task_writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async ``delete_thread``."""
        raise NotImplementedError

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Async ``delete_for_runs``."""
        raise NotImplementedError

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async ``copy_thread``."""
        raise NotImplementedError

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        """Async ``prune``."""
        raise NotImplementedError

    async def athread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Async ``thread_size_report``."""
        raise NotImplementedError

    # -- delta channel history (LangGraph's DeltaChannel contract) --------------------------

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """For each of ``channels``: the writes of the ancestors of the checkpoint ``config``
        addresses, oldest first, back to the nearest ancestor storing a value (``seed``).

        Follows ``parent_config`` (a fork's own path, not the thread's listing); the target's own
        writes are pending and left out; ``seed`` is absent when no ancestor stores a value.
        Reads each ancestor once with ``get_tuple``.
        """
        return run_sync(walk_delta_history(config, channels), self.get_tuple)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        """Async ``get_delta_channel_history``."""
        return await run_async(walk_delta_history(config, channels), self.aget_tuple)

    # -- versions and serializer -------------------------------------------------------------

    def get_next_version(self, current: V | None, channel: None = None) -> V:
        """Next version of a channel: integers by default (``None`` → 1)."""
        if isinstance(current, str):
            raise NotImplementedError(
                f"get_next_version got the string version {current!r}; the base saver counts "
                "with integers. Override get_next_version in savers that use strings."
            )
        if current is None:
            return 1  # type: ignore[return-value]
        return current + 1

    def with_allowlist(self, extra_allowlist: Any) -> Self:
        """A shallow clone whose serializer also rebuilds ``extra_allowlist`` types.

        Returns ``self`` when nothing changes. The engine calls this at compile time with the
        types of the state schema, so the user's saver object is never mutated.
        """
        widened = _widen_serde(self.serde, extra_allowlist)
        if widened is None:
            logger.warning(
                "%s cannot widen the allow-list of its serializer %r; types outside it will "
                "fail to load.",
                type(self).__name__,
                type(self.serde).__name__,
            )
            return self
        if widened is self.serde:
            return self
        clone = copy.copy(self)
        clone.serde = widened
        return clone


def _widen_serde(serde: SerializerProtocol, extra: Any) -> SerializerProtocol | None:
    """``serde`` with a wider allow-list, itself if unchanged, or None if it has no allow-list."""
    widen = getattr(serde, "with_allowlist", None)
    if widen is None:
        return None
    return widen(extra)  # type: ignore[no-any-return]
