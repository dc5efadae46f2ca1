"""A graph step's save kept by ``InMemorySaver`` as one record, made into rows when first read.

Most checkpoints a run makes are never read back (a run reads the head it starts from; history
is walked now and then), so ``put_step_diff`` does at save time only what cannot wait: it checks
the head the run expects, checks that every value it must keep is an atom (``_memory_rows``:
an object nobody can change in place, kept as it is) and appends one record to the thread's
``pending`` list: a flat tuple of atoms (``record_step``), after a ``StepContext`` naming the
run when it is the run's first there. The header diff, the metadata merge and the write batches
are made (``StepContext.settle``) the first time anything reads or writes the thread's rows
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
from typing import TYPE_CHECKING, Any, Final

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

__all__ = ["StepContext", "record_step"]

Version = str | int | float

NO_VALUE: Final = b"threadloom: this channel has no value"
"""What a record keeps for a channel without a value (``EMPTY_ROW`` once settled), found by
identity: a bytes object, which the garbage collector does not track (``EMPTY_ROW``, a named
tuple, would keep the record's values tracked for good). No value kept as it is is bytes."""
WHOLE_METADATA: Final = b"threadloom: the metadata is kept whole"
"""A record's ``step`` when its ``source`` field holds the whole metadata dict (it has parents,
or other keys than the engine's), found by identity (an atom, as ``NO_VALUE``)."""
_NO_VALUE = repeat(NO_VALUE)
_VALUE_OF_WRITE = itemgetter(1)
"""What a channel without a value stores (``values.get``'s default, for ``map``)."""


class StepContext:
    """The run that saved the step records after it in ``pending``, up to the next context: what
    settling a record needs besides the record itself. Kept once per run, not in each record,
    so a record holds atoms only (module docstring)."""

    __slots__ = ("address", "memo")

    def __init__(self, memo: tuple[Any, str, str, dict[str, Any]], address: RunAddress) -> None:
        self.memo = memo
        """The run's ``RunAddress.memo``: ``(saver, thread key, ns, metadata the config adds)``."""
        self.address = address

    def settle(self, thread: StoredThread, record: tuple[Any, ...]) -> None:
        """Store the rows an eager ``put_step_diff`` would have stored for ``record`` (a step
        this run saved; never fails)."""
        (ns, parent_id, expected_head, checkpoint_id, v, ts, depth, source, step, whole) = record[
            :_COUNTS
        ]
        n_updated, n_new, n_seen = record[_COUNTS:_HEAD]
        at = _HEAD
        updated = None
        if n_updated >= 0:
            updated = list(record[at : at + n_updated])
            at += n_updated
        channels = record[at : at + n_new]
        versions = record[at + n_new : at + 2 * n_new]
        values = record[at + 2 * n_new : at + 3 * n_new]
        at += 3 * n_new
        blobs = thread._blobs
        for channel, version, value in zip(channels, versions, values, strict=True):
            key = (ns, channel, version)
            if key not in blobs:  # a (channel, version) names one value: never rewritten
                blobs[key] = EMPTY_ROW if value is NO_VALUE else value
        if whole is None:  # the header's changes from its parent's
            header_versions: dict[str, Any] = dict(zip(channels, versions, strict=True))
            seen: dict[str, Any] = {}
            end = at + n_seen
            while at < end:
                node, n = record[at : at + 2]
                at += 2
                seen[node] = dict(
                    zip(record[at : at + n], record[at + n : at + 2 * n], strict=True)
                )
                at += 2 * n
        else:  # the whole header, copied when recorded
            header_versions, seen = whole
            at += n_seen
        saver, _, _, extras = self.memo
        metadata: Any = source
        if step is not WHOLE_METADATA:  # (source, step): in the engine's order, no parents
            metadata = {"source": source, "step": step, "parents": {}}
        kept: Any = engine_metadata(metadata, extras)
        if kept is not None:
            run_id = kept.get("run_id")
        else:  # not plain: merged and serialized the general way
            config = self.address.config_at(parent_id, expected_head)
            kept, run_id = saver._kept_metadata(config, metadata)
        header = {
            "v": v,
            "id": checkpoint_id,
            "ts": ts,
            "channel_versions": header_versions,
            "versions_seen": seen,
            "updated_channels": updated,
        }
        row = build_row(
            HeaderRow, (checkpoint_id, parent_id, header, None, kept, ts, run_id, depth)
        )
        stored = thread._checkpoints.get(ns)
        if stored is None:
            stored = thread._checkpoints[ns] = Checkpoints()
        stored.rows[checkpoint_id] = row  # newer than the head: checked when recorded
        stored.ids.append(checkpoint_id)
        if at < len(record):  # the step's task writes
            serde = saver.serde
            batches = []
            while at < len(record):
                task_id, task_path, n = record[at : at + 3]
                end = at + 3 + 2 * n
                pairs = list(zip(record[at + 3 : end : 2], record[at + 4 : end : 2], strict=True))
                batches.append(encode_batch(serde, pairs, task_id, task_path))
                at = end
            store_batches(thread, (ns, parent_id), batches)


_COUNTS: Final = 10
"""Where a step record's three counts start: its fixed fields before them are ``ns,
parent_id, expected_head, checkpoint_id, v, ts, depth, source, step, whole``."""
_HEAD: Final = _COUNTS + 3
"""Where a step record's variable part starts (``record_step`` documents the layout)."""
_ID: Final = 3
_DEPTH: Final = 6


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
"""The keys of the engine's step metadata, in the order it makes them (``Run.save``): without
parents, a record keeps its ``source`` and ``step`` (a ``parents`` dict, even empty, would keep
the record tracked for good); with parents, the dict itself."""


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
    default serializer and a checkpoint of the engine's keys.

    The record is one flat tuple, of atoms but for the rare parts noted: ``ns, parent_id,
    expected_head, checkpoint_id, v, ts, depth``; the metadata's ``source, step`` (the
    metadata dict and ``WHOLE_METADATA`` when it has parents); ``whole``: None, or the
    header's version dicts when ``depth`` is 0; the counts ``n_updated`` (-1: None),
    ``n_new``, ``n_seen``; then the ``updated_channels``; the new versions' channels, their
    versions, their values (an atom, or ``NO_VALUE``); the ``seen_changes`` flat, ``n_seen``
    items (for each node: its name, ``n``, its ``n`` channels, their ``n`` versions); the task
    writes flat (for each task: ``task_id, task_path, n``, then its ``n`` writes as ``channel,
    value`` items). One object, which the collector stops tracking at its first pass: a step
    kept no longer makes collections come sooner or cost more
    (``tests/checkpoint/test_memory_untracked.py``)."""
    ns = memo[2]
    pending = thread.pending
    if pending:
        last: tuple[Any, ...] = pending[-1]  # type: ignore[assignment]
        if last[0] != ns or expected_head != parent_id or last[_ID] != parent_id:
            return False
        head: str | None = parent_id
        parent_depth: int | None = last[_DEPTH]
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
    if len(writes) == 1:  # (a step of one task: most) its writes flat, then one atom check
        ((task_id, task_path, task_writes),) = writes
        kept_writes: tuple[Any, ...] = (
            task_id,
            task_path,
            len(task_writes),
            *chain.from_iterable(task_writes),
        )
        if not _all_atoms(kept + kept_writes[4::2]):  # the values and the written values
            return False
    else:
        if not _all_atoms(kept):
            return False
        for _, _, task_writes in writes:
            if not _all_atoms(map(_VALUE_OF_WRITE, task_writes)):
                return False
        kept_writes = tuple(
            chain.from_iterable([(t, p, len(w), *chain.from_iterable(w)) for t, p, w in writes])
        )
    depth = parent_depth + 1 if parent_depth is not None else WHOLE_HEADER_EVERY
    whole = None
    seen: Any = ()
    if depth < WHOLE_HEADER_EVERY:
        if len(seen_changes) == 1:  # (a step of one task: most)
            ((node, entry),) = seen_changes.items()
            seen = (node, len(entry), *entry, *entry.values())
        else:
            seen = []
            for node, entry in seen_changes.items():
                seen += (node, len(entry), *entry, *entry.values())
    else:  # whole: the run's dicts, copied now (the run changes them later)
        depth = 0
        # inner dicts of versions_seen: replaced, never changed
        whole = (dict(checkpoint["channel_versions"]), dict(checkpoint["versions_seen"]))
    source: Any = metadata
    step: Any = WHOLE_METADATA
    if tuple(metadata) == _ENGINE_ORDER:
        source, step, parents = metadata.values()
        if parents or type(parents) is not dict:
            source, step = metadata, WHOLE_METADATA
    updated = checkpoint["updated_channels"]
    pending_run = thread.pending_run
    if pending_run is not address:  # the first record of this run since the last context
        pending.append(StepContext(memo, address))
        thread.pending_run = address
    pending.append(
        (
            ns,
            parent_id,
            expected_head,
            checkpoint["id"],
            checkpoint["v"],
            checkpoint["ts"],
            depth,
            source,
            step,
            whole,
            -1 if updated is None else len(updated),
            len(kept),
            len(seen),
            *(updated or ()),
            *new_versions,
            *new_versions.values(),
            *kept,
            *seen,
            *kept_writes,
        )
    )
    return True
