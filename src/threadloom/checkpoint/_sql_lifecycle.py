"""The lifecycle operations of a SQL saver (delete, copy, delete runs, prune, size report), as
generators of effects: the part of ``SqlCore`` that removes or measures what puts stored.

Every operation runs in one write (or read) transaction; removing checkpoints removes the values
no remaining checkpoint of the thread needs (``_lifecycle.live_blobs``), and forgets what the
saver kept of the thread (its delta bases).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from threadloom.checkpoint._arguments import run_keys, thread_key, thread_keys
from threadloom.checkpoint._delta import DeltaTracker
from threadloom.checkpoint._header import channel_versions_of
from threadloom.checkpoint._lifecycle import (
    CheckpointInfo,
    checkpoints_to_drop,
    live_blobs,
    validate_prune_args,
)
from threadloom.checkpoint._sql_effects import Exec, Fetch, Steps
from threadloom.checkpoint._sql_reads import Statements
from threadloom.checkpoint.base import INTERRUPT, PruneStrategy, ThreadSizeReport
from threadloom.checkpoint.serde.base import SerializerProtocol

__all__ = ["SqlLifecycle"]

Version = str | int | float


class SqlLifecycle:
    """``SqlCore``'s lifecycle operations (it sets what is declared here)."""

    sql: Statements
    tracker: DeltaTracker
    _begin_write: Fetch
    _begin_read: Fetch
    _commit: Fetch

    if TYPE_CHECKING:

        def setup(self) -> Steps[None]: ...

    def delete_thread(self, thread_id: str) -> Steps[None]:
        yield from self.setup()
        yield self._begin_write
        for statement in self.sql.DELETE_THREAD:
            yield Fetch(statement, (thread_key(thread_id),))
        yield self._commit
        self.tracker.forget_thread(thread_key(thread_id))

    def copy_thread(self, source: str, target: str) -> Steps[None]:
        yield from self.setup()
        yield self._begin_write
        for statement in self.sql.COPY_THREAD:
            yield Fetch(statement, (thread_key(target), thread_key(source)))
        yield self._commit
        self.tracker.forget_thread(thread_key(target))

    def _drop(self, thread_id: str, ns: str, ids: set[str]) -> Steps[None]:
        for statement in self.sql.DROP_CHECKPOINT:
            yield Exec(statement, [(thread_id, ns, checkpoint_id) for checkpoint_id in ids])
        self.tracker.forget_thread(thread_id)

    def _collect(self, serde: SerializerProtocol, thread_id: str) -> Steps[None]:
        """Delete values that no remaining checkpoint of the thread needs."""
        used: list[tuple[tuple[str, str], Version]] = []
        for ns, tag, data in (yield Fetch(self.sql.HEADERS_OF_THREAD, (thread_id,))):
            versions = channel_versions_of(serde.loads_typed((tag, data)))
            used.extend(((ns, ch), v) for ch, v in versions.items())
        stored = {
            ((ns, ch), self.sql.version_of(v)): None if base is None else self.sql.version_of(base)
            for ns, ch, v, base in (yield Fetch(self.sql.BLOB_BASES_OF_THREAD, (thread_id,)))
        }
        live = live_blobs(used, lambda key, version: stored.get((key, version)))
        yield Exec(
            self.sql.DELETE_BLOB,
            [
                (thread_id, key[0], key[1], self.sql.version_text(version))
                for key, version in stored
                if (key, version) not in live
            ],
        )
        self.tracker.forget_thread(thread_id)

    def delete_for_runs(self, serde: SerializerProtocol, run_ids: Sequence[str]) -> Steps[None]:
        targets = run_keys(run_ids)
        if not targets:
            return
        yield from self.setup()
        yield self._begin_write
        found = yield Fetch(self.sql.CHECKPOINTS_OF_RUNS, (json.dumps(targets),))
        by_place: dict[tuple[str, str], set[str]] = {}
        for thread_id, ns, checkpoint_id in found:
            by_place.setdefault((thread_id, ns), set()).add(checkpoint_id)
        for (thread_id, ns), ids in by_place.items():
            yield from self._drop(thread_id, ns, ids)
        for thread_id in {t for t, _ns in by_place}:
            yield from self._collect(serde, thread_id)
        yield self._commit

    def prune(
        self,
        serde: SerializerProtocol,
        thread_ids: Sequence[str],
        strategy: PruneStrategy,
        keep_last: int | None,
        before: datetime | None,
    ) -> Steps[None]:
        validate_prune_args(strategy, keep_last, before)
        yield from self.setup()
        yield self._begin_write
        for thread_id in thread_keys(thread_ids):
            by_ns: dict[str, list[CheckpointInfo]] = {}
            for ns, checkpoint_id, parent_id, ts, interrupted in (
                yield Fetch(self.sql.PRUNE_INFO, (INTERRUPT, thread_id))
            ):
                by_ns.setdefault(ns, []).append(
                    CheckpointInfo(checkpoint_id, parent_id, ts, bool(interrupted))
                )
            for ns, infos in by_ns.items():
                drop = checkpoints_to_drop(
                    infos, strategy=strategy, keep_last=keep_last, before=before
                )
                if drop:
                    yield from self._drop(thread_id, ns, drop)
            if (yield Fetch(self.sql.ANY_CHECKPOINT, (thread_id,))):
                yield from self._collect(serde, thread_id)
            else:  # nothing left: its writes and values go too
                for statement in self.sql.DELETE_VALUES_AND_WRITES:
                    yield Fetch(statement, (thread_id,))
                self.tracker.forget_thread(thread_id)
        yield self._commit

    def thread_size_report(self, thread_id: str) -> Steps[ThreadSizeReport]:
        thread_id = thread_key(thread_id)
        yield from self.setup()
        yield self._begin_read
        checkpoints, namespaces, checkpoint_bytes = (
            yield Fetch(self.sql.SIZE_OF_CHECKPOINTS, (thread_id,))
        )[0]
        blobs, delta_blobs, blob_bytes = (yield Fetch(self.sql.SIZE_OF_BLOBS, (thread_id,)))[0]
        writes, write_bytes = (yield Fetch(self.sql.SIZE_OF_WRITES, (thread_id,)))[0]
        yield self._commit
        return ThreadSizeReport(
            thread_id=thread_id,
            checkpoints=checkpoints,
            namespaces=namespaces,
            writes=writes,
            blobs=blobs,
            delta_blobs=delta_blobs,
            checkpoint_bytes=checkpoint_bytes,
            blob_bytes=blob_bytes,
            write_bytes=write_bytes,
        )
