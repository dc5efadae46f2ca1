"""``InMemorySaver``: checkpoints kept in process memory, for tests, demos and single processes.

It stores what a database backend stores (``_records``): a header per checkpoint, one row per
changed (channel, version), deltas for growing lists, pending writes; ``_memory_rows`` says how
they are kept and which in-process shortcuts keep a graph step O(what changed): headers handed
over by the engine kept as they are, plain immutable values and metadata kept as objects, the
writes of one call stored together. A plain graph step (atoms only) is kept as one record and
made into those rows when the thread is first read (``_memory_steps``): most steps of a run are
never read back. Everything else goes through the serializer, so stored values are copies.
The newest decoded version of each list channel is kept: reading the head of a long chat thread
does not decode its history again, and each read returns a new list (elements are shared, not
copied: treat checkpointed values as immutable, as LangGraph asks nodes to).
"""

from __future__ import annotations

import builtins
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any

from threadloom._appended import note_copy
from threadloom.checkpoint._arguments import check_list_arguments, thread_key
from threadloom.checkpoint._delta import BlobRow, Decoded, DeltaTracker, RowDecoder, rebuild
from threadloom.checkpoint._lazy import ABSENT, LazyChannelValues
from threadloom.checkpoint._memory_rows import (
    ENGINE_KEYS,
    Atom,
    BlobKey,
    Checkpoints,
    HeaderRow,
    StoredThread,
    build_row,
    constant_loader,
    decoding_loader,
    diff_row,
    kept_header,
    peek_metadata,
    read_header,
    read_metadata,
    row_of,
)
from threadloom.checkpoint._memory_steps import record_step
from threadloom.checkpoint._memory_write_calls import MemoryWriteCalls
from threadloom.checkpoint._memory_writes import (
    WriteBatch,
    decode_writes,
    keyed_writes,
    writes_address,
)
from threadloom.checkpoint._metadata_filter import matches
from threadloom.checkpoint._persistent_dict import PersistentDict, threads_mapping
from threadloom.checkpoint._plain_metadata import engine_metadata, plain_metadata
from threadloom.checkpoint._put import RunAddress, plan_rows, remember
from threadloom.checkpoint._records import (
    dumps_fast,
    thread_config,
)
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    TaskWrites,
    get_checkpoint_metadata,
    next_string_version,
)
from threadloom.checkpoint.serde.base import SerializerProtocol
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer
from threadloom.errors import CheckpointConflictError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = ["InMemorySaver", "MemorySaver", "PersistentDict"]


Version = str | int | float


_NO_BLOBS: dict[BlobKey, BlobRow | Atom] = {}
_MISSING: Any = object()
_UNCHECKED: Any = object()
"""A put that names no expected head: the head is not checked."""


class InMemorySaver(MemoryWriteCalls):
    """A checkpointer that keeps everything in memory (alias ``MemorySaver``).

    Usable as a sync or async context manager. Thread-safe: one lock guards all state, and a
    ``put`` checks the expected head and writes under it, atomically.
    """

    def __init__(
        self, *, serde: SerializerProtocol | None = None, factory: Callable[..., Any] = defaultdict
    ) -> None:
        super().__init__(serde=serde)
        self._lock = threading.RLock()
        self._threads: dict[str, StoredThread] = threads_mapping(factory)
        """thread id → what is stored for it; a ``factory``'s mapping (``PersistentDict``) when
        one was given."""
        self.stack = ExitStack()
        """Closed when the saver's ``with`` block ends (a ``PersistentDict`` is written then)."""
        if hasattr(self._threads, "__exit__"):
            self.stack.enter_context(self._threads)
        self._tracker = DeltaTracker()
        """Per (thread, ns, channel): the list version last written or returned, decoded. It is
        both the base for the next delta and the read cache of the head (one version per channel,
        so memory stays linear in the conversation)."""

    def __enter__(self) -> InMemorySaver:
        self.stack.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self.stack.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> InMemorySaver:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return self.__exit__(exc_type, exc, tb)

    # -- reading ------------------------------------------------------------------------------

    def _tuple(
        self,
        thread_id: str,
        thread: StoredThread,
        ns: str,
        row: HeaderRow,
        remember: bool,
        walk: RowDecoder | None = None,
    ) -> CheckpointTuple:
        """One checkpoint. With a ``walk`` (listings) its values are decoded when first read,
        each stored row once per walk; without (reads of one checkpoint) they are decoded now."""
        serde = self.serde
        header = read_header(row, serde, thread.checkpoints[ns].rows)
        blobs = thread.blobs
        loaders: dict[str, Callable[[], Any]] = {}
        for channel, version in header["channel_versions"].items():
            blob = blobs.get((ns, channel, version), _MISSING)
            if type(blob) is not BlobRow:
                if blob is not _MISSING:
                    loaders[channel] = constant_loader(blob)  # an atom: immutable, handed out as is
                continue
            if blob.kind == "empty":
                continue
            if blob.length < 0:  # not a list: decoded afresh, so callers get their own copy
                loaders[channel] = decoding_loader(serde, blob)
                continue
            loaders[channel] = self._list_loader(
                thread_id, thread, ns, channel, version, remember, walk
            )
        if walk is None:
            values = {k: load() for k, load in loaders.items()}
            header["channel_values"] = {k: v for k, v in values.items() if v is not ABSENT}
        else:
            header["channel_values"] = LazyChannelValues(loaders)
        checkpoint: Checkpoint = header  # type: ignore[assignment]
        writes = keyed_writes(thread.writes.get((ns, row.checkpoint_id)))
        return CheckpointTuple(
            config=thread_config(thread_id, ns, row.checkpoint_id),
            checkpoint=checkpoint,
            metadata=read_metadata(row, serde),  # type: ignore[arg-type]
            parent_config=(thread_config(thread_id, ns, row.parent_id) if row.parent_id else None),
            pending_writes=decode_writes(serde, writes.values()) if writes else [],
        )

    def _list_loader(
        self,
        thread_id: str,
        thread: StoredThread,
        ns: str,
        channel: str,
        version: Version,
        remember: bool,
        walk: RowDecoder | None,
    ) -> Callable[[], Any]:
        """What reads one version of a list channel (``ABSENT`` if its chain is damaged, or
        was deleted before a listing's value was read).

        The list is rebuilt from its delta chain, short-cut by the version the saver last wrote
        or returned for the channel (the head, on the hot path). ``remember`` makes this read
        the new "last returned" version: reads of the head do, listings do not.
        """
        key = (thread_id, ns, channel)
        known = self._tracker.get(key)
        serde = self.serde
        decode = walk.decode if walk is not None else lambda r: serde.loads_typed((r.type, r.data))

        def load() -> Any:
            with self._lock:  # a listing's values are read after the lock was let go
                decoded = rebuild(
                    version,
                    lambda v: row_of(thread.blobs.get((ns, channel, v))),
                    decode,
                    lambda v: known if known is not None and known.version == v else None,
                )
                if decoded is None:
                    return ABSENT
                value = list(decoded.value)
                if remember:  # the reader's list is what a run's channel will extend
                    self._tracker.remember(key, Decoded(decoded.value, decoded.chain, value))
                    if decoded.source is not None:  # what a reducer knows of it holds for it
                        note_copy(value, decoded.source)
            return value

        return load

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        configurable = config["configurable"]
        thread_id = thread_key(configurable["thread_id"])
        ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = configurable.get("checkpoint_id")
        with self._lock:
            thread = self._threads.get(thread_id)
            if thread is None:
                return None
            stored = thread.checkpoints.get(ns)
            if stored is None:
                return None
            if checkpoint_id is None:
                checkpoint_id = stored.ids[-1]  # the newest: one lookup, however long the thread
                echo = None
            else:
                echo = config  # LangGraph's in-memory saver echoes a request that names an id
            row = stored.rows.get(checkpoint_id)
            if row is None:
                return None
            found = self._tuple(thread_id, thread, ns, row, remember=True)
        if echo is not None:
            echoed: RunnableConfig = {
                **echo,
                "configurable": {**echo["configurable"], "checkpoint_ns": ns},
            }
            found = found._replace(config=echoed)
        return found

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        check_list_arguments(config, filter, before, limit)
        configurable = (config or {}).get("configurable", {})
        wanted_id = configurable.get("checkpoint_id")
        before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
        # Without a filter, the first ``limit`` ids below ``before`` are exactly the rows
        # returned: nothing older is looked at (DECISIONS 2).
        take = None if filter else limit
        with self._lock:
            if config is None:
                thread_ids = builtins.list(self._threads)
            else:
                thread_ids = [thread_key(configurable["thread_id"])]
            addresses: builtins.list[tuple[str, str, str]] = []
            for thread_id in thread_ids:
                thread = self._threads.get(thread_id)
                if thread is None:
                    continue
                for ns, stored in thread.checkpoints.items():
                    if "checkpoint_ns" in configurable and ns != configurable["checkpoint_ns"]:
                        continue
                    if wanted_id is not None:
                        wanted = wanted_id in stored.rows and (
                            before_id is None or wanted_id < before_id
                        )
                        ids = [wanted_id] if wanted else []
                    else:
                        ids = stored.newest_first(before_id, take)
                    addresses.extend((thread_id, ns, checkpoint_id) for checkpoint_id in ids)
                    if take is not None and len(addresses) >= take:
                        break
                if take is not None and len(addresses) >= take:
                    break
        remaining = limit
        walk = RowDecoder(lambda r: self.serde.loads_typed((r.type, r.data)))
        for thread_id, ns, checkpoint_id in addresses:
            if remaining is not None and remaining <= 0:
                return
            with self._lock:  # rows may have been deleted while the caller iterated
                thread = self._threads.get(thread_id)
                found_in = thread.checkpoints.get(ns) if thread is not None else None
                row = found_in.rows.get(checkpoint_id) if found_in is not None else None
                if thread is None or row is None:
                    continue
                if filter:
                    metadata = peek_metadata(row, self.serde)
                    if not matches(metadata, filter):
                        continue
                found = self._tuple(thread_id, thread, ns, row, remember=False, walk=walk)
            if remaining is not None:
                remaining -= 1
            yield found

    # -- writing ------------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        configurable = config["configurable"]
        thread_id = configurable["thread_id"]
        if type(thread_id) is not str:
            thread_id = thread_key(thread_id)
        ns = configurable.get("checkpoint_ns", "")
        serde = self.serde
        atoms = type(serde) is JsonPlusSerializer
        # a header handed over as objects is kept as it came (_memory_rows.kept_header)
        live = kept_header(checkpoint, configurable) if atoms else None
        self._put(
            thread_id,
            ns,
            configurable.get("checkpoint_id"),
            configurable.get(CONFIG_KEY_EXPECTED_HEAD, _UNCHECKED),
            checkpoint,
            *self._kept_metadata(config, metadata),
            new_versions,
            None if live is None else (live, None),
        )
        return thread_config(thread_id, ns, checkpoint["id"])

    def _kept_metadata(
        self, config: RunnableConfig, metadata: CheckpointMetadata
    ) -> tuple[dict[str, Any] | tuple[str, bytes], str | None]:
        """The metadata to keep, merged with the config's (a private copy when plain, else
        serialized), and its ``run_id``."""
        if type(self.serde) is JsonPlusSerializer:
            plain = plain_metadata(config, metadata)
            if plain is not None:
                return plain, plain.get("run_id")
        merged = get_checkpoint_metadata(config, metadata)  # keeps `writes`, as LangGraph
        return dumps_fast(self.serde, merged, "metadata"), merged.get("run_id")

    def _put(
        self,
        thread_id: str,
        ns: str,
        parent_id: str | None,
        expected_head: str | None,
        checkpoint: Checkpoint,
        metadata: dict[str, Any] | tuple[str, bytes],
        run_id: str | None,
        new_versions: ChannelVersions,
        header: tuple[dict[str, Any] | None, dict[str, Any] | None] | None,
        batches: Sequence[WriteBatch] = (),
        serde: SerializerProtocol | None = None,
    ) -> None:
        """Store a checkpoint and the step's write ``batches`` (against its parent), all or
        nothing, under one lock acquisition. ``metadata``: as ``_kept_metadata`` gives it.

        ``header`` says how the header is kept: ``(kept, None)``: the dict ``kept`` by
        reference (``kept_header``); ``(None, seen_changes)``: as a diff from the parent's, the
        checkpoint's version dicts being a run's (``put_step_diff``, ``diff_row``); None:
        serialized now (a run's dicts are never kept). ``expected_head``: the head the caller
        saw (``_UNCHECKED``: none named, nothing checked, as in LangGraph). ``serde``: the one
        the writes were encoded with, when not the saver's (``_encode_step_writes``).
        """
        # The hot path of every graph step: everything is inline, under one lock acquisition.
        if serde is None:
            serde = self.serde
        checkpoint_id = checkpoint["id"]
        packed: tuple[str, bytes] | None = None
        if header is None:
            fields: dict[str, Any] = dict(checkpoint)
            del fields["channel_values"]
            packed = dumps_fast(serde, fields, "checkpoint")
        with self._lock:
            thread = self._threads.get(thread_id)
            stored = thread.checkpoints.get(ns) if thread is not None else None
            head = stored.ids[-1] if stored is not None else None
            if expected_head is not _UNCHECKED and expected_head != head:
                raise CheckpointConflictError(thread_id, ns, expected_head, head)
            blobs = thread.blobs if thread is not None else _NO_BLOBS
            plan = plan_rows(
                serde,
                thread_id,
                ns,
                checkpoint["channel_values"],
                new_versions,
                blobs,
                self._tracker,
                keep_atoms=type(serde) is JsonPlusSerializer,
                by_ns=True,
            )
            # Everything is encoded: from here on nothing can fail, so nothing is half-stored.
            if thread is None:
                thread = self._threads[thread_id] = StoredThread()
            blobs = thread.blobs
            for channel, version, blob in plan.rows:
                blobs[(ns, channel, version)] = blob
            if plan.lists:
                remember(self._tracker, thread_id, ns, plan)
            if stored is None:
                stored = thread.checkpoints[ns] = Checkpoints()
            if header is None or header[1] is None:
                row = build_row(
                    HeaderRow,
                    (
                        checkpoint_id,
                        parent_id,
                        None if header is None else header[0],
                        packed,
                        metadata,
                        checkpoint["ts"],
                        run_id,
                        0,
                    ),
                )
            else:
                parent = stored.rows.get(parent_id) if parent_id is not None else None
                row = diff_row(
                    checkpoint, parent_id, metadata, run_id, new_versions, header[1], parent
                )
            if head is not None and checkpoint_id <= head:
                stored.add(row, serde)  # an older id, or the same one again
            else:  # the usual case, inlined: a new checkpoint, newer than all others
                stored.rows[checkpoint_id] = row
                stored.ids.append(checkpoint_id)
            if batches:  # the step's writes, against the new checkpoint's parent
                self._add_batches(thread_id, ns, parent_id, batches)  # type: ignore[arg-type]

    def put_step(
        self,
        config: RunnableConfig,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """The step's task writes and its checkpoint, stored together or not at all: every
        write is encoded first, then ``put`` (which stores nothing when it fails) and the
        writes run under one lock acquisition."""
        if not writes:
            return self.put(config, checkpoint, metadata, new_versions)
        thread_id, ns, checkpoint_id = writes_address(config)
        _, batches = self._encode_step_writes(writes)
        with self._lock:  # through put, which a subclass may override
            saved = self.put(config, checkpoint, metadata, new_versions)
            self._add_batches(thread_id, ns, checkpoint_id, batches)
        return saved

    def put_step_diff(
        self,
        address: RunAddress,
        parent_id: str | None,
        expected_head: str | None,
        writes: Sequence[TaskWrites],
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
        seen_changes: dict[str, Any],
        previous: object = None,
    ) -> None:
        """A run's step, handed over by the engine (``_saver_calls.takes_diffs``): ``put_step``
        of the checkpoint whose parent is ``parent_id``, failing if the head is not
        ``expected_head``, with the config ``address`` would make, without making it. The
        arguments are the engine's ``PutStep`` fields, in order (the driver passes the effect
        whole): ``previous``, the save of the parent, held with this one, was made first.

        The checkpoint's header comes as its changes from its parent: ``new_versions`` and
        ``seen_changes`` (the ``versions_seen`` entries replaced since the parent) are the whole
        difference, and ``checkpoint``'s version dicts are the run's own, read during the call
        and never kept. The header is kept as that diff (``_memory_rows.diff_row``). What the
        run's config gives every save (thread, namespace, the metadata it adds) is worked out
        on the run's first save and kept in ``address.memo``."""
        memo = address.memo
        if memo is None or memo[0] is not self:
            memo = address.memo = self._run_memo(address.config)
        _, thread_id, ns, extras = memo
        if extras is not None and checkpoint.keys() == ENGINE_KEYS:
            # the plain case: kept as one record, made into rows when first read
            with self._lock:
                thread = self._threads.get(thread_id)
                if thread is None:
                    thread = self._threads[thread_id] = StoredThread()
                if record_step(
                    thread,
                    memo,
                    address,
                    parent_id,
                    expected_head,
                    writes,
                    checkpoint,
                    metadata,
                    new_versions,
                    seen_changes,
                ):
                    return
        serde = self.serde
        if writes and parent_id is None:  # refused as put_writes refuses it
            writes_address(address.config_at(parent_id, expected_head))
        serde, batches = self._encode_step_writes(writes) if writes else (serde, [])
        plain = engine_metadata(metadata, extras) if extras is not None else None
        kept: dict[str, Any] | tuple[str, bytes]
        if plain is not None:
            kept, run_id = plain, plain.get("run_id")
        else:
            config = address.config_at(parent_id, expected_head)
            kept, run_id = self._kept_metadata(config, metadata)
        diff = type(serde) is JsonPlusSerializer and checkpoint.keys() == ENGINE_KEYS
        header = (None, seen_changes) if diff else None
        self._put(
            thread_id,
            ns,
            parent_id,
            expected_head,
            checkpoint,
            kept,
            run_id,
            new_versions,
            header,
            batches,
            serde,
        )

    def _run_memo(self, config: Mapping[str, Any]) -> tuple[Any, str, str, dict[str, Any] | None]:
        """``(self, thread key, namespace, the plain metadata the config adds)`` of a run's
        config; the metadata is None when not plain, or with another serializer than the
        default (each save then merges it the general way)."""
        configurable = config["configurable"]
        thread_id = thread_key(configurable["thread_id"])
        extras = None
        if type(self.serde) is JsonPlusSerializer:
            extras = plain_metadata(config, {})
        return self, thread_id, configurable.get("checkpoint_ns", ""), extras

    async def aput_step_diff(self, *args: Any) -> None:
        """Async ``put_step_diff`` (the same arguments)."""
        self.put_step_diff(*args)

    get_next_version = staticmethod(next_string_version)
    """``f"{n+1:032}.{random}"``: zero-padded so string order is numeric order. The function
    itself, not a method calling it: the engine calls this once per step."""


MemorySaver = InMemorySaver
"""LangGraph's older name for ``InMemorySaver``."""
