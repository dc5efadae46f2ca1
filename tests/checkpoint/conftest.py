"""Helpers for saver tests: build checkpoints and configs the way the engine does."""

from __future__ import annotations

from typing import Any

import pytest

from threadloom.checkpoint.base import Checkpoint, empty_checkpoint
from threadloom.checkpoint.memory import InMemorySaver


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
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns, **more}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


@pytest.fixture
def saver() -> InMemorySaver:
    return InMemorySaver()
