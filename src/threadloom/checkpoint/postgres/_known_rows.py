"""What a PostgreSQL saver knows is stored: the delta tracker plus each channel's latest row.

A worker that serves a thread reads its head at the start of every run, and the head names
the channel versions this same worker wrote at the end of the previous run. A stored
(thread, ns, channel, version) names one value and is never rewritten (``_put``), so the row the
saver wrote (or last read) for a channel is the row the database would send back: the head read
takes it from here and asks the server only for the versions it does not hold. A turn of a chat
then fetches no value rows at all, however long the conversation; a head moved by another
worker names versions not held here, which are fetched as before.

The rows are kept as the server returns them (``BLOB_ROWS``' columns, the serializer's bytes),
so they decode with whichever serializer reads them, exactly as a fetched row. One row per
(thread, ns, channel), the latest, least recently used first out; everything the tracker
forgets (a deleted, copied-over or pruned thread) is forgotten here too. A sync saver on a pool
is called from many threads at once: the rows are changed under a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from threadloom.checkpoint._delta import DeltaTracker

__all__ = ["KnownRows", "Row"]

Row = tuple[Any, ...]
"""A value row as ``BLOB_ROWS`` gives it: thread, ns, channel, version text, kind, type, data,
base version text, delta index, length."""


class KnownRows(DeltaTracker):
    """``DeltaTracker`` plus the latest value row of each (thread, ns, channel)."""

    __slots__ = ("_lock", "_rows")

    radix = 32
    """Deltas of lists on a base-32 counter, not octal: a 1,000-message chat stores each
    message in 1.96 rows on average instead of 3.16 (issue 8: bytes per turn); a cold read
    walks a longer chain (at most 31 rows per base-32 digit, 3 digits below ``MAX_DELTAS``)."""

    def __init__(self, max_entries: int = 4096) -> None:
        super().__init__(max_entries)
        self._rows: OrderedDict[tuple[str, str, str], Row] = OrderedDict()
        self._lock = threading.Lock()

    def row(self, thread_id: str, ns: str, channel: str, version_text: str) -> Row | None:
        """The row of this version if it is the latest one held for the channel."""
        found = self._rows.get((thread_id, ns, channel))
        return found if found is not None and found[3] == version_text else None

    def remember_row(self, row: Row) -> None:
        """``row`` is stored (committed, or read from the database)."""
        key = (row[0], row[1], row[2])
        with self._lock:
            self._rows[key] = row
            self._rows.move_to_end(key)
            if len(self._rows) > self.max_entries:
                self._rows.popitem(last=False)

    def forget(self, key: Any) -> None:
        super().forget(key)
        with self._lock:
            self._rows.pop(key, None)

    def forget_thread(self, thread_id: str) -> None:
        super().forget_thread(thread_id)
        with self._lock:
            for key in [k for k in self._rows if k[0] == thread_id]:
                del self._rows[key]
