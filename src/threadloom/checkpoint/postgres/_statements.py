"""Everything the PostgreSQL checkpointers say to PostgreSQL, but the schema (``_migrations``).

The names are those of ``sqlite/_statements`` (the ``_sql_reads.Statements`` protocol): the
shared core (``_sql_core.SqlCore``) runs either module's statements unchanged. What differs:

- tables are prefixed ``threadloom_`` (LangGraph's ``checkpoints`` & co. may live in the same
  database; threadloom never reads or writes them);
- compact rows (issue 8): a (thread, ns) is stored once, in ``threadloom_threads``, and the
  rows of the other tables are keyed by its ``bigint`` ``tid``; checkpoint and task ids are
  ``bytea`` (``threadloom_id``: the 16 bytes of a UUID's canonical text, any other id as its
  UTF-8 bytes padded with NUL to 17 or more), ordered as their text among ids of one kind; an
  ``empty`` version has no row; the statements still take and give text, so the shared core
  and the saver's caches see the same keys as before;
- metadata is stored once: in a ``json`` column (the very text written) when JSON holds it,
  else as the serializer's blob with the ``json`` column only for filters; filters are typed
  conditions on it as ``jsonb`` (``filter_conditions``: ``True`` is never ``1``);
- a write whose bytes are those of a value row written in the same step (a node's answer is
  also the delta of the list it appends to) is stored as a reference to that row: its ``type``
  is ``=`` and the row's version, its ``value`` empty; reads give the row's type and bytes
  (``_REF_JOIN``). Before values are deleted (``prune``, ``delete_for_runs``), the thread's
  references are stored whole again (``STORE_REFERENCES``);
- a task's writes of ``None`` (a trigger: ``branch:to:node``) ride on its first other write
  row, in its ``nulls`` column (``idx chr(30) channel``, ``chr(31)`` between), when the step
  statement writes the task's first rows; reads give them as writes of their own (``_EXPAND``);
- a value of ``None`` (a trigger channel's) rides on another new value row of its version in
  the step statement, in its ``nulls`` column (channels, ``chr(31)`` between); ``BLOB_ROWS``
  and the other statements on values see it as a row of its own;
- the engine's step metadata is stored as ``[N,S]`` (``_packing.pack_metadata``), read back
  as the text written (``METADATA_TEXT``), in filters too;
- ``ts`` is a ``timestamptz`` (NULL when the text is not a time), for listings by time; the
  header holds the text as written, which ``prune`` reads (``PRUNE_INFO`` gives the header;
  ``_core.PgCore.prune``);
- ``LOCK_HEAD``: a transaction-scoped advisory lock on (thread, namespace), taken first in every
  ``put``: two workers writing one thread take turns, so the second one's expected-head check
  sees the first one's checkpoint (``CheckpointConflictError``) instead of forking the thread;
- many keys are bound as one ``jsonb`` array, each probing the full primary key (a ``LATERAL``
  nested loop), so a lookup costs a few index probes whatever the size of the table;
- ``BEGIN_WRITE`` / ``BEGIN_READ`` / ``COMMIT`` are markers for the driver, which runs each
  operation in one transaction of its own (``threadloom._postgres``); ``BEGIN_READ`` makes that
  transaction ``REPEATABLE READ, READ ONLY`` (one snapshot for a header and its values).

Values are always bound parameters; only fixed SQL text is spliced in. How versions are
written as text is ``_version_keys``' (``version_text``, ``version_of``, named here for the
shared core).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from threadloom.checkpoint._metadata_filter import is_path
from threadloom.checkpoint._records import METADATA_IN_JSON
from threadloom.checkpoint.postgres._packing import SHORT_TAGS
from threadloom.checkpoint.postgres._version_keys import (
    KEY_DIGITS,
    SHORT_KEY,
    version_of,
    version_text,
)

__all__ = [
    "ANY_CHECKPOINT",
    "BEGIN_READ",
    "BEGIN_WRITE",
    "BLOB_BASES_OF_THREAD",
    "BLOB_CHAINS",
    "BLOB_CHAINS_OF_LIVE",
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
    "KEY_DIGITS",
    "LANGGRAPH_TABLES",
    "LIST_ADDRESSES",
    "LIST_BEFORE",
    "LIST_BY_ID",
    "LIST_BY_NS",
    "LIST_BY_THREAD",
    "LIST_ORDER",
    "LOCK_HEAD",
    "METADATA_TEXT",
    "PARAM",
    "PRUNE_INFO",
    "PUT_STEP",
    "PUT_STEPS",
    "READ_ONLY_SNAPSHOT",
    "REPLACE_WRITES",
    "SHORT_KEY",
    "SIZE_OF_BLOBS",
    "SIZE_OF_CHECKPOINTS",
    "SIZE_OF_WRITES",
    "STORED_VERSIONS",
    "STORE_REFERENCES",
    "UPSERT_CHECKPOINT",
    "WRITES_AT",
    "filter_conditions",
    "version_of",
    "version_text",
]


CHECKPOINTS: Final = "threadloom_checkpoints"
BLOBS: Final = "threadloom_checkpoint_blobs"
WRITES: Final = "threadloom_checkpoint_writes"
THREADS: Final = "threadloom_threads"
"""One row per (thread, ns) ever written: its ``tid``, the key of its rows in the other tables."""


NULL_TAG: Final = SHORT_TAGS["null"]
"""The stored type of ``None`` (``_packing``), whose bytes are empty."""

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

# Statements take and give thread ids, namespaces and checkpoint ids as text: the (thread, ns)
# is looked up in THREADS (a primary-key probe), ids go through threadloom_id(_text).
_TID: Final = f"(SELECT tid FROM {THREADS} WHERE thread_id = %s AND checkpoint_ns = %s)"
_ID_OUT: Final = "threadloom_id_text"
METADATA_TEXT: Final = (
    "CASE WHEN json_typeof(c.metadata) = 'array' THEN '{\"source\":' || (c.metadata -> 1)::text "
    "|| ',\"step\":' || (c.metadata -> 0)::text || ',\"parents\":{}}' ELSE c.metadata::text END"
)
"""The metadata's JSON text as written: the engine's step metadata is stored as ``[N,S]``
(``_packing.pack_metadata``), any other metadata as its text."""
_META: Final = f"replace({METADATA_TEXT}, '\\u0000', '\\ufffd')::jsonb"
"""The metadata as ``jsonb`` for filters: jsonb cannot hold NUL, so it reads as U+FFFD there
(``_condition`` leaves filters on strings with NUL to Python)."""
_HEADER: Final = (
    f"t.checkpoint_ns, {_ID_OUT}(c.checkpoint_id), {_ID_OUT}(c.parent_checkpoint_id), c.type, "
    f"c.checkpoint, coalesce(c.metadata_type, '{METADATA_IN_JSON}'), "
    f"coalesce(c.metadata_blob, convert_to({METADATA_TEXT}, 'UTF8')), t.thread_id"
)
"""``HEADERS_AT``'s columns: metadata stored only as JSON comes back as its text
(``_records.load_metadata``)."""


def _probe(table: str, alias: str, on: str, columns: str, *, unique: bool) -> str:
    """Rows of ``table`` for each key of the one bound ``jsonb`` array ``e`` (thread, ns, ...):
    the (thread, ns) probed in THREADS (as ``t``), then a nested loop of primary-key probes of
    ``table`` (as ``alias``), one per key, whatever the size of the tables (``LIMIT 1`` for a
    unique key, ``OFFSET 0`` otherwise keep the planner from turning it into a scan)."""
    fence = "LIMIT 1" if unique else "OFFSET 0"
    return (
        f"SELECT {columns} FROM jsonb_array_elements(%s::jsonb) e CROSS JOIN LATERAL "
        f"(SELECT * FROM {THREADS} t WHERE t.thread_id = e->>0 AND t.checkpoint_ns = e->>1 "
        f"LIMIT 1) t CROSS JOIN LATERAL "
        f"(SELECT * FROM {table} {alias} WHERE {alias}.tid = t.tid AND {on} {fence}) {alias}"
    )


HEAD_ADDRESS: Final = (
    f"SELECT t.thread_id, t.checkpoint_ns, {_ID_OUT}(c.checkpoint_id) FROM {THREADS} t "
    f"CROSS JOIN LATERAL (SELECT checkpoint_id FROM {CHECKPOINTS} c WHERE c.tid = t.tid "
    "ORDER BY checkpoint_id DESC LIMIT 1) c WHERE t.thread_id = %s AND t.checkpoint_ns = %s"
)
LIST_ADDRESSES: Final = (
    f"SELECT t.thread_id, t.checkpoint_ns, {_ID_OUT}(c.checkpoint_id) FROM {CHECKPOINTS} c "
    f"JOIN {THREADS} t ON t.tid = c.tid "
)
"""Followed by ``WHERE`` and the ``LIST_*`` conditions and metadata filters on ``_META``
(``SqlCore.list_addresses``), then ``LIST_ORDER``: ids compare as stored (``threadloom_id``), so
``before`` and the order walk the primary key."""
LIST_BY_THREAD: Final = "t.thread_id = %s"
LIST_BY_NS: Final = "t.checkpoint_ns = %s"
LIST_BY_ID: Final = "c.checkpoint_id = threadloom_id(%s)"
LIST_BEFORE: Final = "c.checkpoint_id < threadloom_id(%s)"
LIST_ORDER: Final = "ORDER BY c.checkpoint_id DESC"
HEADERS_AT: Final = _probe(
    CHECKPOINTS, "c", "c.checkpoint_id = threadloom_id(e->>2)", _HEADER, unique=True
)
_NULL_VALUES: Final = "string_to_array(nullif(b.nulls, ''), chr(31))"
"""The channels whose value of ``None`` at its version a value row carries."""
_OWN: Final = "b.channel = e->>2"
_BLOB_ON: Final = (
    f"b.version = e->>3 AND ({_OWN} OR e->>2 = ANY ({_NULL_VALUES})) ORDER BY {_OWN} DESC"
)
_BLOB_COLUMNS: Final = (
    f"t.thread_id, t.checkpoint_ns, e->>2, b.version, "
    f"CASE WHEN {_OWN} THEN b.kind ELSE 'value' END, "
    f"CASE WHEN {_OWN} THEN b.type ELSE '{NULL_TAG}' END, "
    f"CASE WHEN {_OWN} THEN b.data ELSE ''::bytea END, "
    f"CASE WHEN {_OWN} THEN b.base_version END, CASE WHEN {_OWN} THEN b.delta_index ELSE 0 END, "
    f"CASE WHEN {_OWN} THEN b.length ELSE -1 END"
)
BLOB_ROWS: Final = _probe(BLOBS, "b", _BLOB_ON, _BLOB_COLUMNS, unique=True)
"""A value row, or the value of ``None`` another row of its version carries: the probe walks
the few rows of (thread, version), its own row first."""
BLOB_CHAINS: Final = (
    "WITH RECURSIVE chain (tid, deep, thread_id, ns, channel, version, kind, type, data, base, "
    "idx, length) AS ("
    + _probe(BLOBS, "b", _BLOB_ON, f"t.tid, e->>4 IS NOT NULL, {_BLOB_COLUMNS}", unique=True)
    + " UNION SELECT c.tid, true, c.thread_id, c.ns, c.channel, b.version, b.kind, b.type, "
    f"b.data, b.base_version, b.delta_index, b.length FROM chain c JOIN {BLOBS} b "
    "ON b.tid = c.tid AND b.version = c.base AND b.channel = c.channel WHERE c.deep) "
    "SELECT thread_id, ns, channel, version, kind, type, data, base, idx, length FROM chain"
)
"""``BLOB_ROWS``, plus, for each key with a fifth element, every row down its chain of delta
bases (a primary-key probe per row, all in one statement): a saver that holds nothing of a list
reads its whole chain in one round trip, not one per level."""
_WRITE_COLUMNS: Final = (
    f'{_ID_OUT}(w.task_id) COLLATE "C", x.channel, x.idx, x.type, x.value, w.task_path'
)
REFERENCE: Final = "="
"""First character of the ``type`` of a write stored as a reference to a value row."""
_REF_JOIN: Final = (
    f" LEFT JOIN LATERAL (SELECT type, data FROM {BLOBS} r WHERE left(w.type, 1) = "
    f"'{REFERENCE}' AND r.tid = w.tid AND r.version = substr(w.type, 2) "
    "AND r.channel = w.channel) r ON true"
)
"""The value row a write refers to (none for a write stored whole): a primary-key probe."""
_NULLS: Final = "unnest(string_to_array(w.nulls, chr(31))) n"
"""The writes of ``None`` a write row carries: ``idx chr(30) channel`` each."""
_EXPAND: Final = (
    " CROSS JOIN LATERAL (SELECT w.idx, w.channel, coalesce(r.type, w.type), "
    "coalesce(r.data, w.value) UNION ALL SELECT split_part(n, chr(30), 1)::integer, "
    f"substr(n, strpos(n, chr(30)) + 1), 'null', ''::bytea FROM {_NULLS}) "
    "x(idx, channel, type, value)"
)
"""A write row as the writes it holds: its own (its reference resolved), then those of
``None`` it carries (``_WRITE_COLUMNS`` reads them as ``x``)."""
WRITES_AT: Final = (
    _probe(
        WRITES,
        "w",
        "w.checkpoint_id = threadloom_id(e->>2)",
        f"t.thread_id, t.checkpoint_ns, e->>2, {_WRITE_COLUMNS}",
        unique=False,
    )
    + _REF_JOIN
    + _EXPAND
    + " ORDER BY 4, 6"
)

HEAD_WITH_WRITES: Final = (
    f"SELECT {_HEADER}, {_WRITE_COLUMNS} FROM {THREADS} t CROSS JOIN LATERAL "
    f"(SELECT * FROM {CHECKPOINTS} c WHERE c.tid = t.tid ORDER BY checkpoint_id DESC LIMIT 1) c "
    f"LEFT JOIN {WRITES} w ON w.tid = c.tid AND w.checkpoint_id = c.checkpoint_id{_REF_JOIN}"
    f"{_EXPAND} "
    "WHERE t.thread_id = %s AND t.checkpoint_ns = %s ORDER BY 9, 11"
)
"""The head of (thread, ns): ``HEADERS_AT``'s columns, then ``WRITES_AT``'s of each of its
pending writes (NULL without any), one row per write: one statement, one snapshot."""
_LIVE: Final = (
    f"SELECT r.* FROM (SELECT EXISTS (SELECT 1 FROM {CHECKPOINTS} WHERE tid = {_TID} "
    "AND checkpoint_id = threadloom_id(%s))) h(live) LEFT JOIN LATERAL ({}) r ON true "
    "WHERE h.live"
)
BLOB_ROWS_OF_LIVE: Final = _LIVE.format(BLOB_ROWS)
"""(thread, ns, id, keys): ``BLOB_ROWS`` of the keys (a row of NULLs when none is stored: an
``empty`` version has no row), or no row at all once the checkpoint (thread, ns, id) is gone.
The rows a stored checkpoint names are never changed and never deleted while it exists
(deletes take the checkpoint and its unused values in one transaction), so rows read while
their checkpoint exists are those of one state of the database, without a snapshot around the
reads."""
BLOB_CHAINS_OF_LIVE: Final = _LIVE.format(BLOB_CHAINS)
"""``BLOB_ROWS_OF_LIVE`` with ``BLOB_CHAINS``: keys with a fifth element bring their chains."""

# -- writing --------------------------------------------------------------------------------

HEAD_ID: Final = (
    f"SELECT (SELECT {_ID_OUT}(checkpoint_id) FROM {CHECKPOINTS} WHERE tid = {_TID} "
    "ORDER BY checkpoint_id DESC LIMIT 1)"
)
STORED_VERSIONS: Final = (
    f"SELECT e->>0, b.version FROM (SELECT {_TID} AS tid) p "
    "CROSS JOIN jsonb_array_elements(%s::jsonb) e CROSS JOIN LATERAL "
    f"(SELECT version FROM {BLOBS} b WHERE b.tid = p.tid AND b.version = e->>1 "
    f"AND (b.channel = e->>0 OR e->>0 = ANY ({_NULL_VALUES})) LIMIT 1) b"
)
"""Which of the given (channel, version) pairs are stored: probes of the primary key."""
INSERT_BLOB: Final = (
    f"INSERT INTO {BLOBS} SELECT threadloom_tid(p.t, p.n), p.c, p.v, p.k, p.ty, p.d, p.b, p.i, "
    "p.l FROM (VALUES (%s::text, %s::text, %s::text, %s::text, %s::text, %s::text, %s::bytea, "
    "%s::text, %s::integer, %s::integer)) p(t, n, c, v, k, ty, d, b, i, l) "
    "WHERE p.k <> 'empty' ON CONFLICT DO NOTHING"
)
"""A (channel, version) names one value: an existing row is already this value. An ``empty``
version gets no row (a missing row reads the same)."""
_CHECKPOINT_REST: Final = (
    "checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata_type, metadata_blob, "
    "metadata, ts, run_id"
)
UPSERT_CHECKPOINT: Final = (
    f"INSERT INTO {CHECKPOINTS} (tid, {_CHECKPOINT_REST}) "
    "SELECT threadloom_tid(p.t, p.n), threadloom_id(p.i), "
    f"threadloom_id(p.parent), p.ty, p.d, nullif(p.mt, '{METADATA_IN_JSON}'), "
    f"CASE WHEN p.mt <> '{METADATA_IN_JSON}' THEN p.md END, p.m::json, threadloom_ts(p.ts), p.r "
    "FROM (VALUES (%s::text, %s::text, %s::text, %s::text, %s::text, %s::bytea, %s::text, "
    "%s::bytea, %s::text, %s::text, %s::text)) p(t, n, i, parent, ty, d, mt, md, m, ts, r) "
    "ON CONFLICT (tid, checkpoint_id) DO UPDATE SET "
    "parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type, "
    "checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type, "
    "metadata_blob = EXCLUDED.metadata_blob, metadata = EXCLUDED.metadata, ts = EXCLUDED.ts, "
    "run_id = EXCLUDED.run_id"
)
_WRITE_INSERT: Final = (
    f"INSERT INTO {WRITES} (tid, idx, checkpoint_id, task_id, task_path, channel, type, value) "
    "SELECT threadloom_tid(p.t, p.n), p.i, threadloom_id(p.c), threadloom_id(p.k), p.tp, p.ch, "
    "p.ty, p.v FROM (VALUES (%s::text, %s::text, %s::text, %s::text, %s::text, %s::integer, "
    "%s::text, %s::text, %s::bytea)) p(t, n, c, k, tp, i, ch, ty, v) "
)
REPLACE_WRITES: Final = (
    _WRITE_INSERT + "ON CONFLICT (tid, checkpoint_id, task_id, idx) DO UPDATE SET "
    "task_path = EXCLUDED.task_path, channel = EXCLUDED.channel, type = EXCLUDED.type, "
    "value = EXCLUDED.value"
)
"""Writes of special channels only: they replace (CONTRACT 1.6)."""
KEEP_WRITES: Final = (
    _WRITE_INSERT + f"WHERE NOT EXISTS (SELECT 1 FROM {WRITES} x JOIN {THREADS} t "
    "ON x.tid = t.tid WHERE t.thread_id = p.t AND t.checkpoint_ns = p.n "
    "AND x.checkpoint_id = threadloom_id(p.c) AND x.task_id = threadloom_id(p.k) "
    f"AND x.nulls <> '' AND p.i::text = ANY (SELECT split_part(n, chr(30), 1) FROM "
    f"{_NULLS.replace('w.', 'x.')})) ON CONFLICT DO NOTHING"
)
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

PUT_STEPS: Final = (
    f"WITH d AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM {CHECKPOINTS} WHERE tid = {_TID} "
    "AND checkpoint_id = threadloom_id(%s)) AS done), "
    f"s AS MATERIALIZED (SELECT CASE WHEN d.done THEN 'done' ELSE {PUT_STEP[7:]} END AS a "
    "FROM d) "
    f"SELECT s.a, CASE WHEN d.done THEN 'done' WHEN s.a = 'stale' THEN 'stale' "
    f"ELSE {PUT_STEP[7:]} END FROM s, d"
)
"""(thread, ns, the second step's id, ``PUT_STEP``'s parameters of each step): two steps in one
statement, one transaction: a run's input checkpoint and the step after it
(``_core.PgCore.put_steps``). The second is written only once the first is (``ok``, or
``done``); ``stale`` for the first writes neither. ``done`` for both when the second is stored
already (a retry after the connection dropped as the statement committed)."""

# -- lifecycle ------------------------------------------------------------------------------

_OF_THREAD: Final = f"tid IN (SELECT tid FROM {THREADS} WHERE thread_id = %s)"
_LOCK_THREAD: Final = (
    "SELECT count(pg_advisory_xact_lock(hashtextextended(thread_id || chr(31) || checkpoint_ns, "
    f"8))) FROM (SELECT * FROM {THREADS} WHERE thread_id = %s ORDER BY checkpoint_ns) t"
)
"""``LOCK_HEAD``'s lock of each namespace of the thread, in one order: a step of the thread
waits until the thread is gone, then writes it anew (never rows keyed by a deleted ``tid``)."""
_EMPTIED: Final = (
    f"WITH th AS (SELECT tid FROM {THREADS} WHERE thread_id = %s) DELETE FROM {{}} "
    f"WHERE tid IN (SELECT tid FROM th) AND NOT EXISTS (SELECT 1 FROM {CHECKPOINTS} c "
    "JOIN th ON c.tid = th.tid)"
)
DELETE_VALUES_AND_WRITES: Final = (
    _LOCK_THREAD,
    *(_EMPTIED.format(t) for t in (BLOBS, WRITES, THREADS)),
)
"""(thread): a thread without checkpoints left loses its values, writes and ``tid`` rows;
nothing happens to a thread that has some (its steps wait on the lock, then are seen)."""
DELETE_THREAD: Final = (
    _LOCK_THREAD,
    f"DELETE FROM {CHECKPOINTS} WHERE {_OF_THREAD}",
    *(f"DELETE FROM {t} WHERE {_OF_THREAD}" for t in (BLOBS, WRITES)),
    f"DELETE FROM {THREADS} WHERE thread_id = %s",
)
STORE_REFERENCES: Final = (
    f"UPDATE {WRITES} w SET type = r.type, value = r.data FROM {THREADS} t, {BLOBS} r "
    f"WHERE t.thread_id = %s AND w.tid = t.tid AND left(w.type, 1) = '{REFERENCE}' "
    "AND r.tid = w.tid AND r.version = substr(w.type, 2) AND r.channel = w.channel"
)
"""(thread): its writes stored as references to value rows stored whole again, before values
are deleted (a write outlives the checkpoint whose value row it names)."""
_BLOB_REST: Final = "channel, version, kind, type, data, base_version, delta_index, length, nulls"
_WRITE_REST: Final = "idx, checkpoint_id, task_id, task_path, channel, type, value, nulls"


def _copy(table: str, rest: str, on_conflict: str) -> str:
    """(target, source): the rows of each namespace of the source under the target's key."""
    columns = ", ".join(f"r.{c}" for c in rest.split(", "))
    return (
        f"INSERT INTO {table} (tid, {rest}) SELECT d.tid, {columns} FROM {THREADS} s "
        f"JOIN {THREADS} d ON d.thread_id = %s AND d.checkpoint_ns = s.checkpoint_ns "
        f"JOIN {table} r ON r.tid = s.tid WHERE s.thread_id = %s ON CONFLICT {on_conflict}"
    )


COPY_THREAD: Final = (
    f"INSERT INTO {THREADS} (thread_id, checkpoint_ns) SELECT %s, checkpoint_ns FROM {THREADS} "
    "WHERE thread_id = %s ORDER BY checkpoint_ns ON CONFLICT DO NOTHING",
    _copy(
        CHECKPOINTS,
        _CHECKPOINT_REST,
        "(tid, checkpoint_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in _CHECKPOINT_REST.split(", ")[1:]),
    ),
    _copy(BLOBS, _BLOB_REST, "DO NOTHING"),
    _copy(
        WRITES,
        _WRITE_REST,
        "(tid, checkpoint_id, task_id, idx) DO UPDATE SET "
        "task_path = EXCLUDED.task_path, channel = EXCLUDED.channel, type = EXCLUDED.type, "
        "value = EXCLUDED.value, nulls = EXCLUDED.nulls",
    ),
)
"""(target, source): ids, values and writes copied as they are."""
DROP_CHECKPOINT: Final = tuple(
    f"DELETE FROM {t} WHERE tid = {_TID} AND checkpoint_id = threadloom_id(%s)"
    for t in (CHECKPOINTS, WRITES)
)
HEADERS_OF_THREAD: Final = (
    f"SELECT t.checkpoint_ns, c.type, c.checkpoint FROM {THREADS} t JOIN {CHECKPOINTS} c "
    "ON c.tid = t.tid WHERE t.thread_id = %s"
)
BLOB_BASES_OF_THREAD: Final = (
    f"SELECT t.checkpoint_ns, x.channel, b.version, x.base FROM {THREADS} t "
    f"JOIN {BLOBS} b ON b.tid = t.tid CROSS JOIN LATERAL (SELECT b.channel, b.base_version "
    f"UNION ALL SELECT n, NULL FROM unnest({_NULL_VALUES}) n) x(channel, base) "
    "WHERE t.thread_id = %s"
)
"""Every stored (channel, version), those of ``None`` a row carries too."""
DELETE_BLOB: Final = (
    f"WITH p AS (SELECT {_TID} AS tid, %s::text AS channel, %s::text AS version), "
    f"strip AS (UPDATE {BLOBS} b SET nulls = array_to_string(array_remove({_NULL_VALUES}, "
    "p.channel), chr(31)) FROM p WHERE b.tid = p.tid AND b.version = p.version "
    f"AND b.channel <> p.channel AND p.channel = ANY ({_NULL_VALUES})), "
    f"gone AS (DELETE FROM {BLOBS} b USING p WHERE b.tid = p.tid AND b.channel = p.channel "
    "AND b.version = p.version RETURNING b.tid, b.version, b.nulls) "
    f"INSERT INTO {BLOBS} (tid, channel, version, kind, type, data, base_version, delta_index, "
    f"length) SELECT g.tid, n, g.version, 'value', '{NULL_TAG}', ''::bytea, NULL, 0, -1 "
    f"FROM gone g CROSS JOIN unnest({_NULL_VALUES.replace('b.', 'g.')}) n ON CONFLICT DO NOTHING"
)
"""(thread, ns, channel, version): the row goes, or the value of ``None`` another row
carries; the values of ``None`` the row carried stay, as rows of their own."""
CHECKPOINTS_OF_RUNS: Final = (
    f"SELECT t.thread_id, t.checkpoint_ns, {_ID_OUT}(c.checkpoint_id) FROM {CHECKPOINTS} c "
    f"JOIN {THREADS} t ON t.tid = c.tid WHERE c.run_id IN "
    "(SELECT jsonb_array_elements_text(%s::jsonb))"
)
PRUNE_INFO: Final = (
    f"SELECT t.checkpoint_ns, {_ID_OUT}(c.checkpoint_id), {_ID_OUT}(c.parent_checkpoint_id), "
    f"c.type, c.checkpoint, EXISTS (SELECT 1 FROM {WRITES} w WHERE w.tid = c.tid "
    f"AND w.checkpoint_id = c.checkpoint_id AND w.channel = %s) FROM {THREADS} t "
    f"JOIN {CHECKPOINTS} c ON c.tid = t.tid WHERE t.thread_id = %s"
)
"""The header in place of the ``ts`` the shared core asks for: ``_core.PgCore.prune`` reads it
from there."""
ANY_CHECKPOINT: Final = f"SELECT 1 FROM {CHECKPOINTS} WHERE {_OF_THREAD} LIMIT 1"
SIZE_OF_CHECKPOINTS: Final = (
    "SELECT count(*), count(DISTINCT tid), coalesce(sum(octet_length(checkpoint) "
    "+ coalesce(octet_length(metadata_blob), octet_length(metadata::text))), 0) "
    f"FROM {CHECKPOINTS} WHERE {_OF_THREAD}"
)
SIZE_OF_BLOBS: Final = (
    f"SELECT count(*) + coalesce(sum(cardinality({_NULL_VALUES.replace('b.', '')})), 0), "
    "count(*) FILTER (WHERE kind = 'delta'), "
    f"coalesce(sum(octet_length(data)), 0) FROM {BLOBS} WHERE {_OF_THREAD}"
)
SIZE_OF_WRITES: Final = (
    "SELECT count(*) + coalesce(sum(cardinality(string_to_array(nullif(nulls, ''), chr(31)))), "
    f"0), coalesce(sum(octet_length(value)), 0) FROM {WRITES} WHERE {_OF_THREAD}"
)
"""The writes of ``None`` a row carries count as writes."""

_INT64 = range(-(2**63), 2**63)


def _condition(key: str, value: Any) -> tuple[str, list[Any]] | None:
    """A condition on the ``metadata`` jsonb column exactly equivalent to
    ``_metadata_filter.values_equal(metadata[key], value)``; None when SQL cannot decide.

    jsonb keeps the JSON type of each value: ``true`` never equals ``1``; numbers compare as
    numbers (``1`` equals ``1.0``); containment (``@>``) of a one-key object is that equality.
    """
    if value is None:  # absent or null
        return f"coalesce(jsonb_typeof({_META} -> %s), 'null') = 'null'", [key]
    if (
        value is True
        or value is False
        or type(value) is str
        or (type(value) is int and value in _INT64)
        or (type(value) is float and math.isfinite(value))
    ):
        if type(value) is str and "\x00" in value:
            return None  # jsonb cannot hold NUL; the metadata column has it made opaque
        return f"{_META} @> %s::jsonb", [json.dumps({key: value})]
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
