"""Reading checkpoints from a SQL backend a page at a time, in a fixed number of queries.

A page (the head for ``get_tuple``, a run of a listing) costs three queries, plus one per level
of delta chain not yet read, whatever its size: the headers, then every value row they name,
then the missing bases of delta chains level by level, then the pending writes. For the async
SQLite saver each query is a trip to aiosqlite's thread, for PostgreSQL a round trip to the
server, so this is what keeps a history walk from paying a dozen trips per checkpoint.

A ``Walk`` lives as long as one read (a lookup, or a whole listing): value rows are immutable
once written, so a row read for one page serves the next, and each row's bytes are decoded once
per walk: the checkpoints of a history share the elements of their delta chains (as
``InMemorySaver``'s reads do; treat checkpointed values as immutable).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from threadloom._appended import note_copy
from threadloom.checkpoint._delta import BlobRow, Decoded, DeltaTracker, rebuild
from threadloom.checkpoint._header import channel_versions_of, unpack_header
from threadloom.checkpoint._lazy import ABSENT, LazyChannelValues
from threadloom.checkpoint._records import (
    WriteRow,
    load_metadata,
    pending_writes,
    thread_config,
    unpack_data,
)
from threadloom.checkpoint._sql_effects import Fetch, Steps
from threadloom.checkpoint.base import Checkpoint, CheckpointTuple
from threadloom.checkpoint.serde.base import SerializerProtocol

__all__ = ["RawPage", "Statements", "Walk", "decode_page", "fetch_page", "read_page"]

Version = str | int | float
BlobKey = tuple[str, str, str, Version]
"""(thread, ns, channel, version)."""


class Statements(Protocol):
    """What ``_sql_core.SqlCore`` and ``read_page`` need of a backend's statements module.

    Rows go in and out as tuples; a version is bound as ``version_text`` and read back with
    ``version_of``; many keys are bound as ONE parameter, a JSON array (``HEADERS_AT``,
    ``BLOB_ROWS``, ``WRITES_AT``, ``STORED_VERSIONS``, ``CHECKPOINTS_OF_RUNS``).
    """

    @property
    def PARAM(self) -> str: ...
    @property
    def BEGIN_WRITE(self) -> str: ...
    @property
    def BEGIN_READ(self) -> str: ...
    @property
    def COMMIT(self) -> str: ...
    @property
    def LOCK_HEAD(self) -> str | None: ...
    @property
    def HEAD_ADDRESS(self) -> str: ...
    @property
    def LIST_ADDRESSES(self) -> str: ...
    @property
    def LIST_BY_THREAD(self) -> str: ...
    @property
    def LIST_BY_NS(self) -> str: ...
    @property
    def LIST_BY_ID(self) -> str: ...
    @property
    def LIST_BEFORE(self) -> str: ...
    @property
    def LIST_ORDER(self) -> str: ...
    @property
    def HEAD_ID(self) -> str: ...
    @property
    def STORED_VERSIONS(self) -> str: ...
    @property
    def INSERT_BLOB(self) -> str: ...
    @property
    def UPSERT_CHECKPOINT(self) -> str: ...
    @property
    def REPLACE_WRITES(self) -> str: ...
    @property
    def KEEP_WRITES(self) -> str: ...
    @property
    def DELETE_THREAD(self) -> tuple[str, ...]: ...
    @property
    def DELETE_VALUES_AND_WRITES(self) -> tuple[str, ...]: ...
    @property
    def COPY_THREAD(self) -> tuple[str, ...]: ...
    @property
    def DROP_CHECKPOINT(self) -> tuple[str, ...]: ...
    @property
    def HEADERS_OF_THREAD(self) -> str: ...
    @property
    def BLOB_BASES_OF_THREAD(self) -> str: ...
    @property
    def DELETE_BLOB(self) -> str: ...
    @property
    def CHECKPOINTS_OF_RUNS(self) -> str: ...
    @property
    def PRUNE_INFO(self) -> str: ...
    @property
    def ANY_CHECKPOINT(self) -> str: ...
    @property
    def SIZE_OF_CHECKPOINTS(self) -> str: ...
    @property
    def SIZE_OF_BLOBS(self) -> str: ...
    @property
    def SIZE_OF_WRITES(self) -> str: ...
    @property
    def HEADERS_AT(self) -> str: ...
    @property
    def BLOB_ROWS(self) -> str: ...
    @property
    def WRITES_AT(self) -> str: ...

    def version_text(self, version: Version) -> str: ...
    def version_of(self, text: str) -> Version: ...
    def filter_conditions(self, filter: Mapping[str, Any]) -> tuple[list[str], list[Any], bool]: ...


class Walk:
    """Value rows read and row bytes decoded during one read."""

    __slots__ = ("rows", "tails")

    def __init__(self) -> None:
        self.rows: dict[BlobKey, BlobRow | None] = {}
        self.tails: dict[int, Any] = {}
        """``id(row)`` → its decoded bytes (rows stay alive in ``rows``)."""

    def decode(self, serde: SerializerProtocol, row: BlobRow) -> Any:
        found = self.tails.get(id(row), self)
        if found is self:
            found = self.tails[id(row)] = serde.loads_typed((row.type, row.data))
        return found

    def fetch(self, sql: Statements, keys: set[BlobKey]) -> Steps[None]:
        """Read the rows of ``keys`` not read yet, in one query (missing ones as None)."""
        keys = {k for k in keys if k not in self.rows}
        if not keys:
            return
        bound = json.dumps([[t, ns, ch, sql.version_text(v)] for t, ns, ch, v in keys])
        for thread_id, ns, channel, vtext, kind, tag, data, base, index, length in (
            yield Fetch(sql.BLOB_ROWS, (bound,))
        ):
            base_version = None if base is None else sql.version_of(base)
            row = BlobRow(kind, *unpack_data(tag, data), base_version, index, length)
            # a row read before stays: ``tails`` holds its decoding by ``id`` (a backend may
            # send rows not asked for, e.g. PostgreSQL a whole delta chain)
            self.rows.setdefault((thread_id, ns, channel, sql.version_of(vtext)), row)
        for key in keys:
            self.rows.setdefault(key, None)


def _missing_bases(walk: Walk, wanted: set[BlobKey], tracker: DeltaTracker) -> set[BlobKey]:
    """Bases of the delta chains under ``wanted`` not read yet (the walk stops at rows read,
    full values and the tracker's known version). Once they are read, the walk goes on from
    them: chains already complete are not walked again."""
    missing: set[BlobKey] = set()
    for key in wanted:
        thread_id, ns, channel, _version = key
        known = tracker.get((thread_id, ns, channel))
        while True:
            if known is not None and known.version == key[3]:
                break  # the tracker holds this version decoded: ``rebuild`` stops here too
            row = walk.rows.get(key)
            if row is None or row.kind != "delta" or row.base_version is None:
                break
            if known is not None and known.version == row.base_version:
                break
            key = (thread_id, ns, channel, row.base_version)
            if key not in walk.rows:
                missing.add(key)
                break
    return missing


@dataclass(slots=True, frozen=True)
class RawPage:
    """A page's rows as read, before decoding: a head kept by ``HeadCache`` is one of these."""

    headers: dict[tuple[str, str, str], tuple[Any, ...]]
    """(thread, ns, id) → its ``HEADERS_AT`` row."""
    writes: dict[tuple[str, str, str], list[WriteRow]]
    """(thread, ns, id) → its pending writes (stored bytes)."""
    loaded: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    """(thread, ns, id) → its header as the serializer gave it back, when already decoded
    (taken by ``decode_page``: each header object is handed out once)."""


def fetch_page(
    sql: Statements,
    serde: SerializerProtocol,
    tracker: DeltaTracker,
    walk: Walk,
    addresses: Sequence[tuple[str, str, str]],
) -> Steps[RawPage]:
    """The rows of the checkpoints at ``addresses``, read inside the caller's snapshot: headers
    and pending writes, and into ``walk`` every value row their values need."""
    if not addresses:
        return RawPage({}, {})
    raw = RawPage({}, {})
    bound = json.dumps([list(a) for a in addresses])
    wanted: set[BlobKey] = set()
    for row in (yield Fetch(sql.HEADERS_AT, (bound,))):
        ns, checkpoint_id, _parent, tag, data, _mtag, _mdata, thread_id = row
        address = (thread_id, ns, checkpoint_id)
        raw.headers[address] = tuple(row)
        stored = raw.loaded[address] = serde.loads_typed((tag, data))
        wanted.update((thread_id, ns, ch, v) for ch, v in channel_versions_of(stored).items())
    yield from walk.fetch(sql, wanted)
    pending = wanted
    while pending := _missing_bases(walk, pending, tracker):  # one level of chains per query
        yield from walk.fetch(sql, pending)
    for thread_id, ns, checkpoint_id, task_id, channel, idx, tag, data, task_path in (
        yield Fetch(sql.WRITES_AT, (bound,))
    ):
        tag, data = unpack_data(tag, data)
        row = WriteRow(task_id, channel, idx, tag, data, task_path)
        raw.writes.setdefault((thread_id, ns, checkpoint_id), []).append(row)
    return raw


def read_page(
    sql: Statements,
    serde: SerializerProtocol,
    tracker: DeltaTracker,
    walk: Walk,
    addresses: Sequence[tuple[str, str, str]],
    remember_lists: bool,
) -> Steps[list[CheckpointTuple | None]]:
    """The checkpoints at ``addresses`` (None where one is gone), read inside the caller's
    snapshot. ``remember_lists`` makes the lists read the tracker's bases (reads of a head)."""
    raw = yield from fetch_page(sql, serde, tracker, walk, addresses)
    return decode_page(serde, tracker, walk, addresses, raw, remember_lists)


def decode_page(
    serde: SerializerProtocol,
    tracker: DeltaTracker,
    walk: Walk,
    addresses: Sequence[tuple[str, str, str]],
    raw: RawPage,
    remember_lists: bool,
) -> list[CheckpointTuple | None]:
    """The checkpoints of a page from its rows (``walk`` holds their value rows)."""
    page: list[CheckpointTuple | None] = []
    for address in addresses:
        row = raw.headers.get(address)
        if row is None:
            page.append(None)
            continue
        thread_id, ns, checkpoint_id = address
        stored = raw.loaded.pop(address, None)
        if stored is None:
            stored = serde.loads_typed((row[3], row[4]))
        header = unpack_header(stored, checkpoint_id)
        header["channel_values"] = _values(serde, tracker, walk, address, header, remember_lists)
        checkpoint: Checkpoint = header  # type: ignore[assignment]
        parent_id = row[2]
        page.append(
            CheckpointTuple(
                config=thread_config(thread_id, ns, checkpoint_id),
                checkpoint=checkpoint,
                metadata=load_metadata(serde, row[5], row[6]),
                parent_config=thread_config(thread_id, ns, parent_id) if parent_id else None,
                pending_writes=pending_writes(serde, raw.writes.get(address, ())),
            )
        )
    return page


def _values(
    serde: SerializerProtocol,
    tracker: DeltaTracker,
    walk: Walk,
    address: tuple[str, str, str],
    header: dict[str, Any],
    remember_lists: bool,
) -> dict[str, Any]:
    """The checkpoint's values: decoded now for reads of a head (``remember_lists``), when
    first read for listings (every row they need is in ``walk`` already)."""
    thread_id, ns, _checkpoint_id = address
    loaders: dict[str, Callable[[], Any]] = {}
    for channel, version in header["channel_versions"].items():
        row = walk.rows.get((thread_id, ns, channel, version))
        if row is None or row.kind == "empty":
            continue
        if row.length < 0:  # not a list: decoded afresh, so callers get their own copy
            loaders[channel] = partial(serde.loads_typed, (row.type, row.data))
            continue
        loader = _list_loader(serde, tracker, walk, (thread_id, ns, channel), version)
        if remember_lists:
            decoded = loader()
            if decoded is ABSENT:
                continue
            value = list(decoded.value)
            # The reader's list is what a run's channel will extend: the base of the next delta.
            tracker.remember((thread_id, ns, channel), Decoded(decoded.value, decoded.chain, value))
            if decoded.source is not None:
                note_copy(value, decoded.source)  # what a reducer knows of it holds for the copy
            loaders[channel] = partial(_given, value)
        else:
            loaders[channel] = partial(_copied, loader)
    if remember_lists:
        return {channel: load() for channel, load in loaders.items()}
    return LazyChannelValues(loaders)


def _given(value: Any) -> Any:
    return value


def _copied(loader: Callable[[], Any]) -> Any:
    decoded = loader()
    return ABSENT if decoded is ABSENT else list(decoded.value)


def _list_loader(
    serde: SerializerProtocol,
    tracker: DeltaTracker,
    walk: Walk,
    key: tuple[str, str, str],
    version: Version,
) -> Callable[[], Any]:
    """Rebuilds a list channel's value at ``version`` from the rows the walk read (all of its
    chain, ``read_page`` made sure); returns ``ABSENT`` when a row of the chain is missing,
    which only damaged storage gives."""
    thread_id, ns, channel = key
    known = tracker.get(key)

    def load() -> Any:
        decoded = rebuild(
            version,
            lambda v: walk.rows.get((thread_id, ns, channel, v)),
            lambda r: walk.decode(serde, r),
            lambda v: known if known is not None and known.version == v else None,
        )
        return ABSENT if decoded is None else decoded

    return load
