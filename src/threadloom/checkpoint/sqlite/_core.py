"""What the SQLite checkpointers do, written once as generators of effects for both drivers.

Each operation is a generator: it yields an effect (run this statement, pause) and receives its
result, so ``SqliteSaver`` (``sqlite3``) and ``AsyncSqliteSaver`` (``aiosqlite``) are thin
drivers that only carry out effects. The statements are named in ``_statements``; the rows are
the shared ones of ``_records`` and ``_delta``; ``put`` runs the shared algorithm of ``_put``.

Transactions are effects too: writes run between ``BEGIN IMMEDIATE`` and ``COMMIT``, reads in
one ``BEGIN`` snapshot. The drivers hold the saver's lock for a whole operation, roll back when
an operation fails half-way, and translate driver errors into ``StorageError``.

The core keeps no serializer: each call takes the saver's, so a clone made by
``with_allowlist`` (which shares this core, its tracker and its connection) encodes and
decodes with its own widened serializer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from threadloom.checkpoint._delta import DeltaTracker
from threadloom.checkpoint._lifecycle import (
    CheckpointInfo,
    checkpoints_to_drop,
    live_blobs,
    validate_prune_args,
)
from threadloom.checkpoint._metadata_filter import filter_json, matches
from threadloom.checkpoint._put import PutPlan, plan_put, probe, remember
from threadloom.checkpoint._records import (
    dumps_fast,
    encode_writes,
    split_checkpoint,
    thread_config,
)
from threadloom.checkpoint.base import (
    INTERRUPT,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    TaskWrites,
    ThreadSizeReport,
    get_serializable_checkpoint_metadata,
)
from threadloom.checkpoint.serde.base import SerializerProtocol
from threadloom.checkpoint.sqlite import _statements as sql
from threadloom.checkpoint.sqlite._checks import database_path, open_file
from threadloom.checkpoint.sqlite._effects import Exec, Fetch, Found, Steps
from threadloom.checkpoint.sqlite._reads import Walk, read_page

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["SqlCore"]

Version = str | int | float

PAGE = 64
"""The most checkpoints a listing reads in one snapshot."""

_BEGIN_WRITE = Fetch(sql.BEGIN_WRITE)
_BEGIN_READ = Fetch(sql.BEGIN_READ)
_COMMIT = Fetch(sql.COMMIT)


def _address(config: RunnableConfig) -> tuple[str, str, str | None]:
    configurable = config["configurable"]
    return (
        str(configurable["thread_id"]),
        configurable.get("checkpoint_ns", ""),
        configurable.get("checkpoint_id"),
    )


class SqlCore:
    """Every checkpoint operation of one connection, as generators of effects."""

    def __init__(self, synchronous: str = "NORMAL") -> None:
        self.synchronous = synchronous
        self.is_setup = False
        self.path: str | None = None
        """The database file, learnt by ``setup`` (for messages)."""
        self.tracker = DeltaTracker()
        """Per (thread, ns, channel): the list version last written or read: the base for the
        next delta, and a shortcut when reading the head."""

    # -- setup --------------------------------------------------------------------------------

    def setup(self) -> Steps[None]:
        """Pragmas, WAL, checks, then create or upgrade the tables (``_checks.open_file``).
        Every operation runs this first (a no-op once done)."""
        if self.is_setup:
            return
        self.path = yield from database_path()  # first: every later error names the file
        yield from open_file(self.synchronous, self.path)
        self.is_setup = True

    # -- reading ------------------------------------------------------------------------------

    def get_tuple(
        self, serde: SerializerProtocol, config: RunnableConfig
    ) -> Steps[CheckpointTuple | None]:
        yield from self.setup()
        thread_id, ns, checkpoint_id = _address(config)
        yield _BEGIN_READ
        if checkpoint_id is None:  # the head: one descending lookup on the primary key
            found = yield Fetch(sql.HEAD_ADDRESS, (thread_id, ns))
            addresses = [tuple(found[0])] if found else []
        else:
            addresses = [(thread_id, ns, checkpoint_id)]
        page = yield from read_page(
            serde, self.tracker, Walk(), addresses, remember_lists=checkpoint_id is None
        )
        yield _COMMIT
        return page[0] if page else None

    def list_addresses(
        self,
        config: RunnableConfig | None,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Steps[list[tuple[str, str, str]]]:
        """(thread, ns, id) of matching checkpoints, newest first; the filter, ``before`` and
        ``limit`` run in SQL where exact; the rest is checked on the decoded metadata."""
        yield from self.setup()
        configurable = (config or {}).get("configurable", {})
        clauses: list[str] = []
        params: list[Any] = []
        if config is not None:
            clauses.append("thread_id = ?")
            params.append(str(configurable["thread_id"]))
        if "checkpoint_ns" in configurable:
            clauses.append("checkpoint_ns = ?")
            params.append(configurable["checkpoint_ns"])
        if configurable.get("checkpoint_id") is not None:
            clauses.append("checkpoint_id = ?")
            params.append(configurable["checkpoint_id"])
        before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
        if before_id is not None:
            clauses.append("checkpoint_id < ?")
            params.append(before_id)
        exact = True
        if filter:
            more, more_params, exact = sql.filter_conditions(filter)
            clauses.extend(more)
            params.extend(more_params)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        statement = f"{sql.LIST_ADDRESSES}{where}ORDER BY checkpoint_id DESC"
        if limit is not None and exact:
            statement += f" LIMIT {int(limit)}"
        rows: list[tuple[str, str, str]] = yield Fetch(statement, params)
        return rows

    def list_checkpoints(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig | None,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Steps[None]:
        """Matching checkpoints, newest first, handed out with ``Found`` one at a time.

        They are read when the caller asks, in pages (each in its own snapshot) of 1, 2, 4 ...
        up to ``PAGE`` checkpoints: ``limit=1`` reads one, a long walk costs a few queries per
        page rather than per checkpoint, and a checkpoint deleted while the caller iterates is
        skipped unless its page was already read."""
        walk = Walk()
        remaining = limit
        addresses = yield from self.list_addresses(config, filter, before, limit)
        start, size = 0, 1
        while start < len(addresses):
            chunk = addresses[start : start + size]
            start, size = start + size, min(2 * size, PAGE)
            yield _BEGIN_READ
            page = yield from read_page(serde, self.tracker, walk, chunk, remember_lists=False)
            yield _COMMIT
            for item in page:
                if item is None or (filter and not matches(item.metadata, filter)):
                    continue
                if remaining is not None:
                    if remaining <= 0:
                        return
                    remaining -= 1
                yield Found(item)

    # -- writing ------------------------------------------------------------------------------

    def put(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Steps[RunnableConfig]:
        return (yield from self.put_step(serde, config, (), checkpoint, metadata, new_versions))

    def put_step(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Steps[RunnableConfig]:
        """The step's task writes and its checkpoint, in one transaction (DECISIONS 3)."""
        thread_id, ns, parent_id = _address(config)
        configurable = config["configurable"]
        header, values = split_checkpoint(checkpoint)
        tag, data = dumps_fast(serde, header, "checkpoint")
        merged = get_serializable_checkpoint_metadata(config, metadata)
        meta_tag, meta_data = dumps_fast(serde, merged, "metadata")
        encoded_writes = [
            self._write_rows(serde, config, task_writes, task_id, task_path)
            for task_id, task_path, task_writes in writes
        ]
        yield from self.setup()
        yield _BEGIN_WRITE
        for statement, rows in encoded_writes:
            yield Exec(statement, rows)
        head = (yield Fetch(sql.HEAD_ID, (thread_id, ns)))[0][0]
        pairs = probe(self.tracker, thread_id, ns, values, new_versions)
        found = yield Fetch(
            sql.STORED_VERSIONS,
            (thread_id, ns, json.dumps([[ch, sql.version_text(v)] for ch, v in pairs])),
        )
        stored = {(channel, sql.version_of(vtext)) for channel, vtext in found}
        plan: PutPlan = plan_put(
            serde, configurable, thread_id, ns, head, values, new_versions, stored, self.tracker
        )
        yield Exec(
            sql.INSERT_BLOB,
            [
                (
                    thread_id,
                    ns,
                    channel,
                    sql.version_text(version),
                    row.kind,
                    row.type,
                    row.data,
                    None if row.base_version is None else sql.version_text(row.base_version),
                    row.index,
                    row.length,
                )
                for channel, version, row in plan.rows
            ],
        )
        yield Fetch(
            sql.UPSERT_CHECKPOINT,
            (
                thread_id,
                ns,
                checkpoint["id"],
                parent_id,
                tag,
                data,
                meta_tag,
                meta_data,
                filter_json(merged),
                checkpoint["ts"],
                merged.get("run_id"),
            ),
        )
        yield _COMMIT
        remember(self.tracker, thread_id, ns, plan)  # only once committed
        return thread_config(thread_id, ns, checkpoint["id"])

    @staticmethod
    def _write_rows(
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> tuple[str, list[tuple[Any, ...]]]:
        """The statement and rows of one task's writes (encoded before any transaction)."""
        thread_id, ns, checkpoint_id = _address(config)
        if checkpoint_id is None:
            raise ValueError(
                f"put_writes for thread {thread_id!r} needs config['configurable']"
                "['checkpoint_id']: the checkpoint the task ran from."
            )
        rows, upsert = encode_writes(serde, writes, task_id, task_path)
        return (sql.REPLACE_WRITES if upsert else sql.KEEP_WRITES), [
            (thread_id, ns, checkpoint_id, r.task_id, r.task_path, r.idx, r.channel, r.type, r.data)
            for r in rows
        ]

    def put_writes(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Steps[None]:
        statement, rows = self._write_rows(serde, config, writes, task_id, task_path)
        yield from self.setup()
        yield _BEGIN_WRITE
        yield Exec(statement, rows)
        yield _COMMIT

    # -- lifecycle ----------------------------------------------------------------------------

    def delete_thread(self, thread_id: str) -> Steps[None]:
        yield from self.setup()
        yield _BEGIN_WRITE
        for statement in sql.DELETE_THREAD:
            yield Fetch(statement, (str(thread_id),))
        yield _COMMIT
        self.tracker.forget_thread(str(thread_id))

    def copy_thread(self, source: str, target: str) -> Steps[None]:
        yield from self.setup()
        yield _BEGIN_WRITE
        for statement in sql.COPY_THREAD:
            yield Fetch(statement, (str(target), str(source)))
        yield _COMMIT
        self.tracker.forget_thread(str(target))

    def _drop(self, thread_id: str, ns: str, ids: set[str]) -> Steps[None]:
        for statement in sql.DROP_CHECKPOINT:
            yield Exec(statement, [(thread_id, ns, checkpoint_id) for checkpoint_id in ids])
        self.tracker.forget_thread(thread_id)

    def _collect(self, serde: SerializerProtocol, thread_id: str) -> Steps[None]:
        """Delete values that no remaining checkpoint of the thread needs."""
        used: list[tuple[tuple[str, str], Version]] = []
        for ns, tag, data in (yield Fetch(sql.HEADERS_OF_THREAD, (thread_id,))):
            header = serde.loads_typed((tag, data))
            used.extend(((ns, ch), v) for ch, v in header["channel_versions"].items())
        stored = {
            ((ns, ch), sql.version_of(v)): None if base is None else sql.version_of(base)
            for ns, ch, v, base in (yield Fetch(sql.BLOB_BASES_OF_THREAD, (thread_id,)))
        }
        live = live_blobs(used, lambda key, version: stored.get((key, version)))
        yield Exec(
            sql.DELETE_BLOB,
            [
                (thread_id, key[0], key[1], sql.version_text(version))
                for key, version in stored
                if (key, version) not in live
            ],
        )
        self.tracker.forget_thread(thread_id)

    def delete_for_runs(self, serde: SerializerProtocol, run_ids: Sequence[str]) -> Steps[None]:
        targets = [str(r) for r in run_ids]
        if not targets:
            return
        yield from self.setup()
        yield _BEGIN_WRITE
        found = yield Fetch(sql.CHECKPOINTS_OF_RUNS, (json.dumps(targets),))
        by_place: dict[tuple[str, str], set[str]] = {}
        for thread_id, ns, checkpoint_id in found:
            by_place.setdefault((thread_id, ns), set()).add(checkpoint_id)
        for (thread_id, ns), ids in by_place.items():
            yield from self._drop(thread_id, ns, ids)
        for thread_id in {t for t, _ns in by_place}:
            yield from self._collect(serde, thread_id)
        yield _COMMIT

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
        yield _BEGIN_WRITE
        for thread_id in map(str, thread_ids):
            by_ns: dict[str, list[CheckpointInfo]] = {}
            for ns, checkpoint_id, parent_id, ts, interrupted in (
                yield Fetch(sql.PRUNE_INFO, (INTERRUPT, thread_id))
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
            if (yield Fetch(sql.ANY_CHECKPOINT, (thread_id,))):
                yield from self._collect(serde, thread_id)
            else:  # nothing left: its writes and values go too
                for statement in sql.DELETE_VALUES_AND_WRITES:
                    yield Fetch(statement, (thread_id,))
                self.tracker.forget_thread(thread_id)
        yield _COMMIT

    def thread_size_report(self, thread_id: str) -> Steps[ThreadSizeReport]:
        thread_id = str(thread_id)
        yield from self.setup()
        yield _BEGIN_READ
        checkpoints, namespaces, checkpoint_bytes = (
            yield Fetch(sql.SIZE_OF_CHECKPOINTS, (thread_id,))
        )[0]
        blobs, delta_blobs, blob_bytes = (yield Fetch(sql.SIZE_OF_BLOBS, (thread_id,)))[0]
        writes, write_bytes = (yield Fetch(sql.SIZE_OF_WRITES, (thread_id,)))[0]
        yield _COMMIT
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
