"""The thread listing of ``threads ls`` on a SQLite file: grouped SQL, read-only, no decoding.

One ``GROUP BY thread_id`` over the narrow ``checkpoints`` table (headers and JSON metadata, no
channel values) gives each thread's user, last activity and checkpoint count; the bytes of its
values and writes are then summed for the listed page only, through the tables' primary keys.
No checkpoint is ever deserialized, so 10,000 threads list in milliseconds.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Final

__all__ = ["ThreadRow", "count_threads", "list_threads"]

_USER_FILTER: Final = " WHERE json_extract(metadata, '$.user_id') = ?"

_PAGE: Final = (
    "SELECT thread_id, max(json_extract(metadata, '$.user_id')), max(ts), count(*),"
    " sum(length(checkpoint) + length(metadata_blob) + length(metadata))"
    " FROM checkpoints{where} GROUP BY thread_id"
    " ORDER BY max(ts) DESC, thread_id LIMIT ? OFFSET ?"
)
_COUNT: Final = "SELECT count(DISTINCT thread_id) FROM checkpoints{where}"
_BLOB_BYTES: Final = (
    "SELECT thread_id, sum(length(data)) FROM checkpoint_blobs"
    " WHERE thread_id IN ({marks}) GROUP BY thread_id"
)
_WRITE_BYTES: Final = (
    "SELECT thread_id, sum(length(value)) FROM writes"
    " WHERE thread_id IN ({marks}) GROUP BY thread_id"
)


@dataclass(slots=True, frozen=True)
class ThreadRow:
    """One line of ``threads ls``."""

    thread_id: str
    user_id: str | None
    """The ``user_id`` of the run config that wrote it (kept in checkpoint metadata)."""
    last_activity: str
    """ISO time of the newest checkpoint."""
    checkpoints: int
    """Checkpoints over every namespace (root graph and subgraphs)."""
    size_bytes: int
    """Stored bytes: headers, metadata, channel values and pending writes."""


def count_threads(conn: sqlite3.Connection, user: str | None = None) -> int:
    """How many threads (of ``user``, if given) the file holds."""
    where, args = (_USER_FILTER, (user,)) if user is not None else ("", ())
    return int(conn.execute(_COUNT.format(where=where), args).fetchone()[0])


def list_threads(
    conn: sqlite3.Connection, *, limit: int, offset: int = 0, user: str | None = None
) -> list[ThreadRow]:
    """A page of threads, most recently active first."""
    where, args = (_USER_FILTER, (user,)) if user is not None else ("", ())
    page = conn.execute(_PAGE.format(where=where), (*args, limit, offset)).fetchall()
    ids = [row[0] for row in page]
    extra: dict[str, int] = dict.fromkeys(ids, 0)
    if ids:
        marks = ",".join("?" * len(ids))
        for sql in (_BLOB_BYTES, _WRITE_BYTES):
            for thread_id, size in conn.execute(sql.format(marks=marks), ids):
                extra[thread_id] += int(size or 0)
    return [
        ThreadRow(tid, user_id, ts, int(n), int(header or 0) + extra[tid])
        for tid, user_id, ts, n, header in page
    ]
