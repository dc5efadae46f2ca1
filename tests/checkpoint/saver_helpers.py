"""Helpers the saver tests import: checkpoints, configs and the ``make_saver`` fixture's type.

They live here, not in ``conftest.py``: every test folder has a ``conftest`` module, and
``from conftest import ...`` picks whichever was imported first when several folders run together.
"""

from __future__ import annotations

from typing import Any, Protocol

from threadloom.checkpoint.base import Checkpoint, empty_checkpoint


def make_checkpoint(
    values: dict[str, Any] | None = None, versions: dict[str, Any] | None = None, **extra: Any
) -> Checkpoint:
    """A fresh checkpoint (new id) holding ``values`` at ``versions`` (default: 1 each)."""
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = dict(values or {})
    checkpoint["channel_versions"] = dict(
        versions if versions is not None else {k: 1 for k in checkpoint["channel_values"]}
    )
    checkpoint.update(extra)  # type: ignore[typeddict-item]
    return checkpoint


def config(thread_id: str, ns: str = "", checkpoint_id: str | None = None, **more: Any) -> Any:
    """A RunnableConfig for ``thread_id`` (and namespace, checkpoint id, extra keys)."""
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns, **more}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


class MakeSaver(Protocol):
    def __call__(self, name: str = "main") -> Any:
        """A saver of the backend under test on storage ``name``; the same name reopens it."""
