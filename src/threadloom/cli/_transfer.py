"""Threads as JSON lines: ``threads export`` writes them, ``threads import`` reads them back.

Line 1 is a header (format, version, thread id, checkpoint count); each next line is one
checkpoint, oldest first, with its parent id, metadata and pending writes. Values go through the
saver's own serializer (type tag plus base64 bytes), so an import gives back exactly the thread
that was exported, with the same checkpoint ids; only the saver's public API is used (``list``
to read; ``put`` and ``put_writes`` to write, which keep ids).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from threadloom.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

__all__ = ["FORMAT", "export_records", "import_records"]

FORMAT: Final = "threadloom-thread"
VERSION: Final = 1


def _pack(saver: BaseCheckpointSaver[Any], value: Any) -> list[str]:
    kind, data = saver.serde.dumps_typed(value)
    return [kind, base64.b64encode(data).decode("ascii")]


def _unpack(saver: BaseCheckpointSaver[Any], packed: list[str]) -> Any:
    kind, data = packed
    return saver.serde.loads_typed((kind, base64.b64decode(data)))


def _plain(checkpoint: Any) -> dict[str, Any]:
    """The checkpoint as plain data: a saver may hand out channel values decoded lazily."""
    return {**checkpoint, "channel_values": dict(checkpoint.get("channel_values", {}))}


def thread_tuples(saver: BaseCheckpointSaver[Any], thread_id: str) -> list[CheckpointTuple]:
    """Every checkpoint of the thread, oldest first."""
    return list(reversed(list(saver.list({"configurable": {"thread_id": thread_id}}))))


def export_records(
    saver: BaseCheckpointSaver[Any], thread_id: str, tuples: list[CheckpointTuple]
) -> Iterator[dict[str, Any]]:
    """The header, then one record per checkpoint of ``tuples`` (oldest first)."""
    yield {"format": FORMAT, "version": VERSION, "thread_id": thread_id, "checkpoints": len(tuples)}
    for saved in tuples:
        conf = saved.config["configurable"]
        parent = (
            saved.parent_config["configurable"]["checkpoint_id"] if saved.parent_config else None
        )
        yield {
            "checkpoint_ns": conf.get("checkpoint_ns", ""),
            "checkpoint_id": conf["checkpoint_id"],
            "parent_checkpoint_id": parent,
            "checkpoint": _pack(saver, _plain(saved.checkpoint)),
            "metadata": _pack(saver, dict(saved.metadata)),
            "writes": [
                [task_id, channel, _pack(saver, value)]
                for task_id, channel, value in saved.pending_writes or []
            ],
        }


def read_header(line: str) -> dict[str, Any]:
    """The header line of an export, checked."""
    from threadloom.errors import CliError

    try:
        header = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CliError(f"not a threadloom thread export: first line is not JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CliError(
            f"not a threadloom thread export: the first line must say format {FORMAT!r}. "
            "Export a thread with `threadloom threads export THREAD`."
        )
    if header.get("version") != VERSION:
        raise CliError(f"export version {header.get('version')!r} is not {VERSION}: upgrade")
    return header


def import_records(
    saver: BaseCheckpointSaver[Any], thread_id: str, records: Iterable[dict[str, Any]]
) -> int:
    """Store the checkpoint records under ``thread_id``, keeping ids; the count stored."""
    count = 0
    for record in records:
        ns = record["checkpoint_ns"]
        checkpoint = _unpack(saver, record["checkpoint"])
        parent = {"thread_id": thread_id, "checkpoint_ns": ns}
        if record["parent_checkpoint_id"]:
            parent["checkpoint_id"] = record["parent_checkpoint_id"]
        versions = dict(checkpoint.get("channel_versions", {}))
        saver.put(
            {"configurable": parent}, checkpoint, _unpack(saver, record["metadata"]), versions
        )
        by_task: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for task_id, channel, packed in record["writes"]:
            by_task[task_id].append((channel, _unpack(saver, packed)))
        here = {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint["id"]}
        for task_id, writes in by_task.items():
            saver.put_writes({"configurable": here}, writes, task_id)
        count += 1
    return count
