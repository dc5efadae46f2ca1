"""Everything the PostgreSQL checkpointers say to PostgreSQL: schema, migrations, statements.

The names are those of ``sqlite/_statements`` (the ``_sql_reads.Statements`` protocol): the
shared core (``_sql_core.SqlCore``) runs either module's statements unchanged. What differs:

- tables are prefixed ``threadloom_`` (LangGraph's ``checkpoints`` & co. may live in the same
  database; threadloom never reads or writes them), text keys are ``COLLATE "C"`` so ids order
  byte-wise (a checkpoint id's order is its time order) and compare fast;
- metadata is ``jsonb`` (the serializer's blob stays the truth), filtered with typed
  conditions (``filter_conditions``: ``True`` is never ``1``);
- ``LOCK_HEAD``: a transaction-scoped advisory lock on (thread, namespace), taken first in every
  ``put``: two workers writing one thread take turns, so the second one's expected-head check
  sees the first one's checkpoint (``CheckpointConflictError``) instead of forking the thread;
- many keys are bound as one ``jsonb`` array, each probing the full primary key (a ``LATERAL``
  nested loop), so a lookup costs a few index probes whatever the size of the table;
- ``BEGIN_WRITE`` / ``BEGIN_READ`` / ``COMMIT`` are markers for the driver, which runs each
  operation in one transaction of its own (``threadloom._postgres``); ``BEGIN_READ`` makes that
  transaction ``REPEATABLE READ, READ ONLY`` (one snapshot for a header and its values).

Values are always bound parameters; only fixed SQL text is spliced in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from threadloom._postgres import Migrations
from threadloom.checkpoint._header import version_from_key, version_key
from threadloom.checkpoint._metadata_filter import is_path

__all__ = [
    "ANY_CHECKPOINT",
    "BEGIN_READ",
    "BEGIN_WRITE",
    "BLOB_BASES_OF_THREAD",
    "BLOB_ROWS",
    "BLOB_ROWS_OF_LIVE",
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
    "HEAD_WITH_WRITES",
    "INSERT_BLOB",
    "KEEP_WRITES",
    "LANGGRAPH_TABLES",
    "LIST_ADDRESSES",
    "LOCK_HEAD",
    "MIGRATIONS",
    "PARAM",
    "PRUNE_INFO",
    "PUT_STEP",
    "READ_ONLY_SNAPSHOT",
    "REPLACE_WRITES",
    "SIZE_OF_BLOBS",
    "SIZE_OF_CHECKPOINTS",
    "SIZE_OF_WRITES",
    "STORED_VERSIONS",
    "UPSERT_CHECKPOINT",
    "WRITES_AT",
    "filter_conditions",
    "version_of",
    "version_text",
]

Version = str | int | float

CHECKPOINTS: Final = "threadloom_checkpoints"
BLOBS: Final = "threadloom_checkpoint_blobs"
WRITES: Final = "threadloom_checkpoint_writes"

MIGRATIONS: Final = Migrations(
    "threadloom_checkpoint_migrations",
    (
        f"""CREATE TABLE {CHECKPOINTS} (
            thread_id text COLLATE "C" NOT NULL,
            checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id text COLLATE "C" NOT NULL,
            parent_checkpoint_id text COLLATE "C",
            type text NOT NULL,
            checkpoint bytea NOT NULL,
            metadata_type text NOT NULL,
            metadata_blob bytea NOT NULL,
            metadata jsonb NOT NULL,
            ts text NOT NULL,
            run_id text COLLATE "C",
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
        )""",
        f"CREATE INDEX {CHECKPOINTS}_run_id ON {CHECKPOINTS} (run_id) WHERE run_id IS NOT NULL",
        f"CREATE INDEX {CHECKPOINTS}_newest ON {CHECKPOINTS} (checkpoint_id)",
        f"""CREATE TABLE {BLOBS} (
            thread_id text COLLATE "C" NOT NULL,
            checkpoint_ns text COLLATE "C" NOT NULL,
            channel text COLLATE "C" NOT NULL,
            version text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            type text NOT NULL,
            data bytea NOT NULL,
            base_version text COLLATE "C",
            delta_index integer NOT NULL,
            length integer NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
        )""",
        f"""CREATE TABLE {WRITES} (
            thread_id text COLLATE "C" NOT NULL,
            checkpoint_ns text COLLATE "C" NOT NULL DEFAULT '',
            checkpoint_id text COLLATE "C" NOT NULL,
            task_id text COLLATE "C" NOT NULL,
            task_path text NOT NULL DEFAULT '',
            idx integer NOT NULL,
            channel text NOT NULL,
            type text NOT NULL,
            value bytea NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
        )""",
        f"""CREATE FUNCTION threadloom_put_step(
            p_thread text, p_ns text, p_id text, p_parent text, p_type text, p_checkpoint bytea,
            p_meta_type text, p_meta_blob bytea, p_meta text, p_ts text, p_run_id text,
            p_check_head boolean, p_expected text, p_base_channel text[], p_base_version text[],
            b_channel text[], b_version text[], b_kind text[], b_type text[], b_data bytea[],
            b_base text[], b_index integer[], b_length integer[],
            w_checkpoint text, w_task text[], w_path text[], w_idx integer[], w_channel text[],
            w_type text[], w_value bytea[], w_replace boolean[]
        ) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE
            head text;
        BEGIN
            IF p_id IS NOT NULL THEN
                PERFORM pg_advisory_xact_lock(hashtextextended(p_thread || chr(31) || p_ns, 8));
                IF p_check_head THEN
                    SELECT max(checkpoint_id) INTO head FROM {CHECKPOINTS}
                        WHERE thread_id = p_thread AND checkpoint_ns = p_ns;
                    IF head = p_id THEN
                        RETURN 'done';
                    END IF;
                    IF head IS DISTINCT FROM p_expected THEN
                        RETURN 'stale';
                    END IF;
                END IF;
                -- LATERAL ... LIMIT 1: one primary-key probe per pair, never a scan
                IF (SELECT count(*) FROM unnest(p_base_channel, p_base_version) k(c, v)
                        CROSS JOIN LATERAL (SELECT 1 FROM {BLOBS} b WHERE b.thread_id = p_thread
                        AND b.checkpoint_ns = p_ns AND b.channel = k.c AND b.version = k.v
                        LIMIT 1) x) < cardinality(p_base_channel)
                    OR EXISTS (SELECT 1 FROM unnest(b_channel, b_version) k(c, v)
                        CROSS JOIN LATERAL (SELECT 1 FROM {BLOBS} b WHERE b.thread_id = p_thread
                        AND b.checkpoint_ns = p_ns AND b.channel = k.c AND b.version = k.v
                        LIMIT 1) x) THEN
                    RETURN 'stale';
                END IF;
            END IF;
            INSERT INTO {WRITES} (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,
                    idx, channel, type, value)
                SELECT p_thread, p_ns, w_checkpoint, t, tp, i, c, ty, v
                FROM unnest(w_task, w_path, w_idx, w_channel, w_type, w_value, w_replace)
                    w(t, tp, i, c, ty, v, r) WHERE r
                ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE
                SET task_path = EXCLUDED.task_path, channel = EXCLUDED.channel,
                    type = EXCLUDED.type, value = EXCLUDED.value;
            INSERT INTO {WRITES} (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path,
                    idx, channel, type, value)
                SELECT p_thread, p_ns, w_checkpoint, t, tp, i, c, ty, v
                FROM unnest(w_task, w_path, w_idx, w_channel, w_type, w_value, w_replace)
                    w(t, tp, i, c, ty, v, r) WHERE NOT r
                ON CONFLICT DO NOTHING;
            IF p_id IS NULL THEN
                RETURN 'ok';
            END IF;
            INSERT INTO {BLOBS} SELECT p_thread, p_ns, c, v, k, t, d, b, i, l
                FROM unnest(b_channel, b_version, b_kind, b_type, b_data, b_base, b_index,
                    b_length) x(c, v, k, t, d, b, i, l)
                ON CONFLICT DO NOTHING;
            INSERT INTO {CHECKPOINTS} VALUES (p_thread, p_ns, p_id, p_parent, p_type,
                    p_checkpoint, p_meta_type, p_meta_blob,
                    replace(p_meta, '\\u0000', '\\ufffd')::jsonb, p_ts, p_run_id)
                ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
                    parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,
                    checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type,
                    metadata_blob = EXCLUDED.metadata_blob, metadata = EXCLUDED.metadata,
                    ts = EXCLUDED.ts, run_id = EXCLUDED.run_id;
            RETURN 'ok';
        END
        $$""",
        # 6-8: version keys (``_header.version_key``, as SQLite's) instead of JSON text: about
        # half the bytes in each value row and its primary key. Old keys are rewritten in
        # place; JSON text never starts with "~", so no new key collides with an old one.
        """CREATE FUNCTION threadloom_version_key(v text) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN s ~ '^[0-9]{32}' THEN '~'
                || chr(48 + length(coalesce(nullif(ltrim(left(s, 32), '0'), ''), '0')))
                || coalesce(nullif(ltrim(left(s, 32), '0'), ''), '0') || substr(s, 33)
                ELSE v END
            FROM (SELECT CASE WHEN left(v, 1) = '"' THEN v::jsonb #>> '{}' END AS s) x
        $$""",
        f"UPDATE {BLOBS} SET version = threadloom_version_key(version), "
        "base_version = threadloom_version_key(base_version)",
        "DROP FUNCTION threadloom_version_key(text)",
    ),
    "PostgresSaver",
)
"""Append-only: never edit a statement that has shipped, add one."""
# jsonb cannot hold the character NUL: the filter column gets U+FFFD instead (the metadata blob
# keeps the truth, and ``_condition`` leaves filters on strings with NUL to Python).

LANGGRAPH_TABLES: Final = (
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
    "checkpoint_migrations",
)
"""The tables of LangGraph's Postgres checkpointer: a database holding them is LangGraph's."""

# -- transactions (markers the driver interprets) -------------------------------------------

PARAM: Final = "%s"
BEGIN_WRITE: Final = "BEGIN"
BEGIN_READ: Final = "BEGIN READ ONLY"
COMMIT: Final = "COMMIT"
READ_ONLY_SNAPSHOT: Final = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
"""What ``BEGIN_READ`` becomes when it opens the driver's transaction."""

LOCK_HEAD: Final[str | None] = (
    "SELECT pg_advisory_xact_lock(hashtextextended(%s::text || chr(31) || %s::text, 8))"
)
"""(thread, ns): held until the transaction ends; another writer of the same thread waits."""

# -- reading --------------------------------------------------------------------------------


def _probe(table: str, alias: str, on: str, columns: str, *, unique: bool) -> str:
    """Rows of ``table`` for each key of the one bound ``jsonb`` array ``e``: a nested loop of
    primary-key probes, one per key, whatever the table's size (``LIMIT 1`` for a unique key,
    ``OFFSET 0`` otherwise keep the planner from turning it into a scan of the whole table)."""
    fence = "LIMIT 1" if unique else "OFFSET 0"
    return (
        f"SELECT {columns} FROM jsonb_array_elements(%s::jsonb) e CROSS JOIN LATERAL "
        f"(SELECT * FROM {table} {alias} WHERE {on} {fence}) {alias}"
    )


HEAD_ADDRESS: Final = (
    f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM {CHECKPOINTS} WHERE thread_id = %s "
    "AND checkpoint_ns = %s ORDER BY checkpoint_id DESC LIMIT 1"
)
LIST_ADDRESSES: Final = f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM {CHECKPOINTS} "
HEADERS_AT: Final = _probe(
    CHECKPOINTS,
    "c",
    "c.thread_id = e->>0 AND c.checkpoint_ns = e->>1 AND c.checkpoint_id = e->>2",
    "c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint, "
    "c.metadata_type, c.metadata_blob, c.thread_id",
    unique=True,
)
BLOB_ROWS: Final = _probe(
    BLOBS,
    "b",
    "b.thread_id = e->>0 AND b.checkpoint_ns = e->>1 AND b.channel = e->>2 AND b.version = e->>3",
    "b.thread_id, b.checkpoint_ns, b.channel, b.version, b.kind, b.type, b.data, "
    "b.base_version, b.delta_index, b.length",
    unique=True,
)
WRITES_AT: Final = (
    _probe(
        WRITES,
        "w",
        "w.thread_id = e->>0 AND w.checkpoint_ns = e->>1 AND w.checkpoint_id = e->>2",
        "w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.channel, w.idx, w.type, "
        "w.value, w.task_path",
        unique=False,
    )
    + " ORDER BY w.task_id, w.idx"
)

HEAD_WITH_WRITES: Final = (
    "SELECT c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint, "
    "c.metadata_type, c.metadata_blob, c.thread_id, w.task_id, w.channel, w.idx, w.type, "
    f"w.value, w.task_path FROM (SELECT * FROM {CHECKPOINTS} WHERE thread_id = %s "
    "AND checkpoint_ns = %s ORDER BY checkpoint_id DESC LIMIT 1) c "
    f"LEFT JOIN {WRITES} w ON w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns "
    "AND w.checkpoint_id = c.checkpoint_id ORDER BY w.task_id, w.idx"
)
"""The head of (thread, ns): ``HEADERS_AT``'s columns, then ``WRITES_AT``'s of each of its
pending writes (NULL without any), one row per write: one statement, one snapshot."""
BLOB_ROWS_OF_LIVE: Final = (
    BLOB_ROWS + f" WHERE EXISTS (SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = %s "
    "AND checkpoint_ns = %s AND checkpoint_id = %s)"
)
"""``BLOB_ROWS``, or none once the checkpoint (thread, ns, id) is gone. The rows a stored
checkpoint names are never changed and never deleted while it exists (deletes take the
checkpoint and its unused values in one transaction), so rows read while their checkpoint
exists are those of one state of the database, without a snapshot around the reads."""

# -- writing --------------------------------------------------------------------------------

HEAD_ID: Final = (
    f"SELECT max(checkpoint_id) FROM {CHECKPOINTS} WHERE thread_id = %s AND checkpoint_ns = %s"
)
STORED_VERSIONS: Final = (
    "SELECT b.channel, b.version FROM (SELECT %s::text AS t, %s::text AS n) p "
    "CROSS JOIN jsonb_array_elements(%s::jsonb) e CROSS JOIN LATERAL "
    f"(SELECT channel, version FROM {BLOBS} b WHERE b.thread_id = p.t AND b.checkpoint_ns = p.n "
    "AND b.channel = e->>0 AND b.version = e->>1 LIMIT 1) b"
)
"""Which of the given (channel, version) pairs are stored: probes of the primary key."""
INSERT_BLOB: Final = (
    f"INSERT INTO {BLOBS} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
"""A (channel, version) names one value: an existing row is already this value."""
UPSERT_CHECKPOINT: Final = (
    f"INSERT INTO {CHECKPOINTS} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, "
    "replace(%s, '\\u0000', '\\ufffd')::jsonb, %s, %s) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET "
    "parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type, "
    "checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type, "
    "metadata_blob = EXCLUDED.metadata_blob, metadata = EXCLUDED.metadata, ts = EXCLUDED.ts, "
    "run_id = EXCLUDED.run_id"
)
_WRITE_INSERT: Final = (
    f"INSERT INTO {WRITES} (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, idx, "
    "channel, type, value) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) "
)
REPLACE_WRITES: Final = (
    _WRITE_INSERT + "DO UPDATE SET task_path = EXCLUDED.task_path, channel = EXCLUDED.channel, "
    "type = EXCLUDED.type, value = EXCLUDED.value"
)
"""Writes of special channels only: they replace (CONTRACT 1.6)."""
KEEP_WRITES: Final = _WRITE_INSERT + "DO NOTHING"
"""Regular writes: the first write of (checkpoint, task, idx) wins."""

PUT_STEP: Final = (
    "SELECT threadloom_put_step(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bytea[], "
    "%s::text[], %s::integer[], %s::integer[], %s, %s::text[], %s::text[], %s::integer[], "
    "%s::text[], %s::text[], %s::bytea[], %s::boolean[])"
)
"""A step (task writes, value rows, header) in one statement, when the saver knows what is
stored (``_core.PgCore.put_step``): under ``LOCK_HEAD``'s lock it checks the expected head and
that the delta bases are stored and the new versions are not, writes all, and returns ``ok``;
``stale`` (nothing written) sends the saver down the general path; ``done`` is a step whose
checkpoint is the head already (a retry after the connection dropped as it committed). With a
NULL checkpoint id: task writes only (``put_writes``). The arrays are typed
(``_postgres._arrays``) and go in binary, bytes as they are rather than hex text: neither side
escapes or parses text; a connection whose cursors bind parameters as text
(``psycopg.ClientCursor``) sends them as text arrays (psycopg's ``list`` dumper)."""

# -- lifecycle ------------------------------------------------------------------------------

DELETE_THREAD: Final = tuple(
    f"DELETE FROM {t} WHERE thread_id = %s" for t in (CHECKPOINTS, BLOBS, WRITES)
)
DELETE_VALUES_AND_WRITES: Final = DELETE_THREAD[1:]
_CHECKPOINT_REST: Final = (
    "checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata_type, "
    "metadata_blob, metadata, ts, run_id"
)
_BLOB_REST: Final = (
    "checkpoint_ns, channel, version, kind, type, data, base_version, delta_index, length"
)
_WRITE_REST: Final = "checkpoint_ns, checkpoint_id, task_id, task_path, idx, channel, type, value"


def _copy(table: str, rest: str, on_conflict: str) -> str:
    return (
        f"INSERT INTO {table} (thread_id, {rest}) SELECT %s, {rest} FROM {table} "
        f"WHERE thread_id = %s ON CONFLICT {on_conflict}"
    )


COPY_THREAD: Final = (
    _copy(
        CHECKPOINTS,
        _CHECKPOINT_REST,
        "(thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in _CHECKPOINT_REST.split(", ")[2:]),
    ),
    _copy(BLOBS, _BLOB_REST, "DO NOTHING"),
    _copy(
        WRITES,
        _WRITE_REST,
        "(thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET "
        "task_path = EXCLUDED.task_path, channel = EXCLUDED.channel, type = EXCLUDED.type, "
        "value = EXCLUDED.value",
    ),
)
"""(target, source): ids, values and writes copied as they are."""
DROP_CHECKPOINT: Final = tuple(
    f"DELETE FROM {t} WHERE thread_id = %s AND checkpoint_ns = %s AND checkpoint_id = %s"
    for t in (CHECKPOINTS, WRITES)
)
HEADERS_OF_THREAD: Final = (
    f"SELECT checkpoint_ns, type, checkpoint FROM {CHECKPOINTS} WHERE thread_id = %s"
)
BLOB_BASES_OF_THREAD: Final = (
    f"SELECT checkpoint_ns, channel, version, base_version FROM {BLOBS} WHERE thread_id = %s"
)
DELETE_BLOB: Final = (
    f"DELETE FROM {BLOBS} WHERE thread_id = %s AND checkpoint_ns = %s AND channel = %s "
    "AND version = %s"
)
CHECKPOINTS_OF_RUNS: Final = (
    f"SELECT thread_id, checkpoint_ns, checkpoint_id FROM {CHECKPOINTS} WHERE run_id IN "
    "(SELECT jsonb_array_elements_text(%s::jsonb))"
)
PRUNE_INFO: Final = (
    "SELECT c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.ts, "
    f"EXISTS (SELECT 1 FROM {WRITES} w WHERE w.thread_id = c.thread_id "
    "AND w.checkpoint_ns = c.checkpoint_ns AND w.checkpoint_id = c.checkpoint_id "
    f"AND w.channel = %s) FROM {CHECKPOINTS} c WHERE c.thread_id = %s"
)
ANY_CHECKPOINT: Final = f"SELECT 1 FROM {CHECKPOINTS} WHERE thread_id = %s LIMIT 1"
SIZE_OF_CHECKPOINTS: Final = (
    "SELECT count(*), count(DISTINCT checkpoint_ns), "
    "coalesce(sum(octet_length(checkpoint) + octet_length(metadata_blob)), 0) "
    f"FROM {CHECKPOINTS} WHERE thread_id = %s"
)
SIZE_OF_BLOBS: Final = (
    "SELECT count(*), count(*) FILTER (WHERE kind = 'delta'), "
    f"coalesce(sum(octet_length(data)), 0) FROM {BLOBS} WHERE thread_id = %s"
)
SIZE_OF_WRITES: Final = (
    f"SELECT count(*), coalesce(sum(octet_length(value)), 0) FROM {WRITES} WHERE thread_id = %s"
)

# -- encoding -------------------------------------------------------------------------------

_INT64 = range(-(2**63), 2**63)


def version_text(version: Version) -> str:
    """A version as stored: ``_header.version_key`` (an int version reads back as an int)."""
    return version_key(version)


def version_of(text: str) -> Version:
    value: Version = version_from_key(text)
    return value


def _condition(key: str, value: Any) -> tuple[str, list[Any]] | None:
    """A condition on the ``metadata`` jsonb column exactly equivalent to
    ``_metadata_filter.values_equal(metadata[key], value)``; None when SQL cannot decide.

    jsonb keeps the JSON type of each value: ``true`` never equals ``1``; numbers compare as
    numbers (``1`` equals ``1.0``); containment (``@>``) of a one-key object is that equality.
    """
    if value is None:  # absent or null
        return "coalesce(jsonb_typeof(metadata -> %s), 'null') = 'null'", [key]
    if (
        value is True
        or value is False
        or type(value) is str
        or (type(value) is int and value in _INT64)
        or (type(value) is float and math.isfinite(value))
    ):
        if type(value) is str and "\x00" in value:
            return None  # jsonb cannot hold NUL; the metadata column has it made opaque
        return "metadata @> %s::jsonb", [json.dumps({key: value})]
    return None


def filter_conditions(filter: Mapping[str, Any]) -> tuple[list[str], list[Any], bool]:
    """SQL conditions for a metadata filter, their parameters, and whether they are exact
    (when not, the caller checks ``matches`` in Python and applies no ``LIMIT`` in SQL)."""
    clauses: list[str] = []
    params: list[Any] = []
    exact = True
    for key, value in filter.items():
        condition = None if is_path(str(key)) else _condition(str(key), value)
        if condition is None:
            exact = False
        else:
            clauses.append(condition[0])
            params.extend(condition[1])
    return clauses, params, exact
