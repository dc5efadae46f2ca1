"""Checkpoint metadata as every saver stores it: NULs removed, plain config values merged in.

``get_checkpoint_metadata`` is the one rule: the caller's metadata, without NUL characters
(PostgreSQL text rejects them, and every backend stores the same metadata), plus the plain
values (str, int, float, bool) of ``config["metadata"]`` and ``config["configurable"]`` that
are not already there, not engine keys (``EXCLUDED_METADATA_KEYS``) and not ``__``-prefixed.
``threadloom.checkpoint.base`` re-exports these names.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from threadloom.checkpoint.base import CheckpointMetadata

__all__ = [
    "EXCLUDED_METADATA_KEYS",
    "get_checkpoint_metadata",
    "get_serializable_checkpoint_metadata",
]

EXCLUDED_METADATA_KEYS: Final = frozenset(
    {
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "langgraph_checkpoint_ns",
    }
)
"""Configurable keys that are never copied into stored metadata."""


_ATOMS: Final = frozenset({int, float, bool, type(None)})
"""Exact types that hold no string and need no stripping."""


def _has_nul(value: Any) -> bool:
    """Does ``_strip_nul`` have anything to change in ``value``? (No copy is made to find out.)"""
    cls = type(value)
    if cls is str:
        return "\x00" in value
    if cls in _ATOMS:
        return False
    if cls is dict:
        for key, item in value.items():
            # metadata is a small dict of plain values: test those inline, recurse for the rest
            if type(key) is str:
                if "\x00" in key:
                    return True
            elif _has_nul(key):
                return True
            kind = type(item)
            if kind is str:
                if "\x00" in item:
                    return True
            elif kind not in _ATOMS and (item or kind is not dict) and _has_nul(item):
                return True  # (an empty dict, like a root graph's parents, holds nothing)
        return False
    if cls is builtins.list:
        return any(map(_has_nul, value))
    # subclasses of str, dict and list come back as the plain type from _strip_nul
    return isinstance(value, str | dict | builtins.list)


def _strip_nul(value: Any) -> Any:
    # PostgreSQL text rejects NUL; every backend strips it so they all store the same metadata.
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, builtins.list):
        return [_strip_nul(v) for v in value]
    return value


_STEP_KEYS: Final = frozenset({"source", "step", "parents"})


def is_root_step_metadata(metadata: Mapping[str, Any]) -> bool:
    """Is ``metadata`` what the engine writes for a root graph's step: a ``source`` string with
    no NUL, an int ``step`` and empty ``parents``? (Then it is plain JSON with nothing to strip:
    a shape tested in a few opcodes, on every put, before the general walks.)"""
    if metadata.keys() != _STEP_KEYS:
        return False
    source, parents = metadata["source"], metadata["parents"]
    return (
        type(source) is str
        and "\x00" not in source
        and type(metadata["step"]) is int
        and type(parents) is dict
        and not parents
    )


_MERGEABLE: dict[tuple[str, ...], tuple[str, ...]] = {}
"""Key tuple of a config dict → its keys that may enter metadata. A run's puts pass configs of
the same keys step after step (mostly excluded or ``__``-prefixed engine keys), so the key rules
are worked out once per key set, not once per key per put."""


def mergeable_keys(source: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of ``source`` that are neither excluded nor ``__``-prefixed, in order."""
    keys = tuple(source)
    found = _MERGEABLE.get(keys)
    if found is None:
        excluded = EXCLUDED_METADATA_KEYS
        found = tuple(k for k in keys if k not in excluded and not k.startswith("__"))
        if len(_MERGEABLE) >= 256:  # key sets are few; keep the memo small whatever happens
            _MERGEABLE.clear()
        _MERGEABLE[keys] = found
    return found


def get_checkpoint_metadata(
    config: RunnableConfig, metadata: CheckpointMetadata
) -> CheckpointMetadata:
    """Metadata as stored: NULs removed, then plain values of ``config["metadata"]`` and
    ``config["configurable"]`` added unless present, excluded, or named with a ``__`` prefix.

    The result is a new dict; values that had nothing to strip are the caller's objects (as in
    LangGraph), so serialize or copy it before changing what is inside.
    """
    return merge_metadata(config, metadata, is_root_step_metadata(metadata))


def merge_metadata(
    config: RunnableConfig, metadata: CheckpointMetadata, root_step: bool
) -> CheckpointMetadata:
    """``get_checkpoint_metadata`` once ``root_step`` says whether ``metadata`` passed
    ``is_root_step_metadata`` (a saver that needs that answer again asks once)."""
    merged: dict[str, Any] = dict(metadata)
    if not root_step and _has_nul(metadata):
        merged = _strip_nul(merged)
    for source in (config.get("metadata"), config.get("configurable")):
        if not source:
            continue
        for key in mergeable_keys(source):
            if key in merged:
                continue
            value = source[key]
            cls = type(value)
            if cls is str:
                merged[key] = value.replace("\x00", "") if "\x00" in value else value
            elif cls is int or cls is float or cls is bool:
                merged[key] = value
            elif isinstance(value, str | int | float | bool):
                merged[key] = _strip_nul(value)
    return merged  # type: ignore[return-value]


def get_serializable_checkpoint_metadata(
    config: RunnableConfig, metadata: CheckpointMetadata
) -> CheckpointMetadata:
    """``get_checkpoint_metadata`` without the legacy ``writes`` key."""
    merged = get_checkpoint_metadata(config, metadata)
    merged.pop("writes", None)  # type: ignore[typeddict-item]
    return merged
