"""Builders the suite uses; also handy for a backend's own tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from threadloom.checkpoint.base import BaseCheckpointSaver, Checkpoint, CheckpointTuple
from threadloom.checkpoint.id import uuid6

__all__ = [
    "assert_tuple_equal",
    "generate_checkpoint",
    "generate_config",
    "generate_metadata",
    "put_test_checkpoint",
    "put_test_checkpoints",
]


def generate_checkpoint(
    *, channel_values: dict[str, Any] | None = None, **fields: Any
) -> Checkpoint:
    """A v1 checkpoint with a new id, as the upstream fixtures make them."""
    checkpoint = Checkpoint(
        v=1,
        id=str(uuid6(clock_seq=-1)),
        ts=datetime.now(UTC).isoformat(),
        channel_values=dict(channel_values or {}),
        channel_versions={},
        versions_seen={},
        updated_channels=None,
        pending_sends=[],
    )
    checkpoint.update(fields)  # type: ignore[typeddict-item]
    return checkpoint


def generate_config(
    thread_id: str, checkpoint_ns: str = "", checkpoint_id: str | None = None
) -> Any:
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def generate_metadata(source: str = "loop", step: int = 0, **extra: Any) -> Any:
    return {"source": source, "step": step, "parents": {}, **extra}


async def put_test_checkpoint(
    saver: BaseCheckpointSaver[Any],
    thread_id: str,
    *,
    checkpoint_ns: str = "",
    parent_id: str | None = None,
    channel_values: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    config_metadata: dict[str, Any] | None = None,
    version: int = 1,
) -> tuple[Any, Checkpoint]:
    """Put one checkpoint whose channels are all at ``version``; returns (config, checkpoint).

    A (channel, version) pair names one value (savers may keep the first value stored under
    it), so checkpoints holding different values use different versions.
    """
    checkpoint = generate_checkpoint(channel_values=channel_values)
    versions: dict[str, str | int | float] = {
        name: version for name in checkpoint["channel_values"]
    }
    checkpoint["channel_versions"] = dict(versions)
    config = generate_config(thread_id, checkpoint_ns, parent_id)
    if config_metadata:
        config["metadata"] = config_metadata
    saved = await saver.aput(config, checkpoint, metadata or generate_metadata(), versions)  # type: ignore[arg-type]
    return saved, checkpoint


async def put_test_checkpoints(
    saver: BaseCheckpointSaver[Any], thread_id: str, count: int, *, checkpoint_ns: str = ""
) -> list[tuple[Any, Checkpoint]]:
    """A chain of ``count`` checkpoints, each the parent of the next."""
    made = []
    parent = None
    for step in range(count):
        saved, checkpoint = await put_test_checkpoint(
            saver,
            thread_id,
            checkpoint_ns=checkpoint_ns,
            parent_id=parent,
            channel_values={"step": step},
            metadata=generate_metadata(step=step),
            version=step + 1,
        )
        parent = checkpoint["id"]
        made.append((saved, checkpoint))
    return made


def assert_tuple_equal(actual: CheckpointTuple | None, expected: CheckpointTuple) -> None:
    """Same config, checkpoint, metadata, parent and writes (versions by integer part)."""
    assert actual is not None, "expected a checkpoint tuple, got None"
    assert actual.config == expected.config, (actual.config, expected.config)
    assert actual.metadata == expected.metadata, (actual.metadata, expected.metadata)
    assert actual.parent_config == expected.parent_config
    assert (actual.pending_writes or []) == (expected.pending_writes or [])
    for key in ("id", "channel_values", "versions_seen"):
        assert actual.checkpoint[key] == expected.checkpoint[key], key
    assert _major(actual.checkpoint["channel_versions"]) == _major(
        expected.checkpoint["channel_versions"]
    )


def _major(versions: dict[str, Any]) -> dict[str, str]:
    return {k: str(v).split(".")[0].lstrip("0") or "0" for k, v in versions.items()}
