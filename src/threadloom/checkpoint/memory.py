"""``InMemorySaver``: checkpoints kept in process memory, for tests, demos and single processes.

It stores exactly the rows a database backend stores (``_records``): headers, one serialized row
per changed (channel, version), deltas for growing lists, pending writes. Everything goes through
the serializer, so stored values are copies. The newest decoded version of each list channel is
kept: reading the head of a long chat thread does not decode its history again, and each read
returns a new list (elements are shared, not copied: treat checkpointed values as immutable, as
LangGraph asks nodes to).
"""

from __future__ import annotations

import builtins
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from threadloom.checkpoint._delta import BlobRow, DeltaTracker, rebuild
from threadloom.checkpoint._lifecycle import (
    CheckpointInfo,
    checkpoints_to_drop,
    live_blobs,
    validate_prune_args,
)
from threadloom.checkpoint._records import (
    CheckpointRow,
    WriteRow,
    check_expected_head,
    encode_channel_values,
    encode_writes,
    pending_writes,
    split_checkpoint,
    thread_config,
)
from threadloom.checkpoint.base import (
    INTERRUPT,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    ThreadSizeReport,
    get_serializable_checkpoint_metadata,
    next_string_version,
)
from threadloom.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["InMemorySaver", "MemorySaver"]

Version = str | int | float
BlobKey = tuple[str, str, Version]  # (ns, channel, version)


@dataclass(slots=True)
class _Thread:
    """Everything stored for one thread."""

    checkpoints: dict[str, dict[str, CheckpointRow]] = field(default_factory=dict)
    """ns → checkpoint id → header."""
    heads: dict[str, str] = field(default_factory=dict)
    """ns → newest checkpoint id (one dict lookup for "latest" and for conflict checks)."""
    blobs: dict[BlobKey, BlobRow] = field(default_factory=dict)
    writes: dict[tuple[str, str], dict[tuple[str, int], WriteRow]] = field(default_factory=dict)
    """(ns, checkpoint id) → (task_id, idx) → write."""


class InMemorySaver(BaseCheckpointSaver[str]):
    """A checkpointer that keeps everything in memory (alias ``MemorySaver``).

    Usable as a sync or async context manager. Thread-safe: one lock guards all state, and a
    ``put`` checks the expected head and writes under it, atomically.
    """

    def __init__(
        self, *, serde: SerializerProtocol | None = None, factory: type = defaultdict
    ) -> None:
        super().__init__(serde=serde)
        if factory not in (defaultdict, dict):
            raise ValueError(
                f"InMemorySaver(factory={factory!r}) is not supported: threadloom's in-memory "
                "saver keeps its own structures. For data that outlives the process, use "
                "SqliteSaver."
            )
        self._lock = threading.RLock()
        self._threads: dict[str, _Thread] = {}
        self._tracker = DeltaTracker()
        """Per (thread, ns, channel): the list version last written or returned, decoded. It is
        both the base for the next delta and the read cache of the head (one version per channel,
        so memory stays linear in the conversation)."""

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def __aenter__(self) -> InMemorySaver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    # -- reading ------------------------------------------------------------------------------

    def _load_value(
        self,
        thread_id: str,
        thread: _Thread,
        ns: str,
        channel: str,
        version: Version,
        remember: bool,
    ) -> tuple[bool, Any]:
        """``(present, value)`` of one channel version.

        A list is rebuilt from its delta chain, short-cut by the version the saver last wrote or
        returned for the channel (the head, on the hot path). ``remember`` makes this read the
        new "last returned" version: reads of the head do, history listings do not.
        """
        row = thread.blobs.get((ns, channel, version))
        if row is None or row.kind == "empty":
            return False, None
        if row.length < 0:  # not a list: decoded afresh, so callers get their own copy
            return True, self.serde.loads_typed((row.type, row.data))
        key = (thread_id, ns, channel)
        known = self._tracker.get(key)
        decoded = rebuild(
            version,
            lambda v: thread.blobs.get((ns, channel, v)),
            lambda r: self.serde.loads_typed((r.type, r.data)),
            lambda v: known if known is not None and known.version == v else None,
        )
        if decoded is None:
            return False, None
        if remember:
            self._tracker.remember(key, decoded)
        return True, list(decoded.value)

    def _tuple(
        self, thread_id: str, thread: _Thread, ns: str, row: CheckpointRow, remember: bool
    ) -> CheckpointTuple:
        header = self.serde.loads_typed(row.checkpoint)
        values = {}
        for channel, version in header["channel_versions"].items():
            present, value = self._load_value(thread_id, thread, ns, channel, version, remember)
            if present:
                values[channel] = value
        header["channel_values"] = values
        checkpoint: Checkpoint = header
        writes = thread.writes.get((ns, row.checkpoint_id), {})
        return CheckpointTuple(
            config=thread_config(thread_id, ns, row.checkpoint_id),
            checkpoint=checkpoint,
            metadata=self.serde.loads_typed(row.metadata),
            parent_config=(thread_config(thread_id, ns, row.parent_id) if row.parent_id else None),
            pending_writes=pending_writes(self.serde, writes.values()),
        )

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = configurable.get("checkpoint_id")
        with self._lock:
            thread = self._threads.get(thread_id)
            if thread is None:
                return None
            if checkpoint_id is None:
                checkpoint_id = thread.heads.get(ns)
                if checkpoint_id is None:
                    return None
                echo = None
            else:
                echo = config  # LangGraph's in-memory saver echoes a request that names an id
            row = thread.checkpoints.get(ns, {}).get(checkpoint_id)
            if row is None:
                return None
            found = self._tuple(thread_id, thread, ns, row, remember=True)
        if echo is not None:
            echoed: RunnableConfig = {
                **echo,
                "configurable": {**echo["configurable"], "checkpoint_ns": ns},
            }
            found = found._replace(config=echoed)
        return found

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        configurable = (config or {}).get("configurable", {})
        wanted_id = configurable.get("checkpoint_id")
        before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
        with self._lock:
            if config is None:
                thread_ids = builtins.list(self._threads)
            else:
                thread_ids = [str(configurable["thread_id"])]
            addresses = []
            for thread_id in thread_ids:
                thread = self._threads.get(thread_id)
                if thread is None:
                    continue
                for ns, rows in thread.checkpoints.items():
                    if "checkpoint_ns" in configurable and ns != configurable["checkpoint_ns"]:
                        continue
                    for checkpoint_id in sorted(rows, reverse=True):
                        if wanted_id is not None and checkpoint_id != wanted_id:
                            continue
                        if before_id is not None and checkpoint_id >= before_id:
                            continue
                        addresses.append((thread_id, ns, checkpoint_id))
        remaining = limit
        for thread_id, ns, checkpoint_id in addresses:
            if remaining is not None and remaining <= 0:
                return
            with self._lock:  # rows may have been deleted while the caller iterated
                thread = self._threads.get(thread_id)
                row = thread.checkpoints.get(ns, {}).get(checkpoint_id) if thread else None
                if thread is None or row is None:
                    continue
                if filter:
                    metadata = self.serde.loads_typed(row.metadata)
                    if any(metadata.get(k) != v for k, v in filter.items()):
                        continue
                found = self._tuple(thread_id, thread, ns, row, remember=False)
            if remaining is not None:
                remaining -= 1
            yield found

    # -- writing ------------------------------------------------------------------------------

    def _known_list(self, thread_id: str, thread: _Thread | None, ns: str, channel: str) -> Any:
        known = self._tracker.get((thread_id, ns, channel))
        if known is None or thread is None or (ns, channel, known.version) not in thread.blobs:
            return None  # unknown, or pruned since: the next value is stored whole
        return known

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        header, values = split_checkpoint(checkpoint)
        stored_metadata = get_serializable_checkpoint_metadata(config, metadata)
        with self._lock:
            thread = self._threads.get(thread_id)
            head = thread.heads.get(ns) if thread is not None else None
            check_expected_head(configurable, thread_id, ns, head)
            # A (channel, version) names one value: an existing row is never rewritten, so a
            # delta's base can never change under it (re-putting a checkpoint id still upserts
            # its header).
            fresh = {
                channel: version
                for channel, version in new_versions.items()
                if thread is None or (ns, channel, version) not in thread.blobs
            }
            rows, lists = encode_channel_values(
                self.serde,
                values,
                fresh,
                lambda channel: self._known_list(thread_id, thread, ns, channel),
            )
            row = CheckpointRow(
                checkpoint_id=checkpoint["id"],
                parent_id=configurable.get("checkpoint_id"),
                checkpoint=self.serde.dumps_typed(header),
                metadata=self.serde.dumps_typed(stored_metadata),
                ts=checkpoint["ts"],
                run_id=stored_metadata.get("run_id"),
            )
            # Everything is encoded: from here on nothing can fail, so nothing is half-stored.
            if thread is None:
                thread = self._threads[thread_id] = _Thread()
            for channel, blob in rows.items():
                thread.blobs[(ns, channel, fresh[channel])] = blob
            for channel, decoded in lists.items():
                self._tracker.remember((thread_id, ns, channel), decoded)
            thread.checkpoints.setdefault(ns, {})[row.checkpoint_id] = row
            if head is None or row.checkpoint_id > head:
                thread.heads[ns] = row.checkpoint_id
        return thread_config(thread_id, ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = configurable.get("checkpoint_id")
        if checkpoint_id is None:
            raise ValueError(
                f"put_writes for thread {thread_id!r} needs config['configurable']"
                "['checkpoint_id']: the checkpoint the task ran from."
            )
        rows, upsert = encode_writes(self.serde, writes, task_id, task_path)
        with self._lock:
            thread = self._threads.get(thread_id)
            if thread is None:
                thread = self._threads[thread_id] = _Thread()
            bucket = thread.writes.setdefault((ns, checkpoint_id), {})
            for row in rows:
                key = (row.task_id, row.idx)
                if upsert or key not in bucket:
                    bucket[key] = row

    def get_next_version(self, current: str | None, channel: None = None) -> str:
        """``f"{n+1:032}.{random}"``: zero-padded so string order is numeric order."""
        return next_string_version(current)

    # -- lifecycle ----------------------------------------------------------------------------

    def _forget(self, thread_id: str) -> None:
        self._tracker.forget_thread(thread_id)

    def _drop(self, thread_id: str, thread: _Thread, ns: str, ids: set[str]) -> None:
        """Remove checkpoints and their writes; values are collected by ``_collect``."""
        rows = thread.checkpoints.get(ns, {})
        for checkpoint_id in ids:
            rows.pop(checkpoint_id, None)
            thread.writes.pop((ns, checkpoint_id), None)
        if rows:
            thread.heads[ns] = max(rows)
        else:
            thread.checkpoints.pop(ns, None)
            thread.heads.pop(ns, None)
        self._forget(thread_id)

    def _collect(self, thread_id: str, thread: _Thread) -> None:
        """Delete values no remaining checkpoint needs; the thread itself if nothing is left."""
        if not thread.checkpoints:
            self._threads.pop(thread_id, None)
            self._forget(thread_id)
            return
        used = []
        for ns, rows in thread.checkpoints.items():
            for row in rows.values():
                for channel, version in self.serde.loads_typed(row.checkpoint)[
                    "channel_versions"
                ].items():
                    used.append(((ns, channel), version))

        def base_of(key: tuple[str, str], version: Version) -> Version | None:
            blob = thread.blobs.get((*key, version))
            return blob.base_version if blob is not None else None

        live = live_blobs(used, base_of)
        for ns, channel, version in builtins.list(thread.blobs):
            if ((ns, channel), version) not in live:
                del thread.blobs[(ns, channel, version)]

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._threads.pop(str(thread_id), None)
            self._forget(str(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        targets = set(run_ids)
        if not targets:
            return
        with self._lock:
            for thread_id, thread in builtins.list(self._threads.items()):
                touched = False
                for ns, rows in builtins.list(thread.checkpoints.items()):
                    ids = {cid for cid, row in rows.items() if row.run_id in targets}
                    if ids:
                        self._drop(thread_id, thread, ns, ids)
                        touched = True
                if touched:
                    self._collect(thread_id, thread)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with self._lock:
            source = self._threads.get(str(source_thread_id))
            if source is None:
                return
            target = self._threads.setdefault(str(target_thread_id), _Thread())
            # Rows are immutable, so copying the containers copies the thread.
            for ns, rows in source.checkpoints.items():
                target.checkpoints.setdefault(ns, {}).update(rows)
                target.heads[ns] = max(target.checkpoints[ns])
            target.blobs.update(source.blobs)
            for key, bucket in source.writes.items():
                target.writes.setdefault(key, {}).update(bucket)
            self._forget(str(target_thread_id))

    def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        validate_prune_args(strategy, keep_last, before)
        with self._lock:
            for thread_id in map(str, thread_ids):
                thread = self._threads.get(thread_id)
                if thread is None:
                    continue
                for ns, rows in builtins.list(thread.checkpoints.items()):
                    infos = [
                        CheckpointInfo(
                            row.checkpoint_id,
                            row.parent_id,
                            row.ts,
                            any(
                                w.channel == INTERRUPT
                                for w in thread.writes.get((ns, row.checkpoint_id), {}).values()
                            ),
                        )
                        for row in rows.values()
                    ]
                    drop = checkpoints_to_drop(
                        infos, strategy=strategy, keep_last=keep_last, before=before
                    )
                    if drop:
                        self._drop(thread_id, thread, ns, drop)
                self._collect(thread_id, thread)

    def thread_size_report(self, thread_id: str) -> ThreadSizeReport:
        """Counts and stored bytes of one thread (all zero for an unknown thread)."""
        with self._lock:
            thread = self._threads.get(str(thread_id)) or _Thread()
            headers = [row for rows in thread.checkpoints.values() for row in rows.values()]
            writes = [w for bucket in thread.writes.values() for w in bucket.values()]
            return ThreadSizeReport(
                thread_id=str(thread_id),
                checkpoints=len(headers),
                namespaces=len(thread.checkpoints),
                writes=len(writes),
                blobs=len(thread.blobs),
                delta_blobs=sum(1 for b in thread.blobs.values() if b.kind == "delta"),
                checkpoint_bytes=sum(len(r.checkpoint[1]) + len(r.metadata[1]) for r in headers),
                blob_bytes=sum(len(b.data) for b in thread.blobs.values()),
                write_bytes=sum(len(w.data) for w in writes),
            )

    # -- async: the same work, done inline (nothing here waits) --------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

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

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        self.delete_for_runs(run_ids)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self.copy_thread(source_thread_id, target_thread_id)

    async def aprune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "keep_latest",
        keep_last: int | None = None,
        before: datetime | None = None,
    ) -> None:
        self.prune(thread_ids, strategy=strategy, keep_last=keep_last, before=before)

    async def athread_size_report(self, thread_id: str) -> ThreadSizeReport:
        return self.thread_size_report(thread_id)


MemorySaver = InMemorySaver
"""LangGraph's older name for ``InMemorySaver``."""
