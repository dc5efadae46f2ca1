"""What a saver stores, as rows: shared by the in-memory saver and the SQL backends.

A checkpoint is stored as a narrow *header* (the checkpoint without its channel values, plus
metadata), one ``BlobRow`` per (channel, version) that changed, and one ``WriteRow`` per pending
write. This module turns the saver API's arguments into those rows and rows back into a
``CheckpointTuple``; where the rows live (dicts, tables) is the backend's business.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from threadloom.checkpoint._delta import (
    RADIX,
    BlobRow,
    ChainLink,
    Decoded,
    links_between,
    plan_list_write,
)
from threadloom.checkpoint._metadata import is_root_step_metadata
from threadloom.checkpoint._metadata_filter import filter_json, root_step_json
from threadloom.checkpoint.base import (
    CONFIG_KEY_EXPECTED_HEAD,
    WRITES_IDX_MAP,
    Checkpoint,
    PendingWrite,
)
from threadloom.checkpoint.serde.base import SerializerProtocol, dumps_at, dumps_channel
from threadloom.errors import CheckpointConflictError, SerializationError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

__all__ = [
    "EMPTY_ROW",
    "CheckpointRow",
    "WriteRow",
    "check_expected_head",
    "dumps_fast",
    "encode_list",
    "encode_metadata",
    "encode_value",
    "encode_writes",
    "expects_head",
    "load_metadata",
    "pack_data",
    "pending_writes",
    "split_checkpoint",
    "thread_config",
    "unpack_data",
]

EMPTY_ROW = BlobRow("empty", "empty", b"")
"""Marker stored for a channel that is versioned but has no value at that version."""

Version = str | int | float

PACK_MIN_BYTES = 512
"""Smaller data is stored as it is: little to gain, and it fits in its row."""
PACK_MAX_BYTES = 256 * 1024
"""Larger data is stored as it is: compressing it on every step would cost more than it saves."""
PACKED_PREFIX = "zlib:"
"""Type prefix of data stored compressed (``pack_data``); no serializer tag starts with it."""


def pack_data(tag: str, data: bytes) -> tuple[str, bytes]:
    """``(tag, data)`` as a SQL saver stores it: compressed when that saves a tenth or more.

    Only the stored row changes; ``unpack_data`` gives back the very bytes, so every reader
    sees what the serializer wrote. Values of a delta chain compress well (the wider deltas
    repeat the same kinds of objects), and a row that stays under ~1 KB fits in its B-tree page
    instead of spilling into an overflow page that is mostly empty.
    """
    if PACK_MIN_BYTES <= len(data) <= PACK_MAX_BYTES:
        packed = zlib.compress(data, 1)
        if len(packed) * 10 <= len(data) * 9:
            return PACKED_PREFIX + tag, packed
    return tag, data


def unpack_data(tag: str, data: bytes) -> tuple[str, bytes]:
    """The ``(tag, data)`` that ``pack_data`` was given."""
    if tag.startswith(PACKED_PREFIX):
        return tag[len(PACKED_PREFIX) :], zlib.decompress(data)
    return tag, data


class CheckpointRow(NamedTuple):
    """A checkpoint header: everything but the channel values."""

    checkpoint_id: str
    parent_id: str | None
    checkpoint: tuple[str, bytes]
    """Serialized checkpoint without ``channel_values`` (versions, versions_seen, ts ...)."""
    metadata: tuple[str, bytes]
    """Serialized metadata, as merged by ``get_checkpoint_metadata``."""
    ts: str
    """Creation time (the checkpoint's ``ts``), kept apart for pruning by date."""
    run_id: str | None
    """``metadata["run_id"]``, kept apart for ``delete_for_runs``."""


class WriteRow(NamedTuple):
    """One pending write of a task, keyed by (checkpoint, task_id, idx)."""

    task_id: str
    channel: str
    idx: int
    type: str
    data: bytes
    task_path: str


def thread_config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    """The config that addresses one checkpoint."""
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def split_checkpoint(checkpoint: Checkpoint) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(header, channel_values)``: the header is stored whole, values per channel."""
    header: dict[str, Any] = dict(checkpoint)
    values: dict[str, Any] = header.pop("channel_values")
    return header, values


def check_expected_head(
    configurable: Mapping[str, Any], thread_id: str, checkpoint_ns: str, head: str | None
) -> None:
    """Raise CheckpointConflictError when the run saw another head (DECISIONS 4).

    Without ``CONFIG_KEY_EXPECTED_HEAD`` in the config nothing is checked, as in LangGraph.
    """
    if not expects_head(configurable, head):
        seen = configurable[CONFIG_KEY_EXPECTED_HEAD]
        raise CheckpointConflictError(thread_id, checkpoint_ns, seen, head)


def expects_head(configurable: Mapping[str, Any], head: str | None) -> bool:
    """Does a put with ``configurable`` accept ``head`` as the thread's newest checkpoint? (No
    ``CONFIG_KEY_EXPECTED_HEAD``: any head, as in LangGraph.)"""
    return (
        CONFIG_KEY_EXPECTED_HEAD not in configurable
        or configurable[CONFIG_KEY_EXPECTED_HEAD] == head
    )


def _older(a: Version, b: Version) -> bool:
    """Is version ``a`` older than ``b``? Versions of different kinds are not compared."""
    if type(a) is not type(b) and not (isinstance(a, int | float) and isinstance(b, int | float)):
        return False
    return a < b  # type: ignore[operator]


def dumps_fast(serde: SerializerProtocol, value: Any, root: str) -> tuple[str, bytes]:
    """``serde.dumps_typed(value)`` on the hot path; only a failure pays for the path.

    The path-reporting encode (``dumps_at``) is run again only when the plain one fails, so its
    error names ``root`` and the part inside the value that does not encode.
    """
    try:
        return serde.dumps_typed(value)
    except Exception:
        return dumps_at(serde, root, value)  # raises with the path (or succeeds after all)


def encode_value(serde: SerializerProtocol, channel: str, value: Any) -> BlobRow:
    """The row of a channel value that is not a list (lists go through ``encode_list``)."""
    try:
        tag, data = serde.dumps_typed(value)
    except Exception:
        tag, data = dumps_channel(serde, channel, value)
    return BlobRow("value", tag, data)


def encode_list(
    serde: SerializerProtocol,
    channel: str,
    value: list[Any],
    version: Version,
    base: Decoded | None,
    proven: bool = False,
    radix: int = RADIX,
) -> tuple[BlobRow, Decoded]:
    """The row of a list channel value, and the decoded version to remember.

    ``base`` is the list version the saver last wrote or returned for the channel (None if
    unknown or no longer stored): a list extending it is stored as a delta. ``proven``: the
    value is known to extend ``base`` (``_delta.proven_extension``).
    """
    if base is not None and not _older(base.version, version):
        base = None  # a delta must extend an older version: chains can never loop
    plan = plan_list_write(base, value, version, proven=proven, radix=radix)
    if plan.base is None:
        tag, data = dumps_channel(serde, channel, value)
        return BlobRow("value", tag, data, None, 0, len(value)), plan.decoded
    assert base is not None
    tag, data = _encode_tail(serde, channel, value, base, plan.base)
    if tag == "msgpack":  # remembered with the link, so a later wider delta can join them
        plan.decoded.chain[-1].data = data  # the link plan_list_write just made, ours alone
    return BlobRow("delta", tag, data, plan.base.version, plan.index, len(value)), plan.decoded


def _encode_tail(
    serde: SerializerProtocol, channel: str, value: list[Any], known: Decoded, base: ChainLink
) -> tuple[str, bytes]:
    """Bytes of ``value[base.length:]``.

    The part already stored by the deltas between ``base`` and ``known`` is joined from their
    bytes when the serializer can (plain msgpack arrays); only the new elements are encoded.
    A wide delta (one that extends a much older base) then costs a copy, not a re-encode.
    """
    try:
        join = getattr(serde, "join_msgpack_arrays", None)
        links = links_between(known.chain, base)
        if not links:  # it extends ``known`` itself: only the new elements, nothing to join
            return dumps_channel(serde, channel, value[base.length :])
        if join is not None and all(link.data is not None for link in links):
            tag, new_part = dumps_channel(serde, channel, value[known.chain[-1].length :])
            if tag == "msgpack":
                joined = join([*(link.data for link in links), new_part])
                if joined is not None:
                    return "msgpack", joined
        return dumps_channel(serde, channel, value[base.length :])
    except SerializationError:
        dumps_channel(serde, channel, value)  # raises with the index in the full list
        raise


def encode_writes(
    serde: SerializerProtocol,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str,
) -> tuple[list[WriteRow], bool]:
    """Rows for one ``put_writes`` call, and whether they replace existing rows.

    A write is keyed by (checkpoint, task_id, idx); special channels have fixed negative
    indexes. Regular writes are first-write-wins; a call made only of special channels
    replaces (CONTRACT 1.6). Every backend applies the same rule.
    """
    rows = []
    upsert = True
    dumps = serde.dumps_typed
    special = WRITES_IDX_MAP
    for position, (channel, value) in enumerate(writes):
        try:
            tag, data = dumps(value)
        except Exception:
            tag, data = dumps_at(serde, f"writes[{channel!r}]", value)
        idx = special.get(channel)
        if idx is None:
            idx, upsert = position, False
        rows.append(WriteRow(task_id, channel, idx, tag, data, task_path))
    if upsert and len(rows) > 1:  # a channel given twice: the last value wins, as one by one;
        rows = list({r.idx: r for r in rows}.values())  # one upsert cannot touch a row twice
    return rows, upsert


def pending_writes(serde: SerializerProtocol, rows: Iterable[WriteRow]) -> list[PendingWrite]:
    """Decoded writes in ``writes_sort_key`` order: (task_path, task_id, idx)."""
    ordered = sorted(rows, key=lambda r: (r.task_path, r.task_id, r.idx))
    return [(r.task_id, r.channel, serde.loads_typed((r.type, r.data))) for r in ordered]


METADATA_IN_JSON = "json-column"
"""Metadata type of a row whose metadata is only in its JSON column (``encode_metadata``)."""


def _is_plain_json(value: Any) -> bool:
    """Does ``json.loads(json.dumps(value))`` give back ``value``, types included?"""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        # loops, not all(...) over a generator: metadata is checked on every put; its values
        # are mostly strings and ints, tested inline
        for k, v in value.items():
            if type(k) is not str:
                return False
            kind = type(v)
            if kind is str or kind is int or kind is bool or v is None:
                continue
            if kind is dict and not v:
                continue  # an empty dict, like a root graph's parents
            if not _is_plain_json(v):
                return False
        return True
    if kind is list:
        for v in value:  # noqa: SIM110
            if not _is_plain_json(v):
                return False
        return True
    return False


def encode_metadata(
    serde: SerializerProtocol,
    metadata: Mapping[str, Any],
    json_only: bool,
    root_step: bool | None = None,
) -> tuple[str, bytes, str]:
    """``(type, blob, json)``: the metadata's serialized blob and its JSON text for filters.

    With ``json_only`` (a backend whose JSON column gives back the text it was given), metadata
    made only of JSON values is stored once: the JSON text, with an empty blob of type
    ``METADATA_IN_JSON``. Anything else keeps the serializer's blob, which stays the truth.
    ``root_step``: ``is_root_step_metadata(metadata)`` when the caller knows it already.
    """
    if root_step is None:
        root_step = is_root_step_metadata(metadata)
    if root_step:  # the engine's own step metadata: plain JSON
        text = root_step_json(metadata)
        if json_only:
            return METADATA_IN_JSON, b"", text
    else:
        text = filter_json(metadata)
        if json_only and _is_plain_json(metadata):
            return METADATA_IN_JSON, b"", text
    tag, data = dumps_fast(serde, metadata, "metadata")
    return tag, data, text


def load_metadata(serde: SerializerProtocol, tag: str, data: bytes | str) -> Any:
    """The metadata ``encode_metadata`` stored (``data`` is JSON text for ``METADATA_IN_JSON``)."""
    if tag == METADATA_IN_JSON:
        return json.loads(data)
    return serde.loads_typed((tag, data))  # type: ignore[arg-type]
