"""The SQLite checkpoint store: schema, migrations, row encoding and every operation, once.

``SqlCore`` does all the work over a plain ``sqlite3.Connection``; ``SqliteSaver`` calls it
directly and ``AsyncSqliteSaver`` runs the same calls on aiosqlite's connection thread, so no
logic exists twice. Rows are the shared ones of ``_records``: a narrow header per checkpoint
(metadata also kept as JSON text so ``list(filter=...)`` is answered by SQL), one row per
changed (channel, version) with deltas for growing lists, and one row per pending write.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from threadloom.checkpoint._delta import BlobRow, Decoded, DeltaTracker, rebuild
from threadloom.checkpoint._lifecycle import (
    CheckpointInfo,
    checkpoints_to_drop,
    live_blobs,
    validate_prune_args,
)
from threadloom.checkpoint._metadata_filter import filter_json, matches, sql_condition
from threadloom.checkpoint._records import (
    EMPTY_ROW,
    WriteRow,
    check_expected_head,
    dumps_fast,
    encode_list,
    encode_value,
    encode_writes,
    pending_writes,
    split_checkpoint,
    thread_config,
)
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    INTERRUPT,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PruneStrategy,
    ThreadSizeReport,
    get_serializable_checkpoint_metadata,
)
from threadloom.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["MIGRATIONS", "SqlCore"]

Version = str | int | float

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a writer waits for another connection's write lock before "database is locked"."""

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE IF NOT EXISTS checkpoints (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            parent_checkpoint_id TEXT,
            type TEXT NOT NULL,
            checkpoint BLOB NOT NULL,
            metadata_type TEXT NOT NULL,
            metadata_blob BLOB NOT NULL,
            metadata TEXT NOT NULL,
            ts TEXT NOT NULL,
            run_id TEXT,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS checkpoints_run_id ON checkpoints (run_id)"
        " WHERE run_id IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS checkpoints_newest ON checkpoints (checkpoint_id)",
        """CREATE TABLE IF NOT EXISTS checkpoint_blobs (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL,
            channel TEXT NOT NULL,
            version TEXT NOT NULL,
            kind TEXT NOT NULL,
            type TEXT NOT NULL,
            data BLOB NOT NULL,
            base_version TEXT,
            delta_index INTEGER NOT NULL,
            length INTEGER NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS writes (
            thread_id TEXT NOT NULL,
            checkpoint_ns TEXT NOT NULL DEFAULT '',
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            task_path TEXT NOT NULL DEFAULT '',
            idx INTEGER NOT NULL,
            channel TEXT NOT NULL,
            type TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        ) WITHOUT ROWID""",
    ),
)
"""Append-only: migration ``v`` is ``MIGRATIONS[v]``; never edit one that has shipped, add one."""

WAL_SWITCH_ATTEMPTS: Final = 200

_FILTER_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")

_HEADER_COLUMNS = "checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, " + (
    "metadata_type, metadata_blob, thread_id"
)


def _version_text(version: Version) -> str:
    """Versions are stored as JSON so an int version reads back as an int."""
    return json.dumps(version)


def _version_of(text: str) -> Version:
    value: Version = json.loads(text)
    return value


def _filter_sql(filter: Mapping[str, Any]) -> tuple[list[str], list[Any], bool]:
    """SQL conditions for a metadata filter, their parameters, and whether they are exact."""
    clauses: list[str] = []
    params: list[Any] = []
    exact = True
    for key, value in filter.items():
        if not _FILTER_KEY.match(key):
            raise ValueError(
                f"metadata filter key {key!r} is not supported: use keys made of letters, "
                "digits, '_', '.' and '-'."
            )
        condition = sql_condition(f'$."{key}"', value)
        if condition is None:
            exact = False  # checked in Python on the decoded metadata
        else:
            clauses.append(condition[0])
            params.extend(condition[1])
    return clauses, params, exact


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (readers never block the writer); a no-op once it is.

    The switch needs the file to itself for a moment: when another process holds it (two
    processes opening a new file together), wait and retry rather than fail the first call.
    """
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(0.05)


class SqlCore:
    """Every checkpoint operation over one ``sqlite3.Connection``; callers hold no SQL.

    The core keeps no serializer: each call takes the saver's, so a saver cloned by
    ``with_allowlist`` (which shares this core, its lock and its delta tracker) encodes and
    decodes with its own widened serializer.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.is_setup = False
        self.tracker = DeltaTracker()
        """Per (thread, ns, channel): the list version last written or read: the base for the
        next delta, and a shortcut when reading the head."""

    # -- transactions ---------------------------------------------------------------------

    def setup(self, conn: sqlite3.Connection) -> None:
        """Create or upgrade the tables (idempotent); each migration commits with its record."""
        if self.is_setup:
            return
        with self.lock:
            if self.is_setup:
                return
            if conn.in_transaction:
                conn.commit()
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _use_wal(conn)
            with self.write(conn):
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS checkpoint_migrations (v INTEGER PRIMARY KEY)"
                )
                row = conn.execute("SELECT max(v) FROM checkpoint_migrations").fetchone()
                done = -1 if row[0] is None else int(row[0])
                for v in range(done + 1, len(MIGRATIONS)):
                    for statement in MIGRATIONS[v]:
                        conn.execute(statement)
                    conn.execute("INSERT INTO checkpoint_migrations (v) VALUES (?)", (v,))
            self.is_setup = True

    @contextmanager
    def write(self, conn: sqlite3.Connection) -> Iterator[None]:
        """One write transaction, taken with ``BEGIN IMMEDIATE`` so it never has to upgrade a
        read lock (the usual cause of "database is locked" between processes)."""
        with self.lock:
            if conn.in_transaction:
                conn.commit()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def read(self, conn: sqlite3.Connection) -> Iterator[None]:
        """One read snapshot: a header and its values come from the same state."""
        self.setup(conn)
        with self.lock:
            if conn.in_transaction:
                conn.commit()
            conn.execute("BEGIN")
            try:
                yield
            finally:
                conn.commit()

    # -- reading --------------------------------------------------------------------------

    def _blob(
        self, conn: sqlite3.Connection, thread_id: str, ns: str, channel: str, version: Version
    ) -> BlobRow | None:
        row = conn.execute(
            "SELECT kind, type, data, base_version, delta_index, length FROM checkpoint_blobs "
            "WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? AND version = ?",
            (thread_id, ns, channel, _version_text(version)),
        ).fetchone()
        if row is None:
            return None
        kind, tag, data, base, index, length = row
        return BlobRow(kind, tag, data, None if base is None else _version_of(base), index, length)

    def _value(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        thread_id: str,
        ns: str,
        channel: str,
        version: Version,
        remember: bool,
    ) -> tuple[bool, Any]:
        blob = self._blob(conn, thread_id, ns, channel, version)
        if blob is None or blob.kind == "empty":
            return False, None
        if blob.length < 0:
            return True, serde.loads_typed((blob.type, blob.data))
        key = (thread_id, ns, channel)
        known = self.tracker.get(key)
        first = blob
        decoded = rebuild(
            version,
            lambda v: first if v == version else self._blob(conn, thread_id, ns, channel, v),
            lambda r: serde.loads_typed((r.type, r.data)),
            lambda v: known if known is not None and known.version == v else None,
        )
        if decoded is None:
            return False, None
        if remember:
            self.tracker.remember(key, decoded)
        return True, list(decoded.value)

    def _tuple(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        row: tuple[Any, ...],
        remember: bool,
    ) -> CheckpointTuple:
        ns, checkpoint_id, parent_id, tag, data, meta_tag, meta_data, thread_id = row
        header: dict[str, Any] = serde.loads_typed((tag, data))
        values: dict[str, Any] = {}
        for channel, version in header["channel_versions"].items():
            present, value = self._value(serde, conn, thread_id, ns, channel, version, remember)
            if present:
                values[channel] = value
        header["channel_values"] = values
        writes = [
            WriteRow(*w)
            for w in conn.execute(
                "SELECT task_id, channel, idx, type, value, task_path FROM writes "
                "WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?",
                (thread_id, ns, checkpoint_id),
            )
        ]
        checkpoint: Checkpoint = header  # type: ignore[assignment]
        return CheckpointTuple(
            config=thread_config(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=serde.loads_typed((meta_tag, meta_data)),
            parent_config=thread_config(thread_id, ns, parent_id) if parent_id else None,
            pending_writes=pending_writes(serde, writes),
        )

    def get_tuple(
        self, serde: SerializerProtocol, conn: sqlite3.Connection, config: RunnableConfig
    ) -> CheckpointTuple | None:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = configurable.get("checkpoint_id")
        with self.read(conn):
            if checkpoint_id is None:  # the head: one descending lookup on the primary key
                row = conn.execute(
                    f"SELECT {_HEADER_COLUMNS} FROM checkpoints WHERE thread_id = ? "
                    "AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1",
                    (thread_id, ns),
                ).fetchone()
            else:
                row = conn.execute(
                    f"SELECT {_HEADER_COLUMNS} FROM checkpoints WHERE thread_id = ? "
                    "AND checkpoint_ns = ? AND checkpoint_id = ?",
                    (thread_id, ns, checkpoint_id),
                ).fetchone()
            if row is None:
                return None
            return self._tuple(serde, conn, row, remember=checkpoint_id is None)

    def list_addresses(
        self,
        conn: sqlite3.Connection,
        config: RunnableConfig | None,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> list[tuple[str, str, str]]:
        """(thread, ns, id) of matching checkpoints, newest first; the filter, ``before`` and
        ``limit`` run in SQL. A dict or list filter value is checked later, by ``list_item``."""
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
            more, more_params, exact = _filter_sql(filter)
            clauses.extend(more)
            params.extend(more_params)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints {where} "
            "ORDER BY checkpoint_id DESC"
        )
        if limit is not None and exact:
            sql += f" LIMIT {int(limit)}"
        with self.read(conn):
            return conn.execute(sql, params).fetchall()

    def list_item(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        address: tuple[str, str, str],
        filter: Mapping[str, Any] | None,
    ) -> CheckpointTuple | None:
        """One listed checkpoint, or None if it was deleted since or fails the filter."""
        with self.read(conn):
            row = conn.execute(
                f"SELECT {_HEADER_COLUMNS} FROM checkpoints WHERE thread_id = ? "
                "AND checkpoint_ns = ? AND checkpoint_id = ?",
                address,
            ).fetchone()
            if row is None:
                return None
            item = self._tuple(serde, conn, row, remember=False)
        if filter and not matches(item.metadata, filter):
            return None
        return item

    def list(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        config: RunnableConfig | None,
        filter: Mapping[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Iterator[CheckpointTuple]:
        """Matching checkpoints, newest first, each read when the caller asks for it."""
        remaining = limit
        for address in self.list_addresses(conn, config, filter, before, limit):
            if remaining is not None and remaining <= 0:
                return
            item = self.list_item(serde, conn, address, filter)
            if item is None:
                continue
            if remaining is not None:
                remaining -= 1
            yield item

    # -- writing --------------------------------------------------------------------------

    def put(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = checkpoint["id"]
        header, values = split_checkpoint(checkpoint)
        tag, data = dumps_fast(serde, header, "checkpoint")
        merged = get_serializable_checkpoint_metadata(config, metadata)
        meta_tag, meta_data = dumps_fast(serde, merged, "metadata")
        self.setup(conn)
        with self.write(conn):
            if CONFIG_KEY_EXPECTED_HEAD in configurable:
                # Checked under the write lock: no other writer can move the head until commit.
                head = conn.execute(
                    "SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ? "
                    "AND checkpoint_ns = ?",
                    (thread_id, ns),
                ).fetchone()[0]
                check_expected_head(configurable, thread_id, ns, head)
            lists: list[tuple[str, Decoded]] = []
            for channel, version in new_versions.items():
                vtext = _version_text(version)
                exists = conn.execute(
                    "SELECT 1 FROM checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? "
                    "AND channel = ? AND version = ?",
                    (thread_id, ns, channel, vtext),
                ).fetchone()
                if exists is not None:
                    continue  # a (channel, version) names one value: never rewritten
                if channel not in values:
                    blob = EMPTY_ROW
                elif type(values[channel]) is list:
                    blob, decoded = encode_list(
                        serde,
                        channel,
                        values[channel],
                        version,
                        self._known(conn, thread_id, ns, channel),
                    )
                    lists.append((channel, decoded))
                else:
                    blob = encode_value(serde, channel, values[channel])
                conn.execute(
                    "INSERT INTO checkpoint_blobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        thread_id,
                        ns,
                        channel,
                        vtext,
                        blob.kind,
                        blob.type,
                        blob.data,
                        None if blob.base_version is None else _version_text(blob.base_version),
                        blob.index,
                        blob.length,
                    ),
                )
            conn.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    thread_id,
                    ns,
                    checkpoint_id,
                    configurable.get("checkpoint_id"),
                    tag,
                    data,
                    meta_tag,
                    meta_data,
                    filter_json(merged),
                    checkpoint["ts"],
                    merged.get("run_id"),
                ),
            )
        for channel, decoded in lists:  # only once committed
            self.tracker.remember((thread_id, ns, channel), decoded)
        return thread_config(thread_id, ns, checkpoint_id)

    def _known(
        self, conn: sqlite3.Connection, thread_id: str, ns: str, channel: str
    ) -> Decoded | None:
        """The remembered list version of a channel, if its row is still stored."""
        known = self.tracker.get((thread_id, ns, channel))
        if known is None:
            return None
        stored = conn.execute(
            "SELECT 1 FROM checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? "
            "AND channel = ? AND version = ?",
            (thread_id, ns, channel, _version_text(known.version)),
        ).fetchone()
        return None if stored is None else known  # pruned since: the next value is whole

    def put_writes(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
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
        rows, upsert = encode_writes(serde, writes, task_id, task_path)
        verb = "INSERT OR REPLACE" if upsert else "INSERT OR IGNORE"
        self.setup(conn)
        with self.write(conn):
            conn.executemany(
                f"{verb} INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, "
                "task_path, idx, channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        thread_id,
                        ns,
                        checkpoint_id,
                        r.task_id,
                        r.task_path,
                        r.idx,
                        r.channel,
                        r.type,
                        r.data,
                    )
                    for r in rows
                ],
            )

    # -- lifecycle ------------------------------------------------------------------------

    def delete_thread(self, conn: sqlite3.Connection, thread_id: str) -> None:
        self.setup(conn)
        with self.write(conn):
            for table in ("checkpoints", "checkpoint_blobs", "writes"):
                conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (str(thread_id),))
        self.tracker.forget_thread(str(thread_id))

    def copy_thread(self, conn: sqlite3.Connection, source: str, target: str) -> None:
        self.setup(conn)
        with self.write(conn):
            for table, verb in (
                ("checkpoints", "INSERT OR REPLACE"),
                ("checkpoint_blobs", "INSERT OR IGNORE"),
                ("writes", "INSERT OR REPLACE"),
            ):
                columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
                rest = ", ".join(c for c in columns if c != "thread_id")
                conn.execute(
                    f"{verb} INTO {table} (thread_id, {rest}) SELECT ?, {rest} FROM {table} "
                    "WHERE thread_id = ?",
                    (str(target), str(source)),
                )
        self.tracker.forget_thread(str(target))

    def _drop(self, conn: sqlite3.Connection, thread_id: str, ns: str, ids: set[str]) -> None:
        for checkpoint_id in ids:
            for table in ("checkpoints", "writes"):
                conn.execute(
                    f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? "
                    "AND checkpoint_id = ?",
                    (thread_id, ns, checkpoint_id),
                )
        self.tracker.forget_thread(thread_id)

    def _collect(self, serde: SerializerProtocol, conn: sqlite3.Connection, thread_id: str) -> None:
        """Delete values that no remaining checkpoint of the thread needs."""
        used: list[tuple[tuple[str, str], Version]] = []
        for ns, tag, data in conn.execute(
            "SELECT checkpoint_ns, type, checkpoint FROM checkpoints WHERE thread_id = ?",
            (thread_id,),
        ).fetchall():
            header = serde.loads_typed((tag, data))
            used.extend(((ns, ch), v) for ch, v in header["channel_versions"].items())
        stored = {
            ((ns, ch), _version_of(v)): None if base is None else _version_of(base)
            for ns, ch, v, base in conn.execute(
                "SELECT checkpoint_ns, channel, version, base_version FROM checkpoint_blobs "
                "WHERE thread_id = ?",
                (thread_id,),
            )
        }
        live = live_blobs(used, lambda key, version: stored.get((key, version)))
        conn.executemany(
            "DELETE FROM checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? "
            "AND channel = ? AND version = ?",
            [
                (thread_id, key[0], key[1], _version_text(version))
                for key, version in stored
                if (key, version) not in live
            ],
        )
        self.tracker.forget_thread(thread_id)

    def delete_for_runs(
        self, serde: SerializerProtocol, conn: sqlite3.Connection, run_ids: Sequence[str]
    ) -> None:
        targets = list(run_ids)
        if not targets:
            return
        self.setup(conn)
        with self.write(conn):
            marks = ", ".join("?" * len(targets))
            found = conn.execute(
                f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints "
                f"WHERE run_id IN ({marks})",
                targets,
            ).fetchall()
            by_place: dict[tuple[str, str], set[str]] = {}
            for thread_id, ns, checkpoint_id in found:
                by_place.setdefault((thread_id, ns), set()).add(checkpoint_id)
            for (thread_id, ns), ids in by_place.items():
                self._drop(conn, thread_id, ns, ids)
            for thread_id in {t for t, _ns in by_place}:
                self._collect(serde, conn, thread_id)

    def prune(
        self,
        serde: SerializerProtocol,
        conn: sqlite3.Connection,
        thread_ids: Sequence[str],
        strategy: PruneStrategy,
        keep_last: int | None,
        before: datetime | None,
    ) -> None:
        validate_prune_args(strategy, keep_last, before)
        self.setup(conn)
        with self.write(conn):
            for thread_id in map(str, thread_ids):
                rows = conn.execute(
                    "SELECT c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.ts, "
                    "EXISTS (SELECT 1 FROM writes w WHERE w.thread_id = c.thread_id "
                    "AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id "
                    "AND w.channel = ?) FROM checkpoints c WHERE c.thread_id = ?",
                    (INTERRUPT, thread_id),
                ).fetchall()
                by_ns: dict[str, list[CheckpointInfo]] = {}
                for ns, checkpoint_id, parent_id, ts, interrupted in rows:
                    by_ns.setdefault(ns, []).append(
                        CheckpointInfo(checkpoint_id, parent_id, ts, bool(interrupted))
                    )
                for ns, infos in by_ns.items():
                    drop = checkpoints_to_drop(
                        infos, strategy=strategy, keep_last=keep_last, before=before
                    )
                    if drop:
                        self._drop(conn, thread_id, ns, drop)
                remaining = conn.execute(
                    "SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (thread_id,)
                ).fetchone()
                if remaining is None:  # nothing left: its writes and values go too
                    for table in ("checkpoint_blobs", "writes"):
                        conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
                    self.tracker.forget_thread(thread_id)
                else:
                    self._collect(serde, conn, thread_id)

    def thread_size_report(self, conn: sqlite3.Connection, thread_id: str) -> ThreadSizeReport:
        thread_id = str(thread_id)
        with self.read(conn):
            checkpoints, namespaces, checkpoint_bytes = conn.execute(
                "SELECT count(*), count(DISTINCT checkpoint_ns), "
                "coalesce(sum(length(checkpoint) + length(metadata_blob)), 0) "
                "FROM checkpoints WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()
            blobs, delta_blobs, blob_bytes = conn.execute(
                "SELECT count(*), coalesce(sum(kind = 'delta'), 0), "
                "coalesce(sum(length(data)), 0) FROM checkpoint_blobs WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()
            writes, write_bytes = conn.execute(
                "SELECT count(*), coalesce(sum(length(value)), 0) FROM writes WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()
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
