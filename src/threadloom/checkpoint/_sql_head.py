"""The head a SQL saver last wrote or read, kept to answer the next read of it without a query.

A chat turn reads the thread's head, then writes its checkpoints; the next turn reads the head
again, which this saver wrote itself. A backend that can tell in one cheap statement that
nothing changed in the database since gives a *token* (SQLite: the connection's
``total_changes()`` with ``data_version``: any write on this connection, through this saver,
another saver or the caller's own SQL, moves the first; another connection's commit moves the
second). When the token read now equals the one kept with the head, the head is decoded from the
rows kept here, the very rows (and bytes) the full read would give; else it is read as usual.

What is kept is rows, never decoded values: every read decodes its own header, metadata and
values, so no caller shares an object with another. A list channel is rebuilt from the delta
tracker, so a kept head whose list versions the tracker no longer holds is read afresh. A
backend without tokens (PostgreSQL) keeps nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from threadloom.checkpoint._delta import BlobRow, DeltaTracker
from threadloom.checkpoint._records import WriteRow

__all__ = ["HeadCache", "KeptHead"]

Version = str | int | float
BlobKey = tuple[str, str, str, Version]


@dataclass(slots=True)  # not frozen (a faster __init__: one per put); treat it as read-only
class KeptHead:
    """The rows of one (thread, ns)'s head, as of ``token``."""

    token: Hashable
    """What the backend's token was when these rows were the head's."""
    header: tuple[Any, ...]
    """The head's ``HEADERS_AT`` row."""
    rows: Mapping[BlobKey, BlobRow | None]
    """The value row of each (channel, version) of the head."""
    writes: tuple[WriteRow, ...]
    """Its pending writes."""

    def complete(self, tracker: DeltaTracker) -> bool:
        """Can the head be decoded from these rows? A delta needs its list from the tracker."""
        for (thread_id, ns, channel, version), row in self.rows.items():
            if row is not None and row.kind == "delta":
                known = tracker.get((thread_id, ns, channel))
                if known is None or known.version != version:
                    return False
        return True


class HeadCache:
    """``KeptHead`` per (thread, ns), the least recently kept dropped first."""

    __slots__ = ("_heads", "max_entries")

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._heads: OrderedDict[tuple[str, str], KeptHead] = OrderedDict()

    def get(self, thread_id: str, ns: str) -> KeptHead | None:
        return self._heads.get((thread_id, ns))

    def forget(self, thread_id: str, ns: str) -> None:
        self._heads.pop((thread_id, ns), None)

    def keep(self, thread_id: str, ns: str, head: KeptHead) -> None:
        self._heads[(thread_id, ns)] = head
        self._heads.move_to_end((thread_id, ns))
        if len(self._heads) > self.max_entries:
            self._heads.popitem(last=False)

    def keep_written(
        self,
        token: Hashable,
        header: tuple[Any, ...],
        channel_versions: Mapping[str, Version],
        written: Iterable[tuple[str, Version, BlobRow]],
    ) -> None:
        """Keep a checkpoint just committed as the head (``header`` is its row). Its values are
        the rows just ``written`` and, for channels it did not change, the rows kept with the
        head before it; if one is neither, nothing is kept."""
        thread_id, ns = header[7], header[0]
        before = self._heads.pop((thread_id, ns), None)
        known: dict[BlobKey, BlobRow | None] = {
            (thread_id, ns, channel, version): row for channel, version, row in written
        }
        if before is not None:
            known = {**before.rows, **known}
        keys = list(
            zip(repeat(thread_id), repeat(ns), channel_versions.keys(), channel_versions.values())
        )
        try:  # C-level passes: a put keeps a head on every step
            rows = dict(zip(keys, map(known.__getitem__, keys), strict=True))
        except KeyError:  # a value neither written now nor kept before
            return
        heads = self._heads  # ``keep``, inline: popped above, so it goes in last already
        heads[(thread_id, ns)] = KeptHead(token, header, rows, ())
        if len(heads) > self.max_entries:
            heads.popitem(last=False)
