"""What the SQL checkpointers do, written once as generators of effects for every driver.

Each operation is a generator: it yields an effect (run this statement, pause) and receives its
result, so the savers (``SqliteSaver`` on ``sqlite3``, ``AsyncSqliteSaver`` on ``aiosqlite``,
``PostgresSaver`` / ``AsyncPostgresSaver`` on psycopg) are thin drivers that only carry out
effects. The SQL is not written here: each backend names its statements in a module
(``sqlite/_statements``, ``postgres/_statements``) handed to the core, and subclasses the core
for its ``setup``. The rows are the shared ones of ``_records`` and ``_delta``; ``put`` runs the
shared algorithm of ``_put``.

Transactions are effects too: writes run between the backend's ``BEGIN_WRITE`` and ``COMMIT``
(SQLite: ``BEGIN IMMEDIATE``, one writer per file; PostgreSQL: ``BEGIN`` then ``LOCK_HEAD``, a
lock on the (thread, namespace) taken before anything is read, so the expected-head check of two
writers on one thread is serialized), reads in one snapshot (``BEGIN_READ``). The drivers roll
back when an operation fails half-way and translate driver errors into ``StorageError``.

The core keeps no serializer: each call takes the saver's, so a clone made by
``with_allowlist`` (which shares this core, its tracker and its connection) encodes and
decodes with its own widened serializer.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from threadloom.checkpoint._arguments import thread_key
from threadloom.checkpoint._delta import DeltaTracker
from threadloom.checkpoint._header import channel_versions_of, pack_header
from threadloom.checkpoint._metadata import is_root_step_metadata, merge_metadata
from threadloom.checkpoint._metadata_filter import matches
from threadloom.checkpoint._put import PutPlan, plan_put, probe, remember
from threadloom.checkpoint._records import (
    METADATA_IN_JSON,
    PACK_MIN_BYTES,
    dumps_fast,
    encode_metadata,
    encode_writes,
    pack_data,
    split_checkpoint,
    thread_config,
)
from threadloom.checkpoint._sql_effects import Exec, Fetch, Found, Steps
from threadloom.checkpoint._sql_head import HeadCache, KeptHead
from threadloom.checkpoint._sql_lifecycle import SqlLifecycle
from threadloom.checkpoint._sql_reads import (
    RawPage,
    Statements,
    Walk,
    decode_page,
    fetch_page,
    read_page,
)
from threadloom.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    StepSave,
    TaskWrites,
)
from threadloom.checkpoint.serde.base import SerializerProtocol, shared_encodings
from threadloom.errors import MissingCheckpointIdError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["EncodedStep", "SqlCore"]

T = TypeVar("T")

Version = str | int | float

PAGE = 64
"""The most checkpoints a listing reads in one snapshot."""


def _address(config: RunnableConfig) -> tuple[str, str, str | None]:
    configurable = config["configurable"]
    return (
        thread_key(configurable["thread_id"]),
        configurable.get("checkpoint_ns", ""),
        configurable.get("checkpoint_id"),
    )


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is slower, and this is made
class EncodedStep:  # on every put (treat it as read-only)
    """A step as a SQL saver writes it, encoded before any transaction (``encode_step``)."""

    configurable: Mapping[str, Any]
    thread_id: str
    ns: str
    values: Mapping[str, Any]
    """The checkpoint's channel values (encoded by ``plan_step``, once the stored ones are
    known)."""
    new_versions: ChannelVersions
    channel_versions: Mapping[str, Version]
    writes: list[tuple[str, list[tuple[Any, ...]]]]
    """``(statement, rows)`` of each task's writes."""
    row: tuple[Any, ...]
    """The checkpoint's row, as ``UPSERT_CHECKPOINT`` binds it."""
    serde: SerializerProtocol
    """What its values are encoded with (``plan_step``)."""


class SqlCore(SqlLifecycle):
    """Every checkpoint operation of one saver, as generators of effects.

    ``sql`` is the backend's statements module (see ``_sql_reads.Statements``); a backend
    subclasses this for ``setup``, which every operation runs first (a no-op once done).
    """

    metadata_json_only = False
    """Store JSON-only metadata once, in the JSON column (``_records.encode_metadata``): only for
    a backend whose column reads back the very text written and whose ``HEADERS_AT`` gives that
    text as the metadata data of such a row."""

    def __init__(self, sql: Statements) -> None:
        self.sql = sql
        self.is_setup = False
        self.tracker = DeltaTracker()
        """Per (thread, ns, channel): the list version last written or read: the base for the
        next delta, and a shortcut when reading the head."""
        self.heads = HeadCache()
        """The head each (thread, ns) had when this saver last wrote or read it, for a backend
        with ``head_token`` (``_sql_head``)."""
        self._begin_write = Fetch(self.sql.BEGIN_WRITE)
        self._begin_read = Fetch(self.sql.BEGIN_READ)
        self._commit = Fetch(self.sql.COMMIT)

    def setup(self) -> Steps[None]:
        """Make the tables ready (the backend's own)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def head_token(self) -> Steps[Any]:
        """What says nothing changed in the database (``_sql_head``); None (the default): this
        backend cannot tell, and keeps no head."""
        return None
        yield  # pragma: no cover

    def token_after_put(self, upserted: Any) -> Any:
        """The token once the put whose ``UPSERT_CHECKPOINT`` gave back ``upserted`` commits;
        None if unknown."""
        return None

    # -- reading ------------------------------------------------------------------------------

    def get_tuple(
        self, serde: SerializerProtocol, config: RunnableConfig
    ) -> Steps[CheckpointTuple | None]:
        yield from self.setup()
        thread_id, ns, checkpoint_id = _address(config)
        if checkpoint_id is not None:
            yield self._begin_read
            addresses = [(thread_id, ns, checkpoint_id)]
            page = yield from self._rows_read(
                read_page(self.sql, serde, self.tracker, Walk(), addresses, remember_lists=False)
            )
            yield self._commit
            return page[0] if page else None
        kept = self.heads.get(thread_id, ns)
        if (
            kept is not None
            and kept.complete(self.tracker)
            and (yield from self.head_token()) == kept.token  # nothing changed: no read
        ):
            address = (thread_id, ns, kept.header[1])
            walk = Walk()
            walk.rows.update(kept.rows)
            raw = RawPage({address: kept.header}, {address: list(kept.writes)})
            return decode_page(serde, self.tracker, walk, [address], raw, True)[0]
        yield self._begin_read
        token = yield from self.head_token()  # of the snapshot read
        found = yield Fetch(self.sql.HEAD_ADDRESS, (thread_id, ns))  # one descending lookup
        addresses = [tuple(found[0])] if found else []
        walk = Walk()
        raw = yield from self._rows_read(fetch_page(self.sql, serde, self.tracker, walk, addresses))
        yield self._commit
        if token is not None and addresses and addresses[0] in raw.headers:
            self._keep_read(token, raw, walk, addresses[0])
        page = decode_page(serde, self.tracker, walk, addresses, raw, remember_lists=True)
        return page[0] if page else None

    def _rows_read(self, steps: Steps[T]) -> Steps[T]:
        """A read of stored rows (``read_page``, ``fetch_page``) as this backend runs it: as it
        is here; SQLite answers its value-row queries with whole delta chains
        (``_sql_chains``)."""
        return steps

    def _keep_read(
        self, token: Any, raw: RawPage, walk: Walk, address: tuple[str, str, str]
    ) -> None:
        """Keep the head just read (before ``decode_page`` takes its decoded header)."""
        thread_id, ns, _checkpoint_id = address
        versions = channel_versions_of(raw.loaded[address])
        rows = {
            (thread_id, ns, ch, v): walk.rows.get((thread_id, ns, ch, v))
            for ch, v in versions.items()
        }
        writes = tuple(raw.writes.get(address, ()))
        self.heads.keep(thread_id, ns, KeptHead(token, raw.headers[address], rows, writes))

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
        sql = self.sql
        if config is not None:
            clauses.append(sql.LIST_BY_THREAD)
            params.append(thread_key(configurable["thread_id"]))
        if "checkpoint_ns" in configurable:
            clauses.append(sql.LIST_BY_NS)
            params.append(configurable["checkpoint_ns"])
        if configurable.get("checkpoint_id") is not None:
            clauses.append(sql.LIST_BY_ID)
            params.append(configurable["checkpoint_id"])
        before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
        if before_id is not None:
            clauses.append(sql.LIST_BEFORE)
            params.append(before_id)
        exact = True
        if filter:
            more, more_params, exact = sql.filter_conditions(filter)
            clauses.extend(more)
            params.extend(more_params)
        where = f"WHERE {' AND '.join(clauses)} " if clauses else ""
        statement = f"{sql.LIST_ADDRESSES}{where}{sql.LIST_ORDER}"
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
        up to ``PAGE`` checkpoints, the first of ``limit`` when given (``limit=10`` reads ten
        at once, as many queries as one): a long walk costs a few queries per page rather than
        per checkpoint, and a checkpoint deleted while the caller iterates is skipped unless
        its page was already read."""
        walk = Walk()
        remaining = limit
        addresses = yield from self.list_addresses(config, filter, before, limit)
        start, size = 0, min(max(limit or 1, 1), PAGE)
        while start < len(addresses):
            chunk = addresses[start : start + size]
            start, size = start + size, min(2 * size, PAGE)
            yield self._begin_read
            page = yield from self._rows_read(
                read_page(self.sql, serde, self.tracker, walk, chunk, remember_lists=False)
            )
            yield self._commit
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
        step = (config, (), checkpoint, metadata, new_versions)
        return (yield from self.put_steps(serde, (step,)))

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
        step = (config, writes, checkpoint, metadata, new_versions)
        return (yield from self.put_steps(serde, (step,)))

    def put_steps(
        self, serde: SerializerProtocol, steps: Sequence[StepSave]
    ) -> Steps[RunnableConfig]:
        """Steps in order (each ``put_step``'s arguments), in one transaction: the first's
        expected head is checked, each later one's is the one before; a conflict stores
        nothing. A backend overrides this for speed (``put_checked_steps`` is the general
        path)."""
        return (yield from self.put_checked_steps(serde, steps))

    def put_checked_steps(
        self, serde: SerializerProtocol, steps: Sequence[StepSave]
    ) -> Steps[RunnableConfig]:
        """``put_steps`` on the general path: everything encoded, then ``put_checked``."""
        encoded = [self.encode_step(serde, *step) for step in steps]
        yield from self.setup()
        return (yield from self.put_checked(*encoded))

    def encode_step(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> EncodedStep:
        """Everything of a step that encodes without the database (before any transaction),
        with the serializer its values are encoded with too (``plan_step``): one that encodes
        a ``Send`` in the writes and in the checkpoint's packets once."""
        if writes:
            serde = shared_encodings(serde)
        address = _address(config)
        thread_id, ns, parent_id = address
        header, values = split_checkpoint(checkpoint)
        tag, data = dumps_fast(serde, pack_header(header), "checkpoint")
        root_step = is_root_step_metadata(metadata)  # asked once, for the merge and the encoding
        merged = merge_metadata(config, metadata, root_step)  # keeps `writes`, as LangGraph
        meta_tag, meta_data, meta_json = encode_metadata(
            serde, merged, self.metadata_json_only, root_step and len(merged) == len(metadata)
        )
        encoded_writes = [
            self._write_rows_at(serde, address, task_writes, task_id, task_path)
            for task_id, task_path, task_writes in writes
        ]
        row: tuple[Any, ...] = (thread_id, ns, checkpoint["id"], parent_id, tag, data)
        row += (meta_tag, meta_data, meta_json, checkpoint["ts"], merged.get("run_id"))
        return EncodedStep(
            config["configurable"],
            thread_id,
            ns,
            values,
            new_versions,
            checkpoint["channel_versions"],
            encoded_writes,
            row,
            serde,
        )

    def put_checked(self, *steps: EncodedStep) -> Steps[RunnableConfig]:
        """Write ``steps`` in order, in one transaction, each after reading, under the write
        lock, the head and which of its versions (and delta bases) are stored: the general
        path, right whatever this saver knows. Return the config of the last."""
        yield self._begin_write
        done: list[tuple[EncodedStep, PutPlan, str | None, Any]] = []
        for step in steps:
            thread_id, ns = step.thread_id, step.ns
            if self.sql.LOCK_HEAD is not None:  # before any row is touched: no lock cycles
                yield Fetch(self.sql.LOCK_HEAD, (thread_id, ns))
            for statement, rows in step.writes:
                yield Exec(statement, rows)
            head = (yield Fetch(self.sql.HEAD_ID, (thread_id, ns)))[0][0]
            pairs = probe(self.tracker, thread_id, ns, step.values, step.new_versions)
            found = yield Fetch(
                self.sql.STORED_VERSIONS,
                (thread_id, ns, json.dumps([[ch, self.sql.version_text(v)] for ch, v in pairs])),
            )
            stored = {(channel, self.sql.version_of(vtext)) for channel, vtext in found}
            plan = self.plan_step(step.serde, step, head, stored)
            yield Exec(self.sql.INSERT_BLOB, self.blob_rows(step, plan))
            upserted = yield Fetch(self.sql.UPSERT_CHECKPOINT, step.row)
            done.append((step, plan, head, upserted))
        yield self._commit
        for step, plan, head, upserted in done:
            config = self.committed(step, plan, head, self.token_after_put(upserted))
        return config

    def plan_step(
        self,
        serde: SerializerProtocol,
        step: EncodedStep,
        head: str | None,
        stored: Container[tuple[str, Version]],
    ) -> PutPlan:
        """``_put.plan_put`` for ``step``, given the head and the stored pairs."""
        return plan_put(
            serde,
            step.configurable,
            step.thread_id,
            step.ns,
            head,
            step.values,
            step.new_versions,
            stored,
            self.tracker,
        )

    def blob_rows(self, step: EncodedStep, plan: PutPlan) -> list[tuple[Any, ...]]:
        """The value rows ``plan`` stores, as ``INSERT_BLOB`` binds them. An ``empty`` version
        (the channel has no value) gets no row: a reader takes a missing row for one, so a
        step that empties a channel (a consumed ``__start__``, a branch taken) writes nothing
        for it (rows stored as ``empty`` by earlier versions still read the same)."""
        thread_id, ns, version_text = step.thread_id, step.ns, self.sql.version_text
        return [
            (
                thread_id,
                ns,
                channel,
                version_text(version),
                kind,
                *((tag, data) if len(data) < PACK_MIN_BYTES else pack_data(tag, data)),
                None if base is None else version_text(base),
                index,
                length,
            )
            for channel, version, (kind, tag, data, base, index, length) in plan.rows
            if kind != "empty"
        ]

    def committed(
        self,
        step: EncodedStep,
        plan: PutPlan,
        head: str | None,
        token: Any,
        carried: Sequence[tuple[str, Version, Any]] = (),
    ) -> RunnableConfig:
        """Once ``step`` is committed over ``head``: what this saver learns, and the config of
        the new checkpoint. ``token`` is the database's token after the commit (None: unknown).
        ``carried``: the rows of the steps committed before it in the same transaction, whose
        checkpoints were not kept as the head (only the last of them is)."""
        thread_id, ns = step.thread_id, step.ns
        checkpoint_id, parent_id, tag, data, meta_tag, meta_data, meta_json = step.row[2:9]
        remember(self.tracker, thread_id, ns, plan)  # only once committed
        if token is not None and (head is None or checkpoint_id > head):  # the newest
            meta = meta_json if meta_tag == METADATA_IN_JSON else meta_data
            self.heads.keep_written(
                token,
                (ns, checkpoint_id, parent_id, tag, data, meta_tag, meta, thread_id),
                step.channel_versions,
                [*carried, *plan.rows] if carried else plan.rows,
            )
        else:
            self.heads.forget(thread_id, ns)
        return thread_config(thread_id, ns, checkpoint_id)

    def _write_rows(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> tuple[str, list[tuple[Any, ...]]]:
        """The statement and rows of one task's writes (encoded before any transaction)."""
        return self._write_rows_at(serde, _address(config), writes, task_id, task_path)

    def _write_rows_at(
        self,
        serde: SerializerProtocol,
        address: tuple[str, str, str | None],
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> tuple[str, list[tuple[Any, ...]]]:
        """The statement and rows of one task's writes (encoded before any transaction) to the
        checkpoint at ``address`` (``_address`` of the call's config)."""
        thread_id, ns, checkpoint_id = address
        if checkpoint_id is None:
            raise MissingCheckpointIdError(thread_id)
        rows, upsert = encode_writes(serde, writes, task_id, task_path)
        return (self.sql.REPLACE_WRITES if upsert else self.sql.KEEP_WRITES), [
            (
                thread_id,
                ns,
                checkpoint_id,
                task_id,
                task_path,
                idx,
                channel,
                *((tag, data) if len(data) < PACK_MIN_BYTES else pack_data(tag, data)),
            )
            for task_id, channel, idx, tag, data, task_path in rows
        ]

    def put_writes(
        self,
        serde: SerializerProtocol,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Steps[None]:
        return (yield from self.put_writes_batch(serde, config, [(task_id, task_path, writes)]))

    def put_writes_batch(
        self, serde: SerializerProtocol, config: RunnableConfig, writes: Sequence[TaskWrites]
    ) -> Steps[None]:
        """Several tasks' writes in one transaction: every row is encoded first, then the
        tasks' rows go in by one statement each run of tasks that use the same one (one
        ``executemany``), and one commit; a failure leaves none of them stored."""
        runs: list[tuple[str, list[tuple[Any, ...]]]] = []
        address = _address(config)
        for task_id, task_path, task_writes in writes:
            statement, rows = self._write_rows_at(serde, address, task_writes, task_id, task_path)
            if runs and runs[-1][0] == statement:
                runs[-1][1].extend(rows)
            else:
                runs.append((statement, rows))
        yield from self.setup()
        yield self._begin_write
        for statement, rows in runs:
            yield Exec(statement, rows)
        yield self._commit
