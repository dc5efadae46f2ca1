"""Deleting, copying, pruning and measuring the threads of an ``InMemorySaver``.

The rules (which checkpoints a prune drops, which stored values stay needed) are
``_lifecycle``'s, shared with the SQL savers; this module applies them to the in-memory rows
of ``_memory_rows``. Every method takes the saver's lock for its whole work.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Sequence
from datetime import datetime

from threadloom.checkpoint._arguments import run_keys, thread_key, thread_keys
from threadloom.checkpoint._delta import BlobRow, DeltaTracker
from threadloom.checkpoint._inline_async import InlineAsyncSaver
from threadloom.checkpoint._lifecycle import (
    CheckpointInfo,
    checkpoints_to_drop,
    live_blobs,
    validate_prune_args,
)
from threadloom.checkpoint._memory_rows import (
    Checkpoints,
    StoredThread,
    header_size,
    header_versions,
    row_of,
)
from threadloom.checkpoint._memory_writes import (
    batch_size,
    keyed_writes,
)
from threadloom.checkpoint.base import INTERRUPT, PruneStrategy, ThreadSizeReport

__all__ = ["MemoryLifecycle"]

Version = str | int | float


class MemoryLifecycle(InlineAsyncSaver):
    """The thread lifecycle methods of ``InMemorySaver`` (its base class)."""

    _lock: threading.RLock
    _threads: dict[str, StoredThread]
    _tracker: DeltaTracker

    def _forget(self, thread_id: str) -> None:
        self._tracker.forget_thread(thread_id)

    def _drop(self, thread_id: str, thread: StoredThread, ns: str, ids: set[str]) -> None:
        """Remove checkpoints and their writes; values are collected by ``_collect``."""
        stored = thread.checkpoints.get(ns) or Checkpoints()
        stored.remove(ids, self.serde)
        for checkpoint_id in ids:
            thread.writes.pop((ns, checkpoint_id), None)
        if not stored.ids:
            thread.checkpoints.pop(ns, None)
        self._forget(thread_id)

    def _collect(self, thread_id: str, thread: StoredThread) -> None:
        """Delete values no remaining checkpoint needs; the thread itself if nothing is left."""
        if not thread.checkpoints:
            self._threads.pop(thread_id, None)
            self._forget(thread_id)
            return
        used = []
        for ns, stored in thread.checkpoints.items():
            for row in stored.rows.values():
                for channel, version in header_versions(row, self.serde).items():
                    used.append(((ns, channel), version))

        def base_of(key: tuple[str, str], version: Version) -> Version | None:
            blob = row_of(thread.blobs.get((*key, version)))
            return blob.base_version if blob is not None else None

        live = live_blobs(used, base_of)
        for ns, channel, version in builtins.list(thread.blobs):
            if ((ns, channel), version) not in live:
                del thread.blobs[(ns, channel, version)]

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._threads.pop(thread_key(thread_id), None)
            self._forget(thread_key(thread_id))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        targets = set(run_keys(run_ids))
        if not targets:
            return
        with self._lock:
            for thread_id, thread in builtins.list(self._threads.items()):
                touched = False
                for ns, stored in builtins.list(thread.checkpoints.items()):
                    ids = {
                        cid
                        for cid, row in stored.rows.items()
                        if row.run_id is not None and str(row.run_id) in targets
                    }
                    if ids:
                        self._drop(thread_id, thread, ns, ids)
                        touched = True
                if touched:
                    self._collect(thread_id, thread)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with self._lock:
            source = self._threads.get(thread_key(source_thread_id))
            if source is None:
                return
            target = self._threads.setdefault(thread_key(target_thread_id), StoredThread())
            # Rows are immutable, so copying the containers copies the thread.
            for ns, stored in source.checkpoints.items():
                copied = target.checkpoints.setdefault(ns, Checkpoints())
                for row in stored.rows.values():
                    copied.add(row, self.serde)
            target.blobs.update(source.blobs)
            for key, writes in source.writes.items():
                if key in target.writes:
                    merged = dict(keyed_writes(target.writes[key]))
                    merged.update(keyed_writes(writes))
                    target.writes[key] = merged
                elif isinstance(writes, dict):
                    target.writes[key] = dict(writes)  # the source may still add to its own
                else:
                    target.writes[key] = writes  # one call: immutable, shared
            self._forget(thread_key(target_thread_id))

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
            for thread_id in thread_keys(thread_ids):
                thread = self._threads.get(thread_id)
                if thread is None:
                    continue
                for ns, stored in builtins.list(thread.checkpoints.items()):
                    infos = [
                        CheckpointInfo(
                            row.checkpoint_id,
                            row.parent_id,
                            row.ts,
                            any(
                                w[0] == INTERRUPT
                                for w in keyed_writes(
                                    thread.writes.get((ns, row.checkpoint_id))
                                ).values()
                            ),
                        )
                        for row in stored.rows.values()
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
            thread = self._threads.get(thread_key(thread_id)) or StoredThread()
            headers = [(r, s.rows) for s in thread.checkpoints.values() for r in s.rows.values()]
            writes = [w for s in thread.writes.values() for w in keyed_writes(s).values()]
            rows = [b for b in thread.blobs.values() if type(b) is BlobRow]
            atoms = [b for b in thread.blobs.values() if type(b) is not BlobRow]
            return ThreadSizeReport(
                thread_id=thread_key(thread_id),
                checkpoints=len(headers),
                namespaces=len(thread.checkpoints),
                writes=len(writes),
                blobs=len(thread.blobs),
                delta_blobs=sum(1 for b in rows if b.kind == "delta"),
                checkpoint_bytes=sum(header_size(r, self.serde, rows) for r, rows in headers),
                blob_bytes=sum(len(b.data) for b in rows)
                + sum(len(self.serde.dumps_typed(a)[1]) for a in atoms),
                # the writes of one call share one batch: count its bytes once
                write_bytes=sum(
                    batch_size(b, self.serde) for b in {id(w[2]): w[2] for w in writes}.values()
                ),
            )
