"""The thread listing of ``threads ls`` on PostgreSQL: the SQLite module's queries, in Postgres.

Same plan as ``_sqlite_threads``: one ``GROUP BY thread_id`` over the narrow
``threadloom_checkpoints`` table (``user_id`` read from the ``jsonb`` metadata), then stored bytes
summed for the listed page only, through the primary keys. Runs on a read-only session.
"""

from __future__ import annotations

from typing import Any, Final

from threadloom.cli._sqlite_threads import ThreadRow

__all__ = ["count_threads", "list_threads"]

_USER_FILTER: Final = " WHERE metadata->>'user_id' = %s"

_PAGE: Final = (
    "SELECT thread_id, max(metadata->>'user_id'), max(ts), count(*),"
    " sum(octet_length(checkpoint) + octet_length(metadata_blob))"
    " FROM threadloom_checkpoints{where} GROUP BY thread_id"
    " ORDER BY max(ts) DESC, thread_id LIMIT %s OFFSET %s"
)
_COUNT: Final = "SELECT count(DISTINCT thread_id) FROM threadloom_checkpoints{where}"
_BLOB_BYTES: Final = (
    "SELECT thread_id, sum(octet_length(data)) FROM threadloom_checkpoint_blobs"
    " WHERE thread_id = ANY(%s) GROUP BY thread_id"
)
_WRITE_BYTES: Final = (
    "SELECT thread_id, sum(octet_length(value)) FROM threadloom_checkpoint_writes"
    " WHERE thread_id = ANY(%s) GROUP BY thread_id"
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
