"""Deterministic ids: task ids, interrupt ids and task path strings (CONTRACT 1.6, 2.6).

A resumed run must re-derive exactly the ids of the interrupted run, so every id here is a pure
function of where the task sits: checkpoint, namespace, step, node and trigger or packet index.
"""

from __future__ import annotations

from typing import Any

from xxhash import xxh3_128_hexdigest

__all__ = ["interrupt_id", "task_id", "task_path_str"]


def task_id(checkpoint_id: str, *parts: str) -> str:
    """The uuid-formatted xxh3-128 of a checkpoint id and the parts that place a task in it."""
    digest = xxh3_128_hexdigest("\x00".join((checkpoint_id, *parts)).encode())
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def interrupt_id(task_ns: str, answered: int = 0) -> str:
    """Id of a task's next interrupt: the task namespace, plus the count already answered."""
    text = task_ns if answered == 0 else f"{task_ns}|{answered}"
    return str(xxh3_128_hexdigest(text.encode()))


def task_path_str(path: tuple[Any, ...] | str | int) -> str:
    """The sortable form of a task path: ints padded to 10 digits, tuples as ``~a, b``."""
    if isinstance(path, str):
        return path
    if isinstance(path, bool):
        return str(path)
    if isinstance(path, int):
        return f"{path:010d}"
    return "~" + ", ".join(task_path_str(p) for p in path)
