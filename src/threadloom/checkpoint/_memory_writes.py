"""How ``InMemorySaver`` keeps a checkpoint's pending writes.

The values of one ``put_writes`` call are stored together, as one batch (the values kept as
they are when every one is an atom, ``_memory_rows.is_atom``, else serialized once as a list);
each write refers to its position in that batch, and reading decodes each batch once. A
checkpoint's writes stay the one batch as it came until a second call arrives; from then on
they are kept by (task_id, idx), the key of the idempotency rule (CONTRACT 1.6).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn

from threadloom.checkpoint._arguments import thread_key
from threadloom.checkpoint._memory_rows import ATOM_INTS, ATOM_TYPES
from threadloom.checkpoint.base import WRITES_IDX_MAP, PendingWrite
from threadloom.checkpoint.serde.base import SerializerProtocol, dumps_at
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import MissingCheckpointIdError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from threadloom.checkpoint._memory_rows import StoredThread

__all__ = [
    "BATCH_ATOMS",
    "BATCH_CHANNELS",
    "BATCH_DATA",
    "BATCH_TASK_ID",
    "BATCH_TASK_PATH",
    "BATCH_UPSERT",
    "CheckpointWrites",
    "KeyedWrites",
    "StoredWrite",
    "WriteBatch",
    "add_batches",
    "batch_size",
    "decode_writes",
    "encode_batch",
    "keyed_writes",
    "store_batches",
    "writes_address",
]


WriteBatch = tuple[
    str, str, tuple[str, ...], bool, tuple[str, bytes] | None, tuple[Any, ...] | None
]
"""The writes of one ``put_writes`` call, stored together: ``(task_id, task_path, channels,
upsert, data, atoms)`` (read with the ``BATCH_*`` indexes). ``upsert``: every write goes to a
special channel, so the call replaces (CONTRACT 1.6); ``data``: the values serialized as one
list, None when ``atoms`` holds them; ``atoms``: the values themselves, when every one is an
atom and the serializer is the default.

A plain tuple of tuples, not a named tuple with lists: once its values are atoms, the garbage
collector stops tracking it at its first pass (it does that only for exact tuples of untracked
items), so the writes a saver keeps cost no collection after that. A batch pickled as the named
tuple it used to be reads the same by index."""

BATCH_TASK_ID: Final = 0
BATCH_TASK_PATH: Final = 1
BATCH_CHANNELS: Final = 2
BATCH_UPSERT: Final = 3
BATCH_DATA: Final = 4
BATCH_ATOMS: Final = 5


StoredWrite = tuple[str, int, WriteBatch, int]
"""One pending write: ``(channel, idx, batch, position in the batch)``."""

KeyedWrites = dict[tuple[str, int], StoredWrite]
"""A checkpoint's pending writes by (task_id, idx), the key of the idempotency rule."""

CheckpointWrites = WriteBatch | KeyedWrites
"""What a checkpoint's pending writes are stored as: the one call made so far, as it came (a
graph step with one task makes one call per checkpoint, and pays nothing per write), or from
the second call on, the writes by key (a dict: anything else is one call's batch)."""


def encode_batch(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
) -> WriteBatch:
    """The writes of one call stored together; a value that does not encode fails with its path
    (``writes['channel']...``)."""
    # One pass: this runs for every finished task.
    special = WRITES_IDX_MAP
    atoms = type(serde) is JsonPlusSerializer
    if len(writes) == 1:  # most calls (a task's one return or update): no loop, no appends
        ((channel, value),) = writes
        channels: tuple[str, ...] = (channel,)
        values = [value]
        upsert = channel in special
        if atoms:
            cls = type(value)  # is_atom(value), inlined
            atoms = (
                cls in ATOM_TYPES
                or (cls is str and value.isascii())
                or (cls is int and value in ATOM_INTS)
            )
    else:
        listed = []
        values = []
        upsert = True
        for channel, value in writes:
            listed.append(channel)
            values.append(value)
            if upsert and channel not in special:
                upsert = False
            if atoms:
                cls = type(value)  # is_atom(value), inlined
                if not (
                    cls in ATOM_TYPES
                    or (cls is str and value.isascii())
                    or (cls is int and value in ATOM_INTS)
                ):
                    atoms = False
        channels = tuple(listed)
    if atoms:
        return (task_id, task_path, channels, upsert, None, tuple(values))
    try:
        data = serde.dumps_typed(values)
    except Exception as exc:
        _explain(serde, writes, exc)
    return (task_id, task_path, channels, upsert, data, None)


def add_batches(keyed: KeyedWrites, batches: Iterable[WriteBatch]) -> None:
    """Apply calls, in order, to the writes by key: special channels keep their fixed negative
    index, others their position; regular writes are first-write-wins, a call made only of
    special channels replaces (CONTRACT 1.6, as ``_records.encode_writes`` and the SQL
    backends). One loop for all: a fan-out's tasks come in batches of dozens of calls."""
    special = WRITES_IDX_MAP
    for batch in batches:
        task_id, _, channels, upsert = batch[:4]
        for position, channel in enumerate(channels):
            idx = special.get(channel, position)
            key = (task_id, idx)
            if upsert or key not in keyed:
                keyed[key] = (channel, idx, batch, position)


def keyed_writes(stored: CheckpointWrites | None) -> KeyedWrites:
    """The writes by key (a new dict when they are still one call)."""
    if stored is None:
        return {}
    if type(stored) is not dict:  # one call's batch
        keyed: KeyedWrites = {}
        add_batches(keyed, (stored,))  # type: ignore[arg-type]
        return keyed
    return stored


def _explain(
    serde: SerializerProtocol, writes: Sequence[tuple[str, Any]], exc: Exception
) -> NoReturn:
    """Raise the error of the write that does not encode, with its path; else ``exc``."""
    for channel, value in writes:
        dumps_at(serde, f"writes[{channel!r}]", value)
    raise exc


def batch_size(batch: WriteBatch, serde: SerializerProtocol) -> int:
    """Bytes of a batch's values as a database backend would store them."""
    atoms = batch[BATCH_ATOMS]
    data = batch[BATCH_DATA] if atoms is None else serde.dumps_typed(atoms)
    assert data is not None
    return len(data[1])


def _sort_key(write: StoredWrite) -> tuple[str, str, int]:
    batch = write[2]
    return (batch[BATCH_TASK_PATH], batch[BATCH_TASK_ID], write[1])


def decode_writes(serde: SerializerProtocol, writes: Iterable[StoredWrite]) -> list[PendingWrite]:
    """Decoded writes in ``writes_sort_key`` order: (task_path, task_id, idx)."""
    decoded: dict[int, Sequence[Any]] = {}  # id(batch) -> its values: each batch decoded once
    out: list[PendingWrite] = []
    for channel, _, batch, position in sorted(writes, key=_sort_key):
        values: Sequence[Any] | None = batch[BATCH_ATOMS]
        if values is None:
            values = decoded.get(id(batch))
            if values is None:
                data = batch[BATCH_DATA]
                assert data is not None
                values = decoded[id(batch)] = serde.loads_typed(data)
        out.append((batch[BATCH_TASK_ID], channel, values[position]))
    return out


def store_batches(
    thread: StoredThread, key: tuple[str, str], batches: Sequence[WriteBatch]
) -> None:
    """Store the writes of calls made together against the checkpoint ``key`` (ns, id), in
    order (never fails): its writes are looked up once for all of them."""
    writes = thread._writes  # (the caller settled the thread, or is settling it)
    stored = writes.get(key)
    if stored is None:
        if len(batches) == 1:
            writes[key] = batches[0]  # the first call: kept as it came
            return
        stored = writes[key] = {}
    elif type(stored) is not dict:  # one call's batch
        stored = writes[key] = keyed_writes(stored)
    add_batches(stored, batches)


def writes_address(config: RunnableConfig) -> tuple[str, str, str]:
    """(thread, ns, checkpoint id) of a ``put_writes`` call, which needs a checkpoint id."""
    configurable = config["configurable"]
    thread_id = configurable["thread_id"]
    if type(thread_id) is not str:
        thread_id = thread_key(thread_id)
    checkpoint_id = configurable.get("checkpoint_id")
    if checkpoint_id is None:
        raise MissingCheckpointIdError(thread_id)
    return thread_id, configurable.get("checkpoint_ns", ""), checkpoint_id
