"""Deterministic ids: task ids, interrupt ids and task path strings (CONTRACT 1.6, 2.6).

A resumed run must re-derive exactly the ids of the interrupted run, so every id here is a pure
function of where the task sits: checkpoint, namespace, step, node and trigger or packet index.
``interrupt_id`` is ``threadloom.types``' (an ``Interrupt`` makes its own id), named here too.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Final

from xxhash import xxh3_128_hexdigest

from threadloom.types import interrupt_id

__all__ = ["id_head", "interrupt_id", "task_id", "task_id_at", "task_id_of", "task_path_str"]


def task_id(checkpoint_id: str, *parts: str) -> str:
    """The uuid-formatted xxh3-128 of a checkpoint id's 16 bytes followed by the parts that
    place a task in it (CONTRACT 1.6): LangGraph's ids, so a thread moved over from LangGraph
    (``threadloom migrate``) finds its pending writes and subgraph checkpoints on resume."""
    return task_id_at(id_head(checkpoint_id), *parts)


def id_head(checkpoint_id: str) -> bytes:
    """What a task id hashes first for ``checkpoint_id``: worked out once for a step's tasks."""
    try:
        return bytes.fromhex(checkpoint_id.replace("-", ""))
    except ValueError:  # not a uuid (a caller's own checkpoint id): hash its text
        return checkpoint_id.encode()


def task_id_at(head: bytes, *parts: str) -> str:
    """``task_id`` from the checkpoint's ``id_head``."""
    return task_id_of(head, "".join(parts))


def task_id_of(prefix: bytes, rest: str) -> str:
    """``task_id`` from the bytes its hash input starts with and the text that ends it: tasks
    that differ only in their last part (a step's ``Send`` packets, a task's ``@task`` calls)
    share a prefix worked out once."""
    return "-".join(_UUID_PARTS(xxh3_128_hexdigest(prefix + rest.encode())))


_UUID_PARTS: Final = itemgetter(slice(8), slice(8, 12), slice(12, 16), slice(16, 20), slice(20, 32))
"""The five groups of a uuid's 32 hex digits, cut in one C call (a task id a task)."""


def task_path_str(path: tuple[Any, ...] | str | int) -> str:
    """The sortable form of a task path: ints padded to 10 digits, tuples as ``~a, b``."""
    if isinstance(path, str):
        return path
    if isinstance(path, bool):
        return str(path)
    if isinstance(path, int):
        return f"{path:010d}"
    return "~" + ", ".join(task_path_str(p) for p in path)
