"""Everything the SQLite checkpointers say to SQLite: schema, migrations, named statements.

Both savers (``SqliteSaver`` on ``sqlite3``, ``AsyncSqliteSaver`` on ``aiosqlite``) run exactly
these statements through the core (``_core``); nothing here touches a connection.

Encoding: a value row is keyed by ``_header.version_key`` (a standard string version as 25
sortable characters, anything else as its JSON text, so an int version reads back as an int);
checkpoint metadata is JSON text (``_metadata_filter.filter_json``) that ``list(filter=...)``
queries with ``json_type`` and ``json_extract``, plus the serializer's blob (then the truth) when
JSON cannot give it back exactly (``_records.encode_metadata``). Values are always bound
parameters; only fixed SQL text is spliced in.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from typing import Any, Final

from threadloom.checkpoint._header import version_from_key, version_key
from threadloom.checkpoint._metadata_filter import is_path, sql_condition
from threadloom.checkpoint._records import METADATA_IN_JSON

__all__ = [
    "ANY_CHECKPOINT",
    "BEGIN_READ",
    "BEGIN_WRITE",
    "BLOB_BASES_OF_THREAD",
    "BLOB_CHAINS",
    "BLOB_ROWS",
    "CHECKPOINTS_OF_RUNS",
    "COMMIT",
    "COPY_THREAD",
    "DELETE_BLOB",
    "DELETE_THREAD",
    "DELETE_VALUES_AND_WRITES",
    "DROP_CHECKPOINT",
    "HEADERS_AT",
    "HEADERS_OF_THREAD",
    "HEAD_ADDRESS",
    "HEAD_ID",
    "HEAD_TOKEN",
    "INSERT_BLOB",
    "INSERT_NEW_BLOB",
    "KEEP_WRITES",
    "LIST_ADDRESSES",
    "LIST_BEFORE",
    "LIST_BY_ID",
    "LIST_BY_NS",
    "LIST_BY_THREAD",
    "LIST_ORDER",
    "LOCK_HEAD",
    "MIGRATIONS",
    "PAGE_SIZE",
    "PAGE_SIZE_OF_FILE",
    "PARAM",
    "PRUNE_INFO",
    "REPLACE_CHECKPOINT",
    "REPLACE_WRITES",
    "ROLLBACK",
    "SET_PAGE_SIZE",
    "SIZE_OF_BLOBS",
    "SIZE_OF_CHECKPOINTS",
    "SIZE_OF_WRITES",
    "STORED_VERSIONS",
    "SYNCHRONOUS_LEVELS",
    "UPSERT_CHECKPOINT",
    "WAL_CHECKPOINT_BYTES",
    "WAL_PRAGMAS",
    "WRITES_AT",
    "check_synchronous",
    "filter_conditions",
    "version_of",
    "version_text",
    "wal_autocheckpoint",
]

Version = str | int | float


def _version_key_sql(column: str) -> str:
    """SQL turning a version stored as JSON text (migration 0) into ``_header.version_key``'s
    text; NULL stays NULL. ``test_sqlite_layout`` checks it against the Python."""
    text = f"json_extract({column}, '$')"
    significant = f"coalesce(nullif(ltrim(substr({text}, 1, 32), '0'), ''), '0')"
    return (
        f"CASE WHEN json_valid({column}) AND json_type({column}) = 'text' "
        f"AND substr({text}, 1, 32) GLOB '{'[0-9]' * 32}' "
        f"THEN '~' || char(48 + length({significant})) || {significant} || substr({text}, 33) "
        f"ELSE {column} END"
    )


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
    (  # 1: value rows keyed by compact versions, a step's rows side by side; no id index
        """CREATE TABLE checkpoint_blobs_v1 (
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
            PRIMARY KEY (thread_id, checkpoint_ns, version, channel)
        ) WITHOUT ROWID""",
        "INSERT INTO checkpoint_blobs_v1 SELECT thread_id, checkpoint_ns, channel, "
        f"{_version_key_sql('version')}, kind, type, data, {_version_key_sql('base_version')}, "
        "delta_index, length FROM checkpoint_blobs",
        "DROP TABLE checkpoint_blobs",
        "ALTER TABLE checkpoint_blobs_v1 RENAME TO checkpoint_blobs",
        "DROP INDEX IF EXISTS checkpoints_newest",
    ),
)
"""Append-only: migration ``v`` is ``MIGRATIONS[v]``; never edit one that has shipped, add one.

1. Value rows are keyed by ``_header.version_key`` (25 characters for a standard version
   instead of 54) and ordered by version before channel, so the rows of one step are written to
   one B-tree page; the index of checkpoint ids across threads goes (every write paid for it,
   only a listing of all threads used it: it now sorts)."""

# -- connection and transactions ----------------------------------------------------------

BUSY_TIMEOUT_MS: Final = 30_000
"""How long a writer waits for another connection's write lock before "database is locked"."""

SYNCHRONOUS_LEVELS: Final = ("NORMAL", "FULL", "EXTRA")
"""``PRAGMA synchronous`` values a saver accepts (``OFF`` can corrupt the file on power loss)."""

SET_BUSY_TIMEOUT: Final = f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"

PAGE_SIZE: Final = 2048
"""The page size of a file the saver creates (SQLite's default: 4096; a file that exists keeps
its own, which SQLite cannot change once the file is in WAL mode). A chat turn appends rows of
~100-400 bytes at the end of three B-trees, and a commit writes each page it changed whole to
the WAL: with 2 KB pages a turn appends 37.5 KiB to the WAL instead of 54 (18.5 frames of 2 KB
against 13.4 of 4 KB), so the WAL fills, and is checkpointed (the fsyncs a turn waits for),
31% less often, for the same CPU (valgrind) and a smaller file. 1 KB pages write less still
but no longer hold a ~370-byte checkpoint row in a page (SQLite moves anything over ~230 bytes
of an index B-tree's row to overflow pages): the file grew to 4.8 MB."""
SET_PAGE_SIZE: Final = f"PRAGMA page_size = {PAGE_SIZE}"
"""Before the file's first write (a no-op on a file that exists)."""
PAGE_SIZE_OF_FILE: Final = "PRAGMA page_size"
WAL_CHECKPOINT_BYTES: Final = 240 * 4096
"""Copy the WAL back into the file once it holds ~1 MB (SQLite's default: 1000 pages, ~4 MB).
Under ``synchronous=NORMAL`` a checkpoint and the WAL's restart after it are the writes that wait
for the disk (three fsyncs, 0.5-3 ms each on a shared virtual disk: at 160 pages of 4 KB they
were a third of a chat turn's wall time) and it copies each page changed since the last once:
a chat turn writes ~37.5 KiB of WAL, so this is one checkpoint every ~26 turns, and a 500-turn
chat's file (database + WAL) stays ~2.5 MB; the WAL stays under ``WAL_LIMIT_BYTES``."""
WAL_LIMIT_BYTES: Final = 1 << 20
"""After a checkpoint, the WAL is cut back to this size when it restarts. Without it a WAL keeps
the size of its largest burst for good (one big step, or a reader that held a checkpoint back
long enough), and in a 500-turn chat the WAL was more than the file itself."""
WAL_PRAGMAS: Final = (f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}",)
"""Per-connection settings that keep the WAL small (with ``wal_autocheckpoint``, set once the
page size is known): ``docs/durability.md``."""


def wal_autocheckpoint(page_size: int) -> str:
    """The pragma checkpointing the WAL every ``WAL_CHECKPOINT_BYTES``, in pages of the file's
    ``page_size`` (240 of 4 KB, 480 of 2 KB)."""
    return f"PRAGMA wal_autocheckpoint = {max(1, WAL_CHECKPOINT_BYTES // int(page_size))}"


BEGIN_WRITE: Final = "BEGIN IMMEDIATE"
"""Writes take the write lock up front, never upgrading a read lock (the usual cause of
"database is locked" between processes)."""
BEGIN_READ: Final = "BEGIN"
"""A read snapshot: a header and its values come from the same state."""
COMMIT: Final = "COMMIT"
ROLLBACK: Final = "ROLLBACK"

CREATE_MIGRATIONS: Final = (
    "CREATE TABLE IF NOT EXISTS checkpoint_migrations (v INTEGER PRIMARY KEY)"
)
LAST_MIGRATION: Final = "SELECT max(v) FROM checkpoint_migrations"
RECORD_MIGRATION: Final = "INSERT INTO checkpoint_migrations (v) VALUES (?)"


def check_synchronous(level: object) -> str:
    """``level`` as one of ``SYNCHRONOUS_LEVELS`` (any case), or a ValueError naming the fix."""
    if isinstance(level, str) and level.upper() in SYNCHRONOUS_LEVELS:
        return level.upper()
    raise ValueError(
        f"synchronous={level!r} is not supported: use 'NORMAL' (the default: under WAL a "
        "commit survives a crash of the process; a power loss can lose the last commits) or "
        "'FULL' (every commit is synced to disk), or 'EXTRA'."
    )


def set_synchronous(level: str) -> str:
    """The pragma for a level already checked by ``check_synchronous``."""
    assert level in SYNCHRONOUS_LEVELS
    return f"PRAGMA synchronous = {level}"


# -- reading ------------------------------------------------------------------------------

_HEADER: Final = (
    "SELECT checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata_type, "
    f"CASE metadata_type WHEN '{METADATA_IN_JSON}' THEN metadata ELSE metadata_blob END, "
    "thread_id FROM checkpoints "
)
"""Metadata stored only as JSON (``_records.encode_metadata``) is read from its JSON column."""
HEAD_ADDRESS: Final = (
    "SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints WHERE thread_id = ? "
    "AND checkpoint_ns = ? ORDER BY checkpoint_id DESC LIMIT 1"
)
"""The newest checkpoint of (thread, ns): one descending lookup on the primary key."""
LIST_ADDRESSES: Final = "SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints "
"""Followed by ``WHERE`` and the ``LIST_*`` conditions (``SqlCore.list_addresses``), then
``LIST_ORDER``."""
LIST_BY_THREAD: Final = "thread_id = ?"
LIST_BY_NS: Final = "checkpoint_ns = ?"
LIST_BY_ID: Final = "checkpoint_id = ?"
LIST_BEFORE: Final = "checkpoint_id < ?"
LIST_ORDER: Final = "ORDER BY checkpoint_id DESC"

# -- writing ------------------------------------------------------------------------------

HEAD_ID: Final = (
    "SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ?"
)
STORED_VERSIONS: Final = (
    "SELECT channel, version FROM checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? "
    "AND (version, channel) IN "
    "(SELECT json_extract(value, '$[1]'), json_extract(value, '$[0]') FROM json_each(?))"
)
"""Which of the given (channel, version) pairs are stored; pairs bound as one JSON array."""
INSERT_BLOB: Final = "INSERT INTO checkpoint_blobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_NEW_BLOB: Final = "INSERT OR IGNORE" + INSERT_BLOB[len("INSERT") :]
"""A put on a head this saver vouches for (``_core``): a row already stored is left as it is
and not counted, which sends the put back to the general path."""
REPLACE_CHECKPOINT: Final = (
    "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
"""A checkpoint's row, giving nothing back: a step followed by another in the same
transaction (``_core._put_on_kept``: only the last one's ``UPSERT_CHECKPOINT`` is checked)."""
UPSERT_CHECKPOINT: Final = REPLACE_CHECKPOINT + (
    " RETURNING (SELECT data_version FROM pragma_data_version), total_changes(),"
    " EXISTS (SELECT 1 FROM writes AS w WHERE w.thread_id = checkpoints.thread_id"
    " AND w.checkpoint_ns = checkpoints.checkpoint_ns"
    " AND w.checkpoint_id = checkpoints.checkpoint_id)"
    if sqlite3.sqlite_version_info >= (3, 35)  # RETURNING came in 3.35
    else ""
)
"""Gives back the ``HEAD_TOKEN`` as of just before this row (``total_changes()`` counts the row
once the statement ends, a replaced row once too), and whether writes for this checkpoint are
already stored (LangGraph's engine may save a task's writes before the checkpoint they belong
to); no rows before SQLite 3.35."""
HEAD_TOKEN: Final = "SELECT data_version, total_changes() FROM pragma_data_version"
"""Equal twice on one connection when nothing was written in between: ``data_version`` moves
when another connection commits, ``total_changes()`` when this one writes (``_sql_head``)."""
_WRITE_COLUMNS: Final = (
    "INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, "
    "type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
REPLACE_WRITES: Final = "INSERT OR REPLACE " + _WRITE_COLUMNS
"""Writes of special channels only: they replace (CONTRACT 1.6)."""
KEEP_WRITES: Final = "INSERT OR IGNORE " + _WRITE_COLUMNS
"""Regular writes: the first write of (checkpoint, task, idx) wins."""

# -- lifecycle ----------------------------------------------------------------------------

TABLES: Final = ("checkpoints", "checkpoint_blobs", "writes")
DELETE_THREAD: Final = tuple(f"DELETE FROM {t} WHERE thread_id = ?" for t in TABLES)
DELETE_VALUES_AND_WRITES: Final = DELETE_THREAD[1:]
COPY_THREAD: Final = tuple(
    f"{verb} INTO {table} (thread_id, {rest}) SELECT ?, {rest} FROM {table} WHERE thread_id = ?"
    for verb, table, rest in (
        (
            "INSERT OR REPLACE",
            "checkpoints",
            "checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, "
            "metadata_type, metadata_blob, metadata, ts, run_id",
        ),
        (
            "INSERT OR IGNORE",
            "checkpoint_blobs",
            "checkpoint_ns, channel, version, kind, type, data, base_version, delta_index, length",
        ),
        (
            "INSERT OR REPLACE",
            "writes",
            "checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value",
        ),
    )
)
"""(target, source): ids, values and writes copied as they are."""
DROP_CHECKPOINT: Final = tuple(
    f"DELETE FROM {t} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id = ?"
    for t in ("checkpoints", "writes")
)
HEADERS_OF_THREAD: Final = (
    "SELECT checkpoint_ns, type, checkpoint FROM checkpoints WHERE thread_id = ?"
)
BLOB_BASES_OF_THREAD: Final = (
    "SELECT checkpoint_ns, channel, version, base_version FROM checkpoint_blobs WHERE thread_id = ?"
)
DELETE_BLOB: Final = (
    "DELETE FROM checkpoint_blobs WHERE thread_id = ? AND checkpoint_ns = ? AND channel = ? "
    "AND version = ?"
)
CHECKPOINTS_OF_RUNS: Final = (
    "SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints WHERE run_id IN "
    "(SELECT value FROM json_each(?))"
)
"""Run ids bound as one JSON array, however many there are."""
PRUNE_INFO: Final = (
    "SELECT c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.ts, "
    "EXISTS (SELECT 1 FROM writes w WHERE w.thread_id = c.thread_id "
    "AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id "
    "AND w.channel = ?) FROM checkpoints c WHERE c.thread_id = ?"
)
ANY_CHECKPOINT: Final = "SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1"
SIZE_OF_CHECKPOINTS: Final = (
    "SELECT count(*), count(DISTINCT checkpoint_ns), "
    "coalesce(sum(length(checkpoint) + length(metadata_blob)), 0) "
    "FROM checkpoints WHERE thread_id = ?"
)
SIZE_OF_BLOBS: Final = (
    "SELECT count(*), coalesce(sum(kind = 'delta'), 0), coalesce(sum(length(data)), 0) "
    "FROM checkpoint_blobs WHERE thread_id = ?"
)
SIZE_OF_WRITES: Final = (
    "SELECT count(*), coalesce(sum(length(value)), 0) FROM writes WHERE thread_id = ?"
)

# -- encoding -----------------------------------------------------------------------------

_FILTER_KEY: Final = re.compile(r"^[A-Za-z0-9_.-]+$")


version_text: Final = version_key
"""A version as stored: ``_header.version_key`` (an int version reads back as an int); the
function itself, not a wrapper: a put binds several."""


def version_of(text: str) -> Version:
    value: Version = version_from_key(text)
    return value


def filter_conditions(filter: Mapping[str, Any]) -> tuple[list[str], list[Any], bool]:
    """SQL conditions for a metadata filter, their parameters, and whether they are exact
    (when not, the caller checks ``matches`` in Python and applies no ``LIMIT`` in SQL)."""
    clauses: list[str] = []
    params: list[Any] = []
    exact = True
    for key, value in filter.items():
        if not _FILTER_KEY.match(key):
            raise ValueError(
                f"Invalid filter key {key!r}: metadata filter keys are made of letters, "
                "digits, '_', '.' and '-'."
            )
        condition = None if is_path(key) else sql_condition(f'$."{key}"', value)
        if condition is None:
            exact = False
        else:
            clauses.append(condition[0])
            params.extend(condition[1])
    return clauses, params, exact


# -- reading many checkpoints at once (a page of a listing) ---------------------------------


def _json_tuples(width: int) -> str:
    """A subquery of the ``width``-tuples bound as one JSON array of arrays."""
    parts = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(width))
    return f"(SELECT {parts} FROM json_each(?))"


HEADERS_AT: Final = (
    _HEADER + "WHERE (thread_id, checkpoint_ns, checkpoint_id) IN " + _json_tuples(3)
)
"""The headers of many checkpoints; (thread, ns, id) triples bound as one JSON array."""
BLOB_ROWS: Final = (
    "SELECT thread_id, checkpoint_ns, channel, version, kind, type, data, base_version, "
    "delta_index, length FROM checkpoint_blobs "
    "WHERE (thread_id, checkpoint_ns, version, channel) IN "
    "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[3]'), json_extract(value, '$[2]') FROM json_each(?))"
)
"""Many value rows; (thread, ns, channel, version text) bound as one JSON array (matched in the
primary key's order)."""
BLOB_CHAINS: Final = (
    "WITH RECURSIVE chain (thread_id, checkpoint_ns, channel, version, deep) AS ("
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_array_length(value) > 4 "
    "FROM json_each(?) UNION SELECT b.thread_id, b.checkpoint_ns, b.channel, b.base_version, 1 "
    "FROM chain c JOIN checkpoint_blobs b ON b.thread_id = c.thread_id "
    "AND b.checkpoint_ns = c.checkpoint_ns AND b.channel = c.channel AND b.version = c.version "
    "WHERE c.deep AND b.kind = 'delta' AND b.base_version IS NOT NULL) "
    "SELECT thread_id, checkpoint_ns, channel, version, kind, type, data, base_version, "
    "delta_index, length FROM checkpoint_blobs "
    "WHERE (thread_id, checkpoint_ns, channel, version) IN "
    "(SELECT thread_id, checkpoint_ns, channel, version FROM chain)"
)
"""``BLOB_ROWS``, plus, for each key with a fifth element, every row down its chain of delta
bases (a primary-key probe per row, all in one statement): a saver that holds nothing of a list
reads its whole chain in one query, not one per level (``_sql_chains``)."""
WRITES_AT: Final = (
    "SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, channel, idx, type, value, "
    "task_path FROM writes WHERE (thread_id, checkpoint_ns, checkpoint_id) IN " + _json_tuples(3)
)
"""The pending writes of many checkpoints."""

# -- what only PostgreSQL needs ------------------------------------------------------------

PARAM: Final = "?"
"""The parameter marker of the driver (sqlite3's qmark style)."""
LOCK_HEAD: Final[str | None] = None
"""No per-thread lock: ``BEGIN IMMEDIATE`` already makes every writer of the file take turns."""
