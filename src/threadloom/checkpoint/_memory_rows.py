"""How ``InMemorySaver`` keeps its rows, without paying O(nodes) per graph step.

Per thread, a ``StoredThread``: checkpoint headers per namespace (``Checkpoints``, ids kept in
order so the newest is one lookup), channel values by (ns, channel, version), pending writes by
checkpoint. Shortcuts over the shared rows of ``_records``, possible only in process memory
and taken only with the default ``JsonPlusSerializer`` (any other serializer sees everything):

- **Headers of graph runs are kept as diffs.** The engine hands an opted-in saver each step's
  header as its changes from the parent (``put_step_diff``: the channels given a new version,
  the ``versions_seen`` entries replaced); ``diff_row`` keeps those, and a whole header every
  ``WHOLE_HEADER_EVERY`` checkpoints, where copying the run's two O(nodes) dicts per step, or
  serializing them, would cost O(nodes). ``read_header`` rebuilds the whole dicts (at most
  ``WHOLE_HEADER_EVERY - 1`` diffs on a whole header); ``Checkpoints`` makes whole the diffs
  that need a header before it is removed or replaced. Any other put made by a graph run (it
  carries the run's expected head, ``CONFIG_KEY_EXPECTED_HEAD``) comes with version dicts of its
  own, kept as they are (the inner ``versions_seen`` dicts are shared between checkpoints: the
  engine replaces them, never changes one). Reads hand out copies, never these dicts. Any other
  put (a direct API call, a checkpoint with keys the engine does not write) has its header
  serialized, so the caller may reuse its dicts freely.
- **Plain metadata is kept as a dict.** Metadata made only of atoms (below) and flat dicts of
  atoms under ASCII string keys (what the engine writes: source, step, parents, and the plain
  values of the run config) is copied, not serialized; reads copy it again.
- **Plain immutable values are kept as they are.** A channel value or a write that is exactly
  ``None``, a ``bool``, a ``float``, a 64-bit ``int`` or an ASCII ``str`` comes back from the
  serializer as an equal object of the same type, and nobody can change it in place: storing
  the object itself is the same as storing its bytes, minus the encoding on every step and the
  decoding on every read. Anything else is serialized.
- **The values of one ``put_writes`` call are stored together** (``_memory_writes``).
"""

from __future__ import annotations

import bisect
import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple, Protocol

from threadloom.checkpoint._delta import BlobRow
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    Checkpoint,
)
from threadloom.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    from threadloom.checkpoint._memory_writes import CheckpointWrites

__all__ = [
    "ATOM_INTS",
    "ATOM_TYPES",
    "ENGINE_KEYS",
    "WHOLE_HEADER_EVERY",
    "Atom",
    "BlobKey",
    "Checkpoints",
    "HeaderRow",
    "Settling",
    "StoredThread",
    "build_row",
    "constant_loader",
    "decoding_loader",
    "diff_row",
    "header_size",
    "header_versions",
    "is_atom",
    "kept_header",
    "peek_metadata",
    "read_header",
    "read_metadata",
    "row_of",
    "whole_row",
]

ENGINE_KEYS: Final = frozenset(
    {"v", "id", "ts", "channel_values", "channel_versions", "versions_seen", "updated_channels"}
)
"""The keys of a checkpoint built by the engine; a header with other keys is serialized."""


Atom = str | int | float | bool | None
"""A channel value kept as the object itself (see ``is_atom``)."""

ATOM_TYPES: Final = frozenset({type(None), bool, float})
"""Types whose every value is an atom; ``str`` and ``int`` values are atoms conditionally."""
ATOM_INTS: Final = range(-(2**63), 2**64)
"""Integers msgpack stores as integers (bigger ones take another path in the serializer)."""


def is_atom(value: Any) -> bool:
    """Would ``JsonPlusSerializer`` give back an equal object of the same type, which nobody can
    change in place? Then the object itself can be stored (``str.isascii`` is O(1); other
    strings may hold lone surrogates, which the serializer replaces)."""
    cls = type(value)
    if cls in ATOM_TYPES:
        return True
    if cls is str:
        return value.isascii()  # type: ignore[no-any-return]
    return cls is int and value in ATOM_INTS


build_row: Final = tuple.__new__
"""``build_row(Row, (field, ...))`` builds a named tuple without its Python-level ``__new__``
(half the cost): used for the rows made on every step, with every field given in order."""


class HeaderRow(NamedTuple):
    """A checkpoint header: everything but the channel values."""

    checkpoint_id: str
    parent_id: str | None
    live: dict[str, Any] | None
    """The header kept as objects: never changed, never handed out. When ``depth`` > 0 its
    ``channel_versions`` and ``versions_seen`` hold only what changed since ``parent_id``'s."""
    packed: tuple[str, bytes] | None
    """The serialized header of any other put (``live`` is None)."""
    metadata: dict[str, Any] | tuple[str, bytes]
    """Metadata as merged by ``get_checkpoint_metadata``: a private copy when it
    is plain (``plain_metadata``), else serialized."""
    ts: str
    """Creation time (the checkpoint's ``ts``), kept apart for pruning by date."""
    run_id: str | None
    """``metadata["run_id"]``, kept apart for ``delete_for_runs``."""
    depth: int = 0
    """0: the header is whole. Else ``live`` is a diff from the parent's header, and this many
    diffs lead back to a whole one (at most ``WHOLE_HEADER_EVERY - 1``)."""


WHOLE_HEADER_EVERY: Final = 16
"""A header kept as a diff from its parent is whole again every this many checkpoints, so
reading any one applies at most ``WHOLE_HEADER_EVERY - 1`` diffs."""


def kept_header(checkpoint: Checkpoint, configurable: Mapping[str, Any]) -> dict[str, Any] | None:
    """The header to keep by reference, or None when it must be serialized (see module doc)."""
    if CONFIG_KEY_EXPECTED_HEAD not in configurable or checkpoint.keys() != ENGINE_KEYS:
        return None
    if type(checkpoint["channel_versions"]) is not dict:
        return None
    if type(checkpoint["versions_seen"]) is not dict:
        return None
    updated = checkpoint["updated_channels"]
    if updated is not None and type(updated) is not list:
        return None  # read_header copies it as a list
    header: dict[str, Any] = dict(checkpoint)
    del header["channel_values"]
    return header


def diff_row(
    checkpoint: Checkpoint,
    parent_id: str | None,
    metadata: dict[str, Any] | tuple[str, bytes],
    run_id: str | None,
    new_versions: dict[str, Any],
    seen_changes: dict[str, Any],
    parent: HeaderRow | None,
) -> HeaderRow:
    """The row of a checkpoint the engine handed over as its changes from ``parent`` (the row
    of ``parent_id``): a diff, or whole when there is no parent row or the
    chain of diffs is long enough. ``checkpoint``'s version dicts are the run's, read now and
    never kept; ``new_versions`` and the ``seen_changes`` entries are kept (the engine makes
    them afresh and never changes them)."""
    depth = parent.depth + 1 if parent is not None else WHOLE_HEADER_EVERY
    if depth < WHOLE_HEADER_EVERY:
        versions, seen = new_versions, seen_changes
    else:
        depth = 0
        versions = dict(checkpoint["channel_versions"])
        seen = dict(checkpoint["versions_seen"])  # inner dicts: replaced, never changed
    live = {
        "v": checkpoint["v"],
        "id": checkpoint["id"],
        "ts": checkpoint["ts"],
        "channel_versions": versions,
        "versions_seen": seen,
        "updated_channels": checkpoint["updated_channels"],
    }
    return build_row(
        HeaderRow,
        (
            checkpoint["id"],
            parent_id,
            live,
            None,
            metadata,
            checkpoint["ts"],
            run_id,
            depth,
        ),
    )


def read_header(
    row: HeaderRow, serde: SerializerProtocol, rows: Mapping[str, HeaderRow]
) -> dict[str, Any]:
    """A fresh header the caller may change: copies of every dict and list in it. ``rows``:
    the headers of the row's (thread, ns), where a diff's parents are."""
    if row.depth:
        return _rebuilt_header(row, serde, rows)
    live = row.live
    if live is None:
        assert row.packed is not None
        header: dict[str, Any] = serde.loads_typed(row.packed)
        return header
    header = dict(live)
    header["channel_versions"] = dict(live["channel_versions"])
    header["versions_seen"] = {node: dict(seen) for node, seen in live["versions_seen"].items()}
    updated = live["updated_channels"]
    if updated is not None:
        header["updated_channels"] = list(updated)
    return header


def _rebuilt_header(
    row: HeaderRow, serde: SerializerProtocol, rows: Mapping[str, HeaderRow]
) -> dict[str, Any]:
    """The whole header of a diff row: its nearest whole ancestor's, with the diffs since."""
    diffs = []
    top = row
    while row.depth:
        diffs.append(row.live)
        row = rows[row.parent_id]  # type: ignore[index]  # kept while a child needs it
    base = read_header(row, serde, rows)
    versions, seen = base["channel_versions"], base["versions_seen"]
    for diff in reversed(diffs):
        assert diff is not None
        versions.update(diff["channel_versions"])
        for node, by_node in diff["versions_seen"].items():
            seen[node] = dict(by_node)
    live = top.live
    assert live is not None
    updated = live["updated_channels"]
    return {
        "v": live["v"],
        "id": live["id"],
        "ts": live["ts"],
        "channel_versions": versions,
        "versions_seen": seen,
        "updated_channels": list(updated) if updated is not None else None,
    }


def whole_row(
    row: HeaderRow, serde: SerializerProtocol, rows: Mapping[str, HeaderRow]
) -> HeaderRow:
    """``row`` with its header whole (itself when it is)."""
    if not row.depth:
        return row
    return row._replace(live=_rebuilt_header(row, serde, rows), depth=0)


def header_versions(row: HeaderRow, serde: SerializerProtocol) -> Mapping[str, Any]:
    """The channel versions the row names beyond its parent chain's: its ``channel_versions``
    when whole, the ones it changed when a diff (every version a thread's headers use is in
    the union of these, since a diff's parents are kept). Read-only: no copy."""
    if row.live is not None:
        versions: Mapping[str, Any] = row.live["channel_versions"]
        return versions
    assert row.packed is not None
    return serde.loads_typed(row.packed)["channel_versions"]  # type: ignore[no-any-return]


def read_metadata(row: HeaderRow, serde: SerializerProtocol) -> dict[str, Any]:
    """Fresh metadata the caller may change."""
    metadata = row.metadata
    if type(metadata) is dict:
        return {k: dict(v) if type(v) is dict else v for k, v in metadata.items()}
    return serde.loads_typed(metadata)  # type: ignore[arg-type,no-any-return]


def peek_metadata(row: HeaderRow, serde: SerializerProtocol) -> Mapping[str, Any]:
    """Metadata to look at, not to hand out (no copy when kept as a dict)."""
    metadata = row.metadata
    if type(metadata) is dict:
        return metadata
    return serde.loads_typed(metadata)  # type: ignore[arg-type,no-any-return]


def header_size(row: HeaderRow, serde: SerializerProtocol, rows: Mapping[str, HeaderRow]) -> int:
    """Bytes of the header and metadata as a database backend would store them (whole)."""
    row = whole_row(row, serde, rows)
    packed = row.packed if row.live is None else serde.dumps_typed(row.live)
    metadata = row.metadata
    packed_metadata = serde.dumps_typed(metadata) if isinstance(metadata, dict) else metadata
    assert packed is not None
    return len(packed[1]) + len(packed_metadata[1])


# -- what is stored per thread ------------------------------------------------------------------

Version = str | int | float
BlobKey = tuple[str, str, Version]
"""(ns, channel, version)."""


def row_of(entry: BlobRow | Atom | None) -> BlobRow | None:
    """The stored row, or None for an atom or a missing entry (neither is part of a chain)."""
    return entry if type(entry) is BlobRow else None


class Checkpoints:
    """The checkpoint headers of one (thread, ns): by id, and their ids in ascending order.

    Ids are time-ordered, so a new checkpoint's id is nearly always the largest and is
    appended. The last id is the head ("latest", and what a run's expected head is checked
    against); the sorted list lets ``list(limit=..., before=...)`` start at the right place and
    touch only the rows it returns, however long the thread. Never empty: a (thread, ns) without
    checkpoints has no entry.
    """

    __slots__ = ("ids", "rows")

    def __init__(self) -> None:
        self.rows: dict[str, HeaderRow] = {}
        self.ids: builtins.list[str] = []

    def add(self, row: HeaderRow, serde: SerializerProtocol) -> None:
        """Store ``row``, replacing a header with the same id (diffs from the one replaced are
        made whole first)."""
        checkpoint_id = row.checkpoint_id
        if checkpoint_id not in self.rows:
            ids = self.ids
            if not ids or checkpoint_id > ids[-1]:
                ids.append(checkpoint_id)
            else:
                bisect.insort(ids, checkpoint_id)
        else:
            self._make_whole({checkpoint_id}, serde)
        self.rows[checkpoint_id] = row

    def remove(self, checkpoint_ids: Iterable[str], serde: SerializerProtocol) -> None:
        """Drop headers; the diffs that need one of them are made whole first."""
        gone = set(checkpoint_ids) & self.rows.keys()
        self._make_whole(gone, serde)
        for checkpoint_id in gone:
            del self.rows[checkpoint_id]
        self.ids = sorted(self.rows)

    def _make_whole(self, leaving: set[str], serde: SerializerProtocol) -> None:
        """Make whole every other diff whose chain of parents passes through ``leaving``."""
        if not leaving:
            return
        rows = self.rows
        needing = []
        for checkpoint_id, row in rows.items():
            if checkpoint_id in leaving:
                continue
            walk = row
            while walk.depth:
                if walk.parent_id in leaving:
                    needing.append(checkpoint_id)
                    break
                walk = rows[walk.parent_id]  # type: ignore[index]
        whole = {cid: whole_row(rows[cid], serde, rows) for cid in needing}
        rows.update(whole)

    def newest_first(self, before: str | None, limit: int | None) -> builtins.list[str]:
        """Ids strictly older than ``before`` (all without it), newest first; at most ``limit``."""
        ids = self.ids
        end = len(ids) if before is None else bisect.bisect_left(ids, before)
        start = 0 if limit is None else max(0, end - limit)
        return ids[start:end][::-1]


class Settling(Protocol):
    """The run that saved the step records after it in ``StoredThread.pending`` (each a tuple
    until its rows are first read: ``_memory_steps.StepContext``)."""

    def settle(self, thread: StoredThread, record: tuple[Any, ...]) -> None:
        """Store ``record``'s rows in ``thread`` (never fails: checked when it was made)."""


class StoredThread:
    """Everything stored for one thread.

    A graph step's save may wait in ``pending`` (``_memory_steps``): reading any of the three
    stores first stores what waits there, in the order it was saved, so every reader (and
    every other writer) sees the rows an eager save would have made. ``put_step_diff`` alone
    reaches past that, to the raw stores (``_checkpoints``...), to append its record.
    """

    __slots__ = ("_blobs", "_checkpoints", "_writes", "pending", "pending_run")

    def __init__(self) -> None:
        self._checkpoints: dict[str, Checkpoints] = {}
        self._blobs: dict[BlobKey, BlobRow | Atom] = {}
        self._writes: dict[tuple[str, str], CheckpointWrites] = {}
        self.pending: builtins.list[Settling | tuple[Any, ...]] = []
        """Step saves not made into rows yet, oldest first: each run's records (tuples) after
        the ``Settling`` context of the run that saved them."""
        self.pending_run: Any = None
        """The ``RunAddress`` of the last context in ``pending`` (None when it is empty)."""

    @property
    def checkpoints(self) -> dict[str, Checkpoints]:
        """ns → its checkpoint headers (the newest is the head: latest reads, conflict checks)."""
        if self.pending:
            self.settle()
        return self._checkpoints

    @property
    def blobs(self) -> dict[BlobKey, BlobRow | Atom]:
        """(ns, channel, version) → its row, or the value itself when it is an atom."""
        if self.pending:
            self.settle()
        return self._blobs

    @property
    def writes(self) -> dict[tuple[str, str], CheckpointWrites]:
        """(ns, checkpoint id) → its pending writes (one call's batch, or by (task_id, idx))."""
        if self.pending:
            self.settle()
        return self._writes

    def settle(self) -> None:
        """Make the waiting step saves into rows, oldest first."""
        pending, self.pending = self.pending, []
        self.pending_run = None
        context: Any = None
        for item in pending:
            if type(item) is tuple:
                context.settle(self, item)
            else:
                context = item

    def __getstate__(self) -> tuple[Any, ...]:  # pickled by PersistentDict: rows only
        return (self.checkpoints, self.blobs, self.writes)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self._checkpoints, self._blobs, self._writes = state
        self.pending = []
        self.pending_run = None


def constant_loader(value: Any) -> Callable[[], Any]:
    """What reads a value kept as it is (an atom)."""
    return lambda: value


def decoding_loader(serde: Any, row: BlobRow) -> Callable[[], Any]:
    """What decodes a stored row afresh (each read gets its own copy)."""
    return lambda: serde.loads_typed((row.type, row.data))
