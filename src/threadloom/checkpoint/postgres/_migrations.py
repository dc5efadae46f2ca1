"""The PostgreSQL checkpointers' schema, as versioned migrations (run by ``setup()``).

Append-only: a statement that has shipped is never edited; a change of layout is new statements
at the end, which rewrite an existing database in place (``threadloom._postgres.migrate`` runs
the ones a database has not run yet, in one transaction, under a lock). The tables and the
layout they build are described in ``_statements``.
"""

from __future__ import annotations

from typing import Final

from threadloom._postgres import Migrations
from threadloom.checkpoint._records import METADATA_IN_JSON
from threadloom.checkpoint.postgres._statements import (
    BLOBS,
    CHECKPOINTS,
    NULL_TAG,
    REFERENCE,
    THREADS,
    WRITES,
)
from threadloom.checkpoint.postgres._version_keys import KEY_DIGITS, SHORT_KEY

__all__ = ["MIGRATIONS"]

_UUID_TEXT: Final = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
"""An id stored as its 16 bytes: a UUID's canonical text, which ``uuid`` gives back as it was."""

_ROOT_METADATA: Final = (
    r'^\{"source":("(?:[^"\\]|\\.)*"),"step":(-?(?:0|[1-9][0-9]*)),"parents":\{\}\}$'
)
"""The JSON text the engine writes for its step metadata; group 1 the source, 2 the step."""


def _literal_rest(key: str) -> str:
    """SQL: the long version key ``key`` has a rest that ``version_text`` keeps as text."""
    return f"(left({key}, 1) = '~' AND substr({key}, 3 + ascii(substr({key}, 2, 1)) - 48, 1) = '.')"


def _literal_key(key: str) -> str:
    """SQL: ``key`` as ``version_text`` writes it when its rest is kept as text."""
    return f"CASE WHEN {_literal_rest(key)} THEN '{SHORT_KEY}' || substr({key}, 2) ELSE {key} END"


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
        # 9-26: the compact layout (issue 8). A (thread, ns) is a bigint key (``THREADS``);
        # checkpoint and task ids are bytes (``threadloom_id``: 16 for a UUID); no row for an
        # ``empty`` version (a missing row reads as one); metadata once, in a ``json`` column
        # (the text as written) unless only the serializer's blob can hold it; no index of ids.
        f"""CREATE TABLE {THREADS} (
            tid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            thread_id text COLLATE "C" NOT NULL,
            checkpoint_ns text COLLATE "C" NOT NULL,
            UNIQUE (thread_id, checkpoint_ns)
        )""",
        f"""CREATE FUNCTION threadloom_id(t text) RETURNS bytea
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN t ~ '{_UUID_TEXT}' THEN decode(replace(t, '-', ''), 'hex')
                ELSE convert_to(t, 'UTF8') || substr('\\x{"00" * 17}'::bytea, 1,
                    greatest(1, 17 - octet_length(convert_to(t, 'UTF8')))) END
        $$""",
        """CREATE FUNCTION threadloom_id_text(b bytea) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE WHEN octet_length(b) = 16 THEN encode(b, 'hex')::uuid::text
                ELSE convert_from(rtrim(b, '\\x00'::bytea), 'UTF8') END
        $$""",
        f"""CREATE FUNCTION threadloom_tid(p_thread text, p_ns text) RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            found bigint;
        BEGIN
            SELECT tid INTO found FROM {THREADS}
                WHERE thread_id = p_thread AND checkpoint_ns = p_ns;
            IF found IS NULL THEN
                INSERT INTO {THREADS} (thread_id, checkpoint_ns) VALUES (p_thread, p_ns)
                    ON CONFLICT DO NOTHING RETURNING tid INTO found;
            END IF;
            IF found IS NULL THEN  -- another transaction created it meanwhile
                SELECT tid INTO found FROM {THREADS}
                    WHERE thread_id = p_thread AND checkpoint_ns = p_ns;
            END IF;
            RETURN found;
        END
        $$""",
        f"ALTER TABLE {CHECKPOINTS} RENAME TO {CHECKPOINTS}_v8",
        f"ALTER TABLE {BLOBS} RENAME TO {BLOBS}_v8",
        f"ALTER TABLE {WRITES} RENAME TO {WRITES}_v8",
        f"""INSERT INTO {THREADS} (thread_id, checkpoint_ns)
            SELECT thread_id, checkpoint_ns FROM {CHECKPOINTS}_v8
            UNION SELECT thread_id, checkpoint_ns FROM {BLOBS}_v8
            UNION SELECT thread_id, checkpoint_ns FROM {WRITES}_v8 ORDER BY 1, 2""",
        f"""CREATE TABLE {CHECKPOINTS} (
            tid bigint NOT NULL,
            checkpoint_id bytea NOT NULL,
            parent_checkpoint_id bytea,
            type text NOT NULL,
            checkpoint bytea NOT NULL,
            metadata_type text,
            metadata_blob bytea,
            metadata json NOT NULL,
            ts text NOT NULL,
            run_id text COLLATE "C",
            CONSTRAINT {CHECKPOINTS}_key PRIMARY KEY (tid, checkpoint_id)
        )""",
        f"CREATE INDEX {CHECKPOINTS}_runs ON {CHECKPOINTS} (run_id) WHERE run_id IS NOT NULL",
        f"""INSERT INTO {CHECKPOINTS} SELECT t.tid, threadloom_id(c.checkpoint_id),
                threadloom_id(c.parent_checkpoint_id), c.type, c.checkpoint, c.metadata_type,
                c.metadata_blob, c.metadata::json, c.ts, c.run_id
            FROM {CHECKPOINTS}_v8 c JOIN {THREADS} t
                ON t.thread_id = c.thread_id AND t.checkpoint_ns = c.checkpoint_ns""",
        f"""CREATE TABLE {BLOBS} (
            tid bigint NOT NULL,
            channel text COLLATE "C" NOT NULL,
            version text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            type text NOT NULL,
            data bytea NOT NULL,
            base_version text COLLATE "C",
            delta_index integer NOT NULL,
            length integer NOT NULL,
            CONSTRAINT {BLOBS}_key PRIMARY KEY (tid, version, channel)
        )""",
        f"""INSERT INTO {BLOBS} SELECT t.tid, b.channel, b.version, b.kind, b.type, b.data,
                b.base_version, b.delta_index, b.length
            FROM {BLOBS}_v8 b JOIN {THREADS} t
                ON t.thread_id = b.thread_id AND t.checkpoint_ns = b.checkpoint_ns
            WHERE b.kind <> 'empty'""",
        f"""CREATE TABLE {WRITES} (
            tid bigint NOT NULL,
            idx integer NOT NULL,
            checkpoint_id bytea NOT NULL,
            task_id bytea NOT NULL,
            task_path text NOT NULL,
            channel text NOT NULL,
            type text NOT NULL,
            value bytea NOT NULL,
            CONSTRAINT {WRITES}_key PRIMARY KEY (tid, checkpoint_id, task_id, idx)
        )""",
        f"""INSERT INTO {WRITES} SELECT t.tid, w.idx, threadloom_id(w.checkpoint_id),
                threadloom_id(w.task_id), w.task_path, w.channel, w.type, w.value
            FROM {WRITES}_v8 w JOIN {THREADS} t
                ON t.thread_id = w.thread_id AND t.checkpoint_ns = w.checkpoint_ns""",
        f"DROP TABLE {CHECKPOINTS}_v8, {BLOBS}_v8, {WRITES}_v8",
        "DROP FUNCTION threadloom_put_step(text, text, text, text, text, bytea, text, bytea, "
        "text, text, text, boolean, text, text[], text[], text[], text[], text[], text[], "
        "bytea[], text[], integer[], integer[], text, text[], text[], integer[], text[], "
        "text[], bytea[], boolean[])",
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
            head bytea;
            key bigint;
            w_id bytea := threadloom_id(w_checkpoint);
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(p_thread || chr(31) || p_ns, 8));
            key := threadloom_tid(p_thread, p_ns);
            IF p_id IS NOT NULL THEN
                IF p_check_head THEN
                    SELECT checkpoint_id INTO head FROM {CHECKPOINTS} WHERE tid = key
                        ORDER BY checkpoint_id DESC LIMIT 1;
                    IF head = threadloom_id(p_id) THEN
                        RETURN 'done';
                    END IF;
                    IF head IS DISTINCT FROM threadloom_id(p_expected) THEN
                        RETURN 'stale';
                    END IF;
                END IF;
                -- LATERAL ... LIMIT 1: one primary-key probe per pair, never a scan
                IF (SELECT count(*) FROM unnest(p_base_channel, p_base_version) k(c, v)
                        CROSS JOIN LATERAL (SELECT 1 FROM {BLOBS} b WHERE b.tid = key
                        AND b.channel = k.c AND b.version = k.v LIMIT 1) x)
                        < cardinality(p_base_channel)
                    OR EXISTS (SELECT 1 FROM unnest(b_channel, b_version) k(c, v)
                        CROSS JOIN LATERAL (SELECT 1 FROM {BLOBS} b WHERE b.tid = key
                        AND b.channel = k.c AND b.version = k.v LIMIT 1) x) THEN
                    RETURN 'stale';
                END IF;
            END IF;
            INSERT INTO {WRITES} (tid, idx, checkpoint_id, task_id, task_path, channel, type,
                    value)
                SELECT key, i, w_id, threadloom_id(t), tp, c, ty, v
                FROM unnest(w_task, w_path, w_idx, w_channel, w_type, w_value, w_replace)
                    w(t, tp, i, c, ty, v, r) WHERE r
                ON CONFLICT (tid, checkpoint_id, task_id, idx) DO UPDATE
                SET task_path = EXCLUDED.task_path, channel = EXCLUDED.channel,
                    type = EXCLUDED.type, value = EXCLUDED.value;
            INSERT INTO {WRITES} (tid, idx, checkpoint_id, task_id, task_path, channel, type,
                    value)
                SELECT key, i, w_id, threadloom_id(t), tp, c, ty, v
                FROM unnest(w_task, w_path, w_idx, w_channel, w_type, w_value, w_replace)
                    w(t, tp, i, c, ty, v, r) WHERE NOT r
                ON CONFLICT DO NOTHING;
            IF p_id IS NULL THEN
                RETURN 'ok';
            END IF;
            INSERT INTO {BLOBS} SELECT key, c, v, k, t, d, b, i, l
                FROM unnest(b_channel, b_version, b_kind, b_type, b_data, b_base, b_index,
                    b_length) x(c, v, k, t, d, b, i, l)
                WHERE k <> 'empty'
                ON CONFLICT DO NOTHING;
            INSERT INTO {CHECKPOINTS} VALUES (key, threadloom_id(p_id),
                    threadloom_id(p_parent), p_type, p_checkpoint,
                    nullif(p_meta_type, '{METADATA_IN_JSON}'),
                    CASE WHEN p_meta_type <> '{METADATA_IN_JSON}' THEN p_meta_blob END,
                    p_meta::json, p_ts, p_run_id)
                ON CONFLICT (tid, checkpoint_id) DO UPDATE SET
                    parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,
                    checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type,
                    metadata_blob = EXCLUDED.metadata_blob, metadata = EXCLUDED.metadata,
                    ts = EXCLUDED.ts, run_id = EXCLUDED.run_id;
            RETURN 'ok';
        END
        $$""",
        # 27-34: fewer bytes per step (issue 8). The keys only grow at their right end, so
        # their pages are filled whole; ``ts`` (the header has it as written) is a
        # ``timestamptz`` for listings by time (8 bytes, not 33); a write with the bytes of a
        # value row of its step is stored as a reference to that row (``REFERENCE``); a
        # task's writes of ``None`` (triggers) are a column of its first other write.
        *(
            f"ALTER INDEX {table}_key SET (fillfactor = 100)"
            for table in (CHECKPOINTS, BLOBS, WRITES)
        ),
        r"""CREATE FUNCTION threadloom_ts(t text) RETURNS timestamptz
        LANGUAGE plpgsql STABLE AS $$
        BEGIN
            IF t ~ '([+-]\d\d(:?\d\d)?|Z)$' THEN
                RETURN t::timestamptz;
            END IF;
            RETURN t::timestamp AT TIME ZONE 'UTC';  -- no offset: UTC, as ``prune`` reads it
        EXCEPTION WHEN others THEN
            RETURN NULL;  -- not a time: the header keeps the text
        END
        $$""",
        f"ALTER TABLE {CHECKPOINTS} ALTER COLUMN ts DROP NOT NULL, "
        "ALTER COLUMN ts TYPE timestamptz USING threadloom_ts(ts)",
        f"ALTER TABLE {WRITES} ADD COLUMN nulls text NOT NULL DEFAULT ''",
        f"ALTER TABLE {BLOBS} ADD COLUMN nulls text NOT NULL DEFAULT ''",
        f"""CREATE OR REPLACE FUNCTION threadloom_put_step(
            p_thread text, p_ns text, p_id text, p_parent text, p_type text, p_checkpoint bytea,
            p_meta_type text, p_meta_blob bytea, p_meta text, p_ts text, p_run_id text,
            p_check_head boolean, p_expected text, p_base_channel text[], p_base_version text[],
            b_channel text[], b_version text[], b_kind text[], b_type text[], b_data bytea[],
            b_base text[], b_index integer[], b_length integer[],
            w_checkpoint text, w_task text[], w_path text[], w_idx integer[], w_channel text[],
            w_type text[], w_value bytea[], w_replace boolean[]
        ) RETURNS text LANGUAGE plpgsql AS $$
        DECLARE
            head bytea;
            key bigint;
            w_id bytea := threadloom_id(w_checkpoint);
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(p_thread || chr(31) || p_ns, 8));
            key := threadloom_tid(p_thread, p_ns);
            IF p_id IS NOT NULL THEN
                IF p_check_head THEN
                    SELECT checkpoint_id INTO head FROM {CHECKPOINTS} WHERE tid = key
                        ORDER BY checkpoint_id DESC LIMIT 1;
                    IF head = threadloom_id(p_id) THEN
                        RETURN 'done';
                    END IF;
                    IF head IS DISTINCT FROM threadloom_id(p_expected) THEN
                        RETURN 'stale';
                    END IF;
                END IF;
                -- LATERAL ... LIMIT 1: one primary-key probe per pair, never a scan
                IF (SELECT count(*) FROM unnest(p_base_channel, p_base_version) k(c, v)
                        CROSS JOIN LATERAL (SELECT 1 FROM {BLOBS} b WHERE b.tid = key
                        AND b.channel = k.c AND b.version = k.v LIMIT 1) x)
                        < cardinality(p_base_channel)
                    OR EXISTS (SELECT 1 FROM unnest(b_channel, b_version) k(c, v)
                        CROSS JOIN LATERAL (SELECT 1 FROM {BLOBS} b WHERE b.tid = key
                        AND b.version = k.v AND (b.channel = k.c
                            OR k.c = ANY (string_to_array(nullif(b.nulls, ''), chr(31))))
                        LIMIT 1) x) THEN
                    RETURN 'stale';
                END IF;
            END IF;
            INSERT INTO {WRITES} (tid, idx, checkpoint_id, task_id, task_path, channel, type,
                    value)
                SELECT key, i, w_id, threadloom_id(t), tp, c, ty, v
                FROM unnest(w_task, w_path, w_idx, w_channel, w_type, w_value, w_replace)
                    w(t, tp, i, c, ty, v, r) WHERE r
                ON CONFLICT (tid, checkpoint_id, task_id, idx) DO UPDATE
                SET task_path = EXCLUDED.task_path, channel = EXCLUDED.channel,
                    type = EXCLUDED.type, value = EXCLUDED.value;
            -- a write with the bytes of a new value row of its channel refers to that row;
            -- a task's writes of None ride on its first other write (``nulls``) when the task
            -- has no row yet
            INSERT INTO {WRITES} (tid, idx, checkpoint_id, task_id, task_path, channel, type,
                    value, nulls)
                WITH w AS (
                    SELECT u.t, u.tp, u.i, u.c, u.ty, u.v, threadloom_id(u.t) AS task,
                        u.ty = '{NULL_TAG}' AND u.v = '' AND u.i >= 0 AND u.c !~ '[\x1e\x1f]'
                            AS nul
                    FROM unnest(w_task, w_path, w_idx, w_channel, w_type, w_value, w_replace)
                        u(t, tp, i, c, ty, v, r)
                    WHERE NOT u.r
                ), folding AS (
                    SELECT g.task, g.host, g.nulls FROM (
                        SELECT w.task, min(w.i) FILTER (WHERE NOT w.nul) AS host,
                            string_agg(w.i || chr(30) || w.c, chr(31) ORDER BY w.i)
                                FILTER (WHERE w.nul) AS nulls
                        FROM w GROUP BY w.task) g
                    WHERE g.host IS NOT NULL AND g.nulls IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM {WRITES} x WHERE x.tid = key
                            AND x.checkpoint_id = w_id AND x.task_id = g.task)
                )
                SELECT key, w.i, w_id, w.task, w.tp, w.c,
                    coalesce('{REFERENCE}' || same.v, w.ty),
                    CASE WHEN same.v IS NULL THEN w.v ELSE ''::bytea END,
                    CASE WHEN f.host = w.i THEN f.nulls ELSE '' END
                FROM w LEFT JOIN folding f ON f.task = w.task
                LEFT JOIN LATERAL (SELECT x.v FROM unnest(b_channel, b_version, b_kind,
                        b_type, b_data) x(c, v, k, ty, d)
                    WHERE p_id IS NOT NULL AND octet_length(w.v) > 32 AND x.k <> 'empty'
                        AND x.c = w.c AND x.ty = w.ty AND x.d = w.v LIMIT 1) same ON true
                WHERE NOT (w.nul AND f.task IS NOT NULL) AND NOT EXISTS (
                    SELECT 1 FROM {WRITES} x WHERE x.tid = key AND x.checkpoint_id = w_id
                        AND x.task_id = w.task AND x.nulls <> ''
                        AND w.i::text = ANY (SELECT split_part(n, chr(30), 1)
                            FROM unnest(string_to_array(x.nulls, chr(31))) n))
                ON CONFLICT DO NOTHING;
            IF p_id IS NULL THEN
                RETURN 'ok';
            END IF;
            -- a value of None rides on another new row of its version (``nulls``)
            INSERT INTO {BLOBS} (tid, channel, version, kind, type, data, base_version,
                    delta_index, length, nulls)
                WITH x AS (
                    SELECT u.*, u.k = 'value' AND u.t = '{NULL_TAG}' AND u.d = ''
                        AND u.c !~ '[\x1e\x1f]' AS nul
                    FROM unnest(b_channel, b_version, b_kind, b_type, b_data, b_base, b_index,
                        b_length) u(c, v, k, t, d, b, i, l)
                    WHERE u.k <> 'empty'
                ), folding AS (
                    SELECT g.v, g.host, g.nulls FROM (
                        SELECT x.v, min(x.c) FILTER (WHERE NOT x.nul) AS host,
                            string_agg(x.c, chr(31) ORDER BY x.c) FILTER (WHERE x.nul) AS nulls
                        FROM x GROUP BY x.v) g
                    WHERE g.host IS NOT NULL AND g.nulls IS NOT NULL
                )
                SELECT key, x.c, x.v, x.k, x.t, x.d, x.b, x.i, x.l,
                    CASE WHEN f.host = x.c THEN f.nulls ELSE '' END
                FROM x LEFT JOIN folding f ON f.v = x.v
                WHERE NOT (x.nul AND f.v IS NOT NULL)
                ON CONFLICT DO NOTHING;
            INSERT INTO {CHECKPOINTS} (tid, checkpoint_id, parent_checkpoint_id, type,
                    checkpoint, metadata_type, metadata_blob, metadata, ts, run_id)
                VALUES (key, threadloom_id(p_id), threadloom_id(p_parent), p_type,
                    p_checkpoint, nullif(p_meta_type, '{METADATA_IN_JSON}'),
                    CASE WHEN p_meta_type <> '{METADATA_IN_JSON}' THEN p_meta_blob END,
                    p_meta::json, threadloom_ts(p_ts), p_run_id)
                ON CONFLICT (tid, checkpoint_id) DO UPDATE SET
                    parent_checkpoint_id = EXCLUDED.parent_checkpoint_id, type = EXCLUDED.type,
                    checkpoint = EXCLUDED.checkpoint, metadata_type = EXCLUDED.metadata_type,
                    metadata_blob = EXCLUDED.metadata_blob, metadata = EXCLUDED.metadata,
                    ts = EXCLUDED.ts, run_id = EXCLUDED.run_id;
            RETURN 'ok';
        END
        $$""",
        # 35: the engine's step metadata (``{"source":S,"step":N,"parents":{}}``) stored as
        # ``[N,S]`` (``_packing.pack_metadata``; read back by ``_statements.METADATA_TEXT``)
        f"""UPDATE {CHECKPOINTS} SET metadata = regexp_replace(metadata::text,
                '{_ROOT_METADATA}', '[\\2,\\1]')::json
            WHERE json_typeof(metadata) = 'object' AND metadata::text ~ '{_ROOT_METADATA}'""",
        # 36-39: the random part of a standard version written as a base-64 number in the keys
        # of value rows, their bases and the writes referring to them (``_statements.version_text``
        # makes the same text: ``~41500.0.018026334103865116`` as ``}41500`` + 10 digits)
        f"""CREATE FUNCTION threadloom_short_version(k text) RETURNS text
        LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE
            width integer;
            rest text;
            n numeric;
            token text := '';
        BEGIN
            IF k IS NULL OR left(k, 1) <> '~' THEN
                RETURN k;
            END IF;
            width := ascii(substr(k, 2, 1)) - 48;
            rest := substr(k, 3 + width);
            IF rest !~ '^\\.0\\.[0-9]{{1,30}}$' THEN
                RETURN k;
            END IF;
            n := ('1' || substr(rest, 4))::numeric;  -- the 1 keeps leading zeros
            WHILE n > 0 LOOP
                token := substr('{KEY_DIGITS}', mod(n, 64)::integer + 1, 1) || token;
                n := div(n, 64);
            END LOOP;
            RETURN '{SHORT_KEY}' || substr(k, 2, 1 + width) || token;
        END
        $$""",
        f"UPDATE {BLOBS} SET version = threadloom_short_version(version), "
        "base_version = threadloom_short_version(base_version) "
        "WHERE left(version, 1) = '~' OR left(base_version, 1) = '~'",
        f"UPDATE {WRITES} SET type = '{REFERENCE}' || threadloom_short_version(substr(type, 2)) "
        f"WHERE left(type, 2) = '{REFERENCE}~'",
        "DROP FUNCTION threadloom_short_version(text)",
        # 40-41: the long version keys left (a random part with another shape than ``0.`` and
        # digits, as ``000.30772938289``) written short too, the rest kept as text: a ``~`` key
        # sorts after every short one, so the thread's later keys went before it and the value
        # key's pages were split in halves
        f"UPDATE {BLOBS} SET version = {_literal_key('version')}, "
        f"base_version = {_literal_key('base_version')} "
        f"WHERE {_literal_rest('version')} OR {_literal_rest('base_version')}",
        f"UPDATE {WRITES} SET type = '{REFERENCE}' || {_literal_key('substr(type, 2)')} "
        f"WHERE left(type, 1) = '{REFERENCE}' AND {_literal_rest('substr(type, 2)')}",
    ),
    "PostgresSaver",
)
"""Append-only: never edit a statement that has shipped, add one."""
