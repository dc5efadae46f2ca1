"""Checkpoint metadata filters, typed, identical on every backend (DECISIONS 9).

``list(filter={...})`` keeps the checkpoints whose metadata has, for every key of the filter, a
value equal to the filter's value, compared by type:

- ``None`` matches a null value or a missing key;
- a ``bool`` matches only that bool (``True`` is never the number ``1``, nor ``1`` ``True``);
- a number matches an equal number (``1 == 1.0``), never a bool; ``NaN`` matches nothing (it
  equals nothing, itself included), ``inf`` matches ``inf``;
- a string matches an equal string;
- a list or tuple matches a list or tuple of the same length, element by element; a dict matches
  a dict with the same keys, value by value;
- anything else (a datetime, say) matches an equal value of the same type.

A key names a top-level metadata key; a dotted key (``"a.b"``) that is not itself a key is read
as a path into nested dicts (``metadata["a"]["b"]``), as LangGraph's ``SqliteSaver`` reads it.

``matches`` is the truth; the SQL backends push what they can into the query with
``sql_condition`` and check the rest with ``matches`` on the decoded metadata. ``filter_json``
writes the metadata column those conditions read: always valid JSON, with every value a filter
cannot match by SQL (non-finite floats, non-JSON objects) written as an object, which no
scalar condition ever matches.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii
from typing import Any, Final

__all__ = [
    "OPAQUE",
    "filter_json",
    "is_path",
    "matches",
    "root_step_json",
    "sql_condition",
    "values_equal",
]

OPAQUE: Final = {"$opaque": True}
"""What ``filter_json`` writes for a value SQL cannot compare."""

_MISSING: Any = object()
_INT64 = range(-(2**63), 2**63)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def values_equal(actual: Any, expected: Any) -> bool:
    """Typed equality of one metadata value and one filter value (see the module docstring)."""
    if expected is None:
        return actual is None or actual is _MISSING
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual == expected
    if _is_number(expected):
        return _is_number(actual) and bool(actual == expected)
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(values_equal(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and actual.keys() == expected.keys()
            and all(values_equal(actual[k], expected[k]) for k in expected)
        )
    return type(actual) is type(expected) and bool(actual == expected)


def matches(metadata: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    """Does ``metadata`` pass ``filter``? Every key must hold (an empty filter passes all)."""
    return all(values_equal(_lookup(metadata, k), v) for k, v in filter.items())


def _lookup(metadata: Mapping[str, Any], key: str) -> Any:
    """``metadata[key]``; else, for a dotted key, the value at that path; else ``_MISSING``."""
    found = metadata.get(key, _MISSING)
    if found is not _MISSING or "." not in key:
        return found
    for part in key.split("."):
        if not isinstance(metadata, Mapping):
            return _MISSING
        metadata = metadata.get(part, _MISSING)
    return metadata


def is_path(key: str) -> bool:
    """Is ``key`` read as a path when it is not a key (so SQL cannot check it exactly)?"""
    return "." in key


def sql_condition(json_path: str, value: Any) -> tuple[str, list[Any]] | None:
    """A SQLite condition on the ``metadata`` JSON column exactly equivalent to
    ``values_equal(metadata[key], value)``, with its parameters; None when SQL cannot decide
    (the caller then checks ``matches`` in Python and must not apply ``LIMIT`` in SQL)."""
    if value is None:
        return "json_extract(metadata, ?) IS NULL", [json_path]  # absent or null
    if value is True or value is False:
        return "json_type(metadata, ?) = ?", [json_path, "true" if value else "false"]
    if type(value) is str:
        return "json_type(metadata, ?) = 'text' AND json_extract(metadata, ?) = ?", [
            json_path,
            json_path,
            value,
        ]
    if (type(value) is int and value in _INT64) or (type(value) is float and math.isfinite(value)):
        return "json_type(metadata, ?) IN ('integer', 'real') AND json_extract(metadata, ?) = ?", [
            json_path,
            json_path,
            value,
        ]
    return None


def _filterable(value: Any) -> Any:
    """``value`` with everything SQL cannot compare replaced by ``OPAQUE``."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if value in _INT64 else OPAQUE
    if isinstance(value, float):
        return value if math.isfinite(value) else OPAQUE
    if isinstance(value, list | tuple):
        return [_filterable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _filterable(v) for k, v in value.items()}
    return OPAQUE


def filter_json(metadata: Mapping[str, Any]) -> str:
    """The metadata as JSON text for SQL filters; always valid JSON (the blob is the truth)."""
    try:
        return _FILTER_ENCODER.encode(metadata)
    except (ValueError, TypeError):
        return json.dumps(_filterable(metadata), separators=(",", ":"))


def root_step_json(metadata: Mapping[str, Any]) -> str:
    """``filter_json`` of metadata that passed ``is_root_step_metadata``, written out directly
    (the same text, byte for byte) when its keys are in the engine's order."""
    if tuple(metadata) != _ROOT_STEP_ORDER:
        return filter_json(metadata)
    source = encode_basestring_ascii(metadata["source"])
    return f'{{"source":{source},"step":{int.__repr__(metadata["step"])},"parents":{{}}}}'


_ROOT_STEP_ORDER: Final = ("source", "step", "parents")


def _opaque(_value: Any) -> Any:
    return OPAQUE


_FILTER_ENCODER: Final = json.JSONEncoder(allow_nan=False, separators=(",", ":"), default=_opaque)
"""Made once: ``json.dumps`` with options builds an encoder per call, and every put calls this."""
