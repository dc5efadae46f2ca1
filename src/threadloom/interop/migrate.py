"""Move a LangGraph database into threadloom: ``migrate_checkpoints`` and ``migrate_store``.

The rules a migration keeps:

- **The source is never changed.** A LangGraph SQLite file is opened ``mode=ro``, a PostgreSQL
  database with every transaction ``READ ONLY`` (``_langgraph_db``). LangGraph's serializer reads
  LangGraph's bytes, here only, and only from the database the caller names.
- **Everything a thread is, is kept**: thread ids, checkpoint ids, parents, namespaces (subgraph
  checkpoints), metadata, channel versions and pending writes (interrupts, resume values, writes
  of tasks that finished in an interrupted step), with their task paths.
- **Each copied checkpoint is read back** from the target and compared with the source; a
  difference stops the migration with ``MigrationMismatchError`` naming the checkpoint.
- **Resumable**: a checkpoint already in the target and equal to the source is skipped; one with
  missing pending writes gets them. A second run copies nothing; an interrupted run continues
  where it stopped. Checkpoints are copied oldest first, so a parent is always there before its
  children.

``migrate_store`` copies items (namespace, key, value, TTL) into a threadloom store; their
vectors are embedded again by the target's index (``reembed=True``) or copied from the source.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from threadloom.checkpoint.base import BaseCheckpointSaver, CheckpointTuple
from threadloom.errors import MigrationMismatchError, UnknownSourceThreadsError
from threadloom.interop._langgraph_db import (
    StoreRow,
    open_checkpoint_source,
    parse_source,
    read_store_rows,
)

if TYPE_CHECKING:
    from threadloom.store.base import BaseStore

__all__ = [
    "CheckpointMigration",
    "MigrationStep",
    "StoreMigration",
    "migrate_checkpoints",
    "migrate_store",
]

Source = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class MigrationStep:
    """One checkpoint handled by ``migrate_checkpoints`` (given to its ``progress`` callback)."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str
    copied: bool
    """False when the target already held it, equal, with all its pending writes."""
    done: int
    """Checkpoints handled so far, this one included."""
    total: int
    """Checkpoints of the selected threads in the source."""


@dataclass(frozen=True, slots=True)
class CheckpointMigration:
    """What ``migrate_checkpoints`` did."""

    source: str
    """The source, a DSN's password hidden."""
    threads: int
    checkpoints: int
    """Checkpoints in the source (selected threads, every namespace)."""
    copied: int
    """Checkpoints written to the target (new, or completed with missing pending writes)."""
    skipped: int
    """Checkpoints the target already held, equal: an earlier run copied them."""
    writes: int
    """Pending writes written to the target."""

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (``threadloom migrate --json``)."""
        return asdict(self)


# -- comparing a copy with its source -------------------------------------------------------------

_CHECKPOINT_FIELDS: Final = (
    "id",
    "ts",
    "channel_values",
    "channel_versions",
    "versions_seen",
)
"""The parts of a checkpoint that make a thread: a copy must read them back equal."""


def _task_writes(saved: CheckpointTuple) -> dict[str, list[tuple[str, Any]]]:
    """Pending writes grouped by task id, each task's in stored order."""
    grouped: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in saved.pending_writes or ():
        grouped.setdefault(task_id, []).append((channel, value))
    return grouped


def _metadata(saved: CheckpointTuple) -> dict[str, Any]:
    return {k: v for k, v in (saved.metadata or {}).items() if k != "writes"}


def _parent_id(saved: CheckpointTuple) -> str | None:
    if saved.parent_config is None:
        return None
    parent: str | None = saved.parent_config["configurable"].get("checkpoint_id")
    return parent


def first_difference(source: CheckpointTuple, copy: CheckpointTuple | None) -> str | None:
    """The first part of ``copy`` that differs from ``source`` (``"pending writes"`` last), or
    None when they are equal."""
    if copy is None:
        return "checkpoint (missing)"
    for name in _CHECKPOINT_FIELDS:
        if source.checkpoint.get(name) != copy.checkpoint.get(name):
            return name
    if _metadata(source) != _metadata(copy):
        return "metadata"
    if _parent_id(source) != _parent_id(copy):
        return "parent"
    if _task_writes(source) != _task_writes(copy):
        return "pending writes"
    return None


# -- checkpoints ----------------------------------------------------------------------------------


def _check_target(target: Any, kind: str, base: type) -> None:
    if not isinstance(target, base):
        raise TypeError(
            f"the migration target must be a threadloom {base.__name__} (e.g. "
            f"{'SqliteSaver' if kind == 'saver' else 'SqliteStore'} from threadloom.{kind}s...), "
            f"got {type(target).__module__}.{type(target).__qualname__}: {target!r}. Open a "
            f"threadloom {kind} and pass it."
        )


def migrate_checkpoints(
    source: Source,
    target: BaseCheckpointSaver[Any],
    thread_ids: Sequence[str] | None = None,
    *,
    allowed_types: Sequence[type] = (),
    progress: Callable[[MigrationStep], None] | None = None,
) -> CheckpointMigration:
    """Copy threads from a LangGraph checkpointer database into a threadloom saver.

    ``source`` is a LangGraph SQLite file or a PostgreSQL DSN (``postgresql://...``), read
    without being changed; ``target`` an open, set-up threadloom saver (sync methods are used).
    ``thread_ids`` picks threads (all by default; one the source lacks raises
    ``UnknownSourceThreadsError`` before anything is copied). ``allowed_types`` are the state's
    own types (dataclasses, pydantic models, ...) that both serializers may rebuild, as a graph
    allows its schema's types. ``progress`` is called after each checkpoint. See the module
    docstring for what is kept, checked and resumed.
    """
    _check_target(target, "saver", BaseCheckpointSaver)
    if allowed_types:
        target = target.with_allowlist(list(allowed_types))
    from threadloom.interop._from_langgraph import from_langgraph_saver

    where = parse_source(source)
    with open_checkpoint_source(where) as opened:
        counts = opened.thread_counts()
        if thread_ids is not None:
            missing = [t for t in thread_ids if t not in counts]
            if missing:
                raise UnknownSourceThreadsError(where.shown, missing, sorted(counts))
            counts = {t: counts[t] for t in dict.fromkeys(thread_ids)}
        reader = from_langgraph_saver(opened.saver)
        if allowed_types:
            reader = reader.with_allowlist(list(allowed_types))
        total = sum(counts.values())
        copied = skipped = writes = done = 0
        for thread_id in counts:
            paths = opened.task_paths(thread_id)
            last: dict[str, Mapping[str, Any]] = {}  # ns -> values the target returned last
            for ns, checkpoint_id in opened.checkpoint_ids(thread_id):
                config = _config(thread_id, ns, checkpoint_id)
                saved = reader.get_tuple(config)
                written = (  # None: already there (or deleted from the source since listed)
                    None
                    if saved is None
                    else _copy_one(saved, target, paths, thread_id, ns, checkpoint_id, last)
                )
                copied += written is not None
                skipped += written is None
                writes += written or 0
                done += 1
                if progress is not None:
                    progress(
                        MigrationStep(
                            thread_id, ns, checkpoint_id, written is not None, done, total
                        )
                    )
    return CheckpointMigration(where.shown, len(counts), total, copied, skipped, writes)


def _config(thread_id: str, ns: str, checkpoint_id: str | None) -> Any:
    configurable = {"thread_id": thread_id, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def _copy_one(
    saved: CheckpointTuple,
    target: BaseCheckpointSaver[Any],
    paths: Mapping[tuple[str, str, str], str],
    thread_id: str,
    ns: str,
    checkpoint_id: str,
    last: dict[str, Mapping[str, Any]],
) -> int | None:
    """Bring one checkpoint into ``target``: None if it was there already, else the number of
    pending writes written. Raises ``MigrationMismatchError`` when the copy reads back wrong.
    ``last[ns]`` holds the values the target returned for the namespace's previous checkpoint."""
    config = _config(thread_id, ns, checkpoint_id)
    existing = target.get_tuple(config)
    if first_difference(saved, existing) is None:
        if existing is not None:
            last[ns] = existing.checkpoint["channel_values"]
        return None
    if existing is None:
        checkpoint = saved.checkpoint
        values = _share_prefixes(checkpoint["channel_values"], last.get(ns, {}))
        target.put(
            _config(thread_id, ns, _parent_id(saved)),
            {**checkpoint, "channel_values": values},
            saved.metadata,
            dict(checkpoint["channel_versions"]),  # versions already stored are skipped
        )
    have = _task_writes(existing) if existing is not None else {}
    written = 0
    for task_id, task_writes in _task_writes(saved).items():
        if have.get(task_id) != task_writes:
            path = paths.get((ns, checkpoint_id, task_id), "")
            target.put_writes(config, task_writes, task_id, path)
            written += len(task_writes)
    copy = target.get_tuple(config)
    field = first_difference(saved, copy)
    if field is not None:
        raise MigrationMismatchError(thread_id, ns, checkpoint_id, field)
    assert copy is not None
    last[ns] = copy.checkpoint["channel_values"]
    return written


def _share_prefixes(values: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` whose lists start with the very objects of ``previous``'s equal lists.

    threadloom's savers store a list that extends the one they last returned as a delta (the
    new tail only), and they check "extends" by identity, as the engine hands them the same
    objects. Each checkpoint read from LangGraph is decoded anew, so without this a migrated
    chat would store its whole history at every step.
    """
    shared = dict(values)
    for channel, value in values.items():
        before = previous.get(channel) if type(value) is list else None
        if type(before) is list and len(before) <= len(value) and value[: len(before)] == before:
            shared[channel] = before + value[len(before) :]
    return shared


# -- store ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreMigration:
    """What ``migrate_store`` did."""

    source: str
    items: int
    """Items in the source store."""
    copied: int
    skipped: int
    """Items the target already held with the same value."""
    vectors: str
    """``"re-embedded"``, ``"copied"`` or ``"none"`` (the target has no index)."""

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return asdict(self)


def migrate_store(
    source: Source,
    target: BaseStore,
    *,
    reembed: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> StoreMigration:
    """Copy every item of a LangGraph store (SQLite file or PostgreSQL DSN) into a threadloom
    store, keeping namespaces, keys, values and TTLs (creation times become the copy's).

    With an index on the target, ``reembed=True`` embeds each item with the target's embedder
    and fields; ``reembed=False`` stores the source's vectors instead (same model and fields
    needed: an item whose text has no source vector raises ``EmbeddingError``). An item the
    target holds with the same value is skipped, so a second run copies nothing.
    ``progress(done, total)`` is called after each item.
    """
    from threadloom.store.base import BaseStore

    _check_target(target, "store", BaseStore)
    where = parse_source(source)
    rows = list(read_store_rows(where))
    index = _embedding_index(target)
    mode = "none" if index is None else ("re-embedded" if reembed else "copied")
    copied = skipped = 0
    lookup = _VectorLookup(rows) if mode == "copied" else None
    with _embedder(index, lookup):
        for done, row in enumerate(rows, 1):
            existing = target.get(row.namespace, row.key)
            if existing is not None and existing.value == row.value:
                skipped += 1
            else:
                target.put(row.namespace, row.key, row.value, ttl=row.ttl_minutes)
                copied += 1
            if progress is not None:
                progress(done, len(rows))
    return StoreMigration(where.shown, len(rows), copied, skipped, mode)


def _embedding_index(store: Any) -> Any:
    """The store's resolved ``EmbeddingIndex`` (threadloom's stores keep one), or None."""
    core = getattr(store, "_core", None)
    return getattr(core, "index", None) if core is not None else getattr(store, "_index", None)


class _VectorLookup:
    """An embedder that answers with the source's stored vectors, by text."""

    def __init__(self, rows: Sequence[StoreRow]) -> None:
        from threadloom.store._paths import get_text_at_path

        self.vectors: dict[str, list[float]] = {}
        for row in rows:
            for field, vector in row.vectors.items():
                texts = get_text_at_path(row.value, field)
                if len(texts) == 1:
                    self.vectors[texts[0]] = vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            raise LookupError(
                f"the LangGraph store has no vector for the text {missing[0][:80]!r}: its "
                "index embedded other fields than the target's. Migrate with reembed=True "
                "(threadloom migrate --reembed) to embed the items again."
            )
        return [self.vectors[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


@contextmanager
def _embedder(index: Any, lookup: _VectorLookup | None) -> Iterator[None]:
    """Within the block, ``index`` embeds with ``lookup`` (the source's vectors)."""
    if index is None or lookup is None:
        yield
        return
    own = index.embeddings
    object.__setattr__(index, "embeddings", lookup)  # a frozen record; restored below
    try:
        yield
    finally:
        object.__setattr__(index, "embeddings", own)
