"""The thread listing of ``threads ls`` on PostgreSQL: the SQLite module's queries, in Postgres.

Same plan as ``_sqlite_threads``: one ``GROUP BY thread_id`` over the narrow
``threadloom_checkpoints`` table joined to ``threadloom_threads`` (``user_id`` read from the
``json`` metadata), then stored bytes summed for the listed page only. Runs on a read-only
session.
"""

from __future__ import annotations

from typing import Any, Final

from threadloom.cli._sqlite_threads import ThreadRow

__all__ = ["count_threads", "list_threads"]

_USER_FILTER: Final = " WHERE metadata->>'user_id' = %s"
_CHECKPOINTS: Final = "threadloom_checkpoints JOIN threadloom_threads USING (tid)"

_PAGE: Final = (
    "SELECT thread_id, max(metadata->>'user_id'),"
    " to_char(max(ts) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), count(*),"
    " sum(octet_length(checkpoint)"
    " + coalesce(octet_length(metadata_blob), octet_length(metadata::text)))"
    f" FROM {_CHECKPOINTS}{{where}} GROUP BY thread_id"
    " ORDER BY max(ts) DESC NULLS LAST, thread_id LIMIT %s OFFSET %s"
)
_COUNT: Final = f"SELECT count(DISTINCT thread_id) FROM {_CHECKPOINTS}{{where}}"
_BLOB_BYTES: Final = (
    "SELECT thread_id, sum(octet_length(data)) FROM threadloom_checkpoint_blobs"
    " JOIN threadloom_threads USING (tid) WHERE thread_id = ANY(%s) GROUP BY thread_id"
)
_WRITE_BYTES: Final = (
    "SELECT thread_id, sum(octet_length(value)) FROM threadloom_checkpoint_writes"
    " JOIN threadloom_threads USING (tid) WHERE thread_id = ANY(%s) GROUP BY thread_id"
)


def count_threads(conn: Any, user: str | None = None) -> int:
    """How many threads (of ``user``, if given) the database holds."""
    where, args = (_USER_FILTER, (user,)) if user is not None else ("", ())
    row = conn.execute(_COUNT.format(where=where), args).fetchone()
    return int(row[0])


def list_threads(
    conn: Any, *, limit: int, offset: int = 0, user: str | None = None
) -> list[ThreadRow]:
    """A page of threads, most recently active first."""
    where, args = (_USER_FILTER, (user,)) if user is not None else ("", ())
    page = conn.execute(_PAGE.format(where=where), (*args, limit, offset)).fetchall()
    ids = [row[0] for row in page]
    extra: dict[str, int] = dict.fromkeys(ids, 0)
    if ids:
        for sql in (_BLOB_BYTES, _WRITE_BYTES):
            for thread_id, size in conn.execute(sql, (ids,)).fetchall():
                extra[thread_id] += int(size or 0)
    return [
        ThreadRow(tid, user_id, str(ts), int(n), int(header or 0) + extra[tid])
        for tid, user_id, ts, n, header in page
    ]
