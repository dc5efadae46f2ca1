"""A graph step's save kept by ``InMemorySaver`` as one record, made into rows when first read.

Most checkpoints a run makes are never read back (a run reads the head it starts from; history
is walked now and then), so ``put_step_diff`` does at save time only what cannot wait: it checks
the head the run expects, checks that every value it must keep is an atom (``_memory_rows``:
an object nobody can change in place, kept as it is) and appends one ``StepRecord`` to the
thread's ``pending`` list. The header diff, the metadata merge and the write batches are made
(``StepRecord.settle``) the first time anything reads or writes the thread's rows
(``StoredThread``), with the same functions an eager save uses, so what reads return is exactly
what they return after an eager save: same rows, same order, same copies.

A step is kept as a record only on the plain path: the default serializer, the engine's header
keys, atoms only (a list channel, kept as deltas, or any value that is serialized goes the
eager way), a new checkpoint that continues the thread's head (the last record, or the stored
head when none waits). Anything else settles what waits and saves eagerly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from threadloom.checkpoint._memory_rows import (
    ATOM_INTS,
    ATOM_TYPES,
    WHOLE_HEADER_EVERY,
    Checkpoints,
    HeaderRow,
    StoredThread,
    build_row,
)
from threadloom.checkpoint._memory_writes import (
    encode_batch,
    store_batches,
)
from threadloom.checkpoint._plain_metadata import engine_metadata
from threadloom.checkpoint._records import EMPTY_ROW

if TYPE_CHECKING:
    from threadloom.checkpoint._put import RunAddress
    from threadloom.checkpoint.base import Checkpoint, TaskWrites

__all__ = ["StepRecord", "record_step"]

Version = str | int | float

NO_VALUE: Final = b"threadloom: this channel has no value"
"""What a record keeps for a channel without a value (``EMPTY_ROW`` once settled), found by
identity: a bytes object, which the garbage collector does not track (``EMPTY_ROW``, a named
tuple, would keep the record's values tracked for good). No value kept as it is is bytes."""
_NO_VALUE = repeat(NO_VALUE)
_VALUE_OF_WRITE = itemgetter(1)
"""What a channel without a value stores (``values.get``'s default, for ``map``)."""


class StepRecord(NamedTuple):
    """One graph step's save, as handed over (``put_step_diff``), until its rows are made."""

    ns: str
    parent_id: str | None
    expected_head: str | None
    checkpoint_id: str
    v: int
    ts: str
    updated_channels: tuple[str, ...] | None
    """The checkpoint's ``updated_channels`` (a list again when settled)."""
    versions: dict[str, Any]
    """The header's ``channel_versions``: the new versions when ``depth`` > 0, else all of
    them (copied when recorded)."""
    seen: dict[str, Any]
    """The header's ``versions_seen``: the entries replaced when ``depth`` > 0, else all."""
    depth: int
    """As ``HeaderRow.depth``."""
    new_versions: Mapping[str, Any]
    values: tuple[Any, ...]
    """The value of each new version, in ``new_versions`` order: an atom, or ``NO_VALUE``."""
    metadata: Mapping[str, Any] | tuple[str, int]
    """The engine's step metadata (``source``, ``step``, ``parents``), merged when settled;
    ``(source, step)`` when it has no parents (``_compact_metadata``)."""
    writes: tuple[Any, ...]
    """The step's task writes (atoms only), stored against the parent when settled, in one flat
    tuple: for each task ``task_id, task_path, n``, then its ``n`` writes as ``channel, value``
    items. Flat, so a step keeps one tuple for its writes, not one per write: the collector
    walks what a step keeps until it learns the tuples hold atoms."""
    memo: tuple[Any, str, str, dict[str, Any]]
    """The run's ``RunAddress.memo``: ``(saver, thread key, ns, metadata the config adds)``."""
    address: RunAddress

    def settle(self, thread: StoredThread) -> None:
        """Store the rows an eager ``put_step_diff`` would have stored (never fails)."""
        ns, checkpoint_id, parent_id = self.ns, self.checkpoint_id, self.parent_id
        saver, _, _, extras = self.memo
        blobs = thread._blobs
        for (channel, version), value in zip(self.new_versions.items(), self.values, strict=True):
            key = (ns, channel, version)
            if key not in blobs:  # a (channel, version) names one value: never rewritten
                blobs[key] = EMPTY_ROW if value is NO_VALUE else value
        metadata = self.metadata
        if type(metadata) is tuple:  # (source, step): in the engine's order, no parents
            metadata = {"source": metadata[0], "step": metadata[1], "parents": {}}
        kept: Any = engine_metadata(metadata, extras)  # type: ignore[arg-type]
        if kept is not None:
            run_id = kept.get("run_id")
        else:  # not plain: merged and serialized the general way
            config = self.address.config_at(parent_id, self.expected_head)
            kept, run_id = saver._kept_metadata(config, metadata)
        ts, updated = self.ts, self.updated_channels
        header = {
            "v": self.v,
            "id": checkpoint_id,
            "ts": ts,
            "channel_versions": self.versions,
            "versions_seen": self.seen,
            "updated_channels": None if updated is None else list(updated),
        }
        row = build_row(
            HeaderRow, (checkpoint_id, parent_id, header, None, kept, ts, run_id, self.depth)
        )
        stored = thread._checkpoints.get(ns)
        if stored is None:
            stored = thread._checkpoints[ns] = Checkpoints()
        stored.rows[checkpoint_id] = row  # newer than the head: checked when recorded
        stored.ids.append(checkpoint_id)
        if writes := self.writes:
            serde = saver.serde
            batches = []
            at = 0
            while at < len(writes):
                task_id, task_path, n = writes[at : at + 3]
                end = at + 3 + 2 * n
                pairs = list(zip(writes[at + 3 : end : 2], writes[at + 4 : end : 2], strict=True))
                batches.append(encode_batch(serde, pairs, task_id, task_path))
                at = end
            store_batches(thread, (ns, parent_id), batches)  # type: ignore[arg-type]


def _all_atoms(values: Iterable[Any]) -> bool:
    """Is each of ``values`` an atom (``_memory_rows.is_atom``), ``NO_VALUE`` or ``EMPTY_ROW``
    (a channel without a value; no write's value can be those private markers)?

    Asked every step of a few values: one plain loop, ``is_atom`` inlined. (A whole-list check
    by type at C speed, ``map(type)``/``set``/``compress``, ran fewer opcodes but cost three
    times the time: each of its steps allocates.)
    """
    for value in values:
        cls = type(value)
        if cls is str:
            if not value.isascii():
                return False
        elif cls is int:
            if value not in ATOM_INTS:
                return False
        elif cls not in ATOM_TYPES and value is not NO_VALUE and value is not EMPTY_ROW:
            return False
    return True


_ENGINE_ORDER: Final = ("source", "step", "parents")
"""The keys of the engine's step metadata, in the order it makes them (``Run.next_checkpoint``):
without parents, a record keeps ``(source, step)``, which the garbage collector stops tracking
(a ``parents`` dict, even empty, keeps the metadata dict tracked for good), and a copy of the
parents as they are now."""


def record_step(
    thread: StoredThread,
    memo: tuple[Any, str, str, dict[str, Any]],
    address: RunAddress,
    parent_id: str | None,
    expected_head: str | None,
    writes: Sequence[TaskWrites],
    checkpoint: Checkpoint,
    metadata: Mapping[str, Any],
    new_versions: Mapping[str, Any],
    seen_changes: dict[str, Any],
) -> bool:
    """Append the step to ``thread.pending`` when it can wait (module docstring); False: the
    caller saves it eagerly (nothing was changed). Called under the saver's lock, with the
    default serializer and a checkpoint of the engine's keys."""
    ns = memo[2]
    pending = thread.pending
    if pending:
        last: StepRecord = pending[-1]  # type: ignore[assignment]
        if last.ns != ns or expected_head != parent_id or last.checkpoint_id != parent_id:
            return False
        head: str | None = parent_id
        parent_depth: int | None = last.depth
    else:
        stored = thread._checkpoints.get(ns)
        head = stored.ids[-1] if stored is not None else None
        if expected_head != head:
            return False  # the eager save raises the conflict
        parent = stored.rows.get(parent_id) if stored is not None and parent_id else None
        parent_depth = parent.depth if parent is not None else None
    if head is not None and checkpoint["id"] <= head:
        return False
    if writes and parent_id is None:
        return False  # refused the eager way
    # only the new versions' values are kept, not the checkpoint's dict of all of them
    values = checkpoint["channel_values"]
    kept = tuple(map(values.get, new_versions, _NO_VALUE))  # (C speed: once a step)
    if not _all_atoms(kept):
        return False
    for _, _, task_writes in writes:
        if not _all_atoms(map(_VALUE_OF_WRITE, task_writes)):
            return False
    depth = parent_depth + 1 if parent_depth is not None else WHOLE_HEADER_EVERY
    if depth < WHOLE_HEADER_EVERY:
        versions: dict[str, Any] = new_versions  # type: ignore[assignment]
        seen = seen_changes
    else:  # whole: the run's dicts, copied now (the run changes them later)
        depth = 0
        versions = dict(checkpoint["channel_versions"])
        seen = dict(checkpoint["versions_seen"])  # inner dicts: replaced, never changed
    # kept as tuples of atoms where it is cheap (see StepRecord)
    updated = checkpoint["updated_channels"]
    kept_metadata: Any = metadata
    if tuple(metadata) == _ENGINE_ORDER:
        source, step, parents = metadata.values()
        if not parents and type(parents) is dict:
            kept_metadata = (source, step)
    if len(writes) == 1:  # (a step of one task: most)
        ((task_id, task_path, task_writes),) = writes
        kept_writes: tuple[Any, ...] = (
            task_id,
            task_path,
            len(task_writes),
            *chain.from_iterable(task_writes),
        )
    else:
        kept_writes = tuple(
            chain.from_iterable([(t, p, len(w), *chain.from_iterable(w)) for t, p, w in writes])
        )
    record = (
        ns,
        parent_id,
        expected_head,
        checkpoint["id"],
        checkpoint["v"],
        checkpoint["ts"],
        None if updated is None else tuple(updated),
        versions,
        seen,
        depth,
        new_versions,
        kept,
        kept_metadata,
        kept_writes,
        memo,
        address,
    )
    pending.append(build_row(StepRecord, record))
    return True
