"""Metadata ``InMemorySaver`` keeps as objects: the merge of a put's metadata with its config's
keys (``base.get_checkpoint_metadata``) made as a private copy when everything in it is plain, so
it is what the serializer would give back and nothing needs serializing.

``plain_metadata`` does it for any put; ``engine_metadata`` for a run's step, whose config adds
the same keys every step (worked out once per run) and whose own metadata has a known shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from threadloom.checkpoint._memory_rows import ATOM_INTS, ATOM_TYPES
from threadloom.checkpoint._metadata import mergeable_keys

__all__ = ["engine_metadata", "plain_metadata"]


def plain_metadata(config: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """``get_checkpoint_metadata(config, metadata)`` as a private copy, made in one
    pass, when everything in it is plain: atoms (no NUL in any string) and flat dicts of atoms,
    under ASCII string keys. Then the copy is what the serializer would give back. None when
    anything is not plain: the caller merges and serializes the general way.
    """
    merged = _plain_copy(metadata)
    if merged is None:
        return None
    # The merge rules of base.get_checkpoint_metadata, for plain values.
    for source in (config.get("metadata"), config.get("configurable")):
        if not source:
            continue
        for key in mergeable_keys(source):
            if key in merged:
                continue
            value = source[key]
            cls = type(value)
            if cls is str:
                if not value.isascii() or "\x00" in value:
                    return None
            elif cls is int:
                if value not in ATOM_INTS:
                    return None
            elif cls is not float and cls is not bool:
                if isinstance(value, str | int | float | bool):
                    return None  # a subclass: converted or kept by the general rules
                continue  # not copied into metadata
            if not key.isascii():
                return None
            merged[key] = value
    return merged


def engine_metadata(
    metadata: Mapping[str, Any], extras: Mapping[str, Any]
) -> dict[str, Any] | None:
    """``plain_metadata`` of a run's step: ``extras`` is what ``plain_metadata(config, {})``
    gave for the run's config (worked out once per run, not once per step). The engine's
    metadata (``source``, ``step``, ``parents``) is checked by its known shape."""
    if metadata.keys() != _STEP_METADATA_KEYS:
        merged = _plain_copy(metadata)
    else:
        source, parents = metadata["source"], metadata["parents"]
        if type(source) is not str or not source.isascii() or "\x00" in source:
            return None
        if type(metadata["step"]) is not int or type(parents) is not dict:
            return None
        merged = dict(metadata)
        if parents:
            merged = _plain_copy(metadata)
        else:
            merged["parents"] = {}
    if merged is None or not extras:
        return merged
    for key, value in extras.items():  # atoms: shared
        if key not in merged:
            merged[key] = value
    return merged


_STEP_METADATA_KEYS: Final = frozenset({"source", "step", "parents"})


def _plain_copy(metadata: Mapping[str, Any]) -> dict[str, Any] | None:
    """A copy of ``metadata`` when it is plain (``plain_metadata``), else None."""
    # The atom tests are written out: this runs on every put.
    merged: dict[str, Any] = {}
    for key, value in metadata.items():
        if type(key) is not str or not key.isascii() or "\x00" in key:
            return None
        cls = type(value)
        if cls is str:
            if not value.isascii() or "\x00" in value:
                return None
        elif cls is dict:
            for inner_key, item in value.items():
                if type(inner_key) is not str or not inner_key.isascii() or "\x00" in inner_key:
                    return None
                if not _plain_atom(item):
                    return None
            value = dict(value)
        elif cls not in ATOM_TYPES and not (cls is int and value in ATOM_INTS):
            return None
        merged[key] = value
    return merged


def _plain_atom(value: Any) -> bool:
    cls = type(value)
    if cls is str:
        return value.isascii() and "\x00" not in value
    return cls in ATOM_TYPES or (cls is int and value in ATOM_INTS)
