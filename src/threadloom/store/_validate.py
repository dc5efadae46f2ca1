"""The checks every store backend runs on its input, with the messages LangGraph users know.

Each function raises ``InvalidNamespaceError``, ``TypeError``, ``ValueError`` or
``NotImplementedError`` naming the bad value and the fix; ``base.validate_ops`` applies them to a
whole batch before anything is stored. ``threadloom.store.base`` re-exports the public ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from threadloom.errors import InvalidNamespaceError, StoreArgumentError
from threadloom.store._paths import tokenize_path

__all__ = [
    "validate_count",
    "validate_index",
    "validate_key",
    "validate_namespace_labels",
    "validate_put_namespace",
    "validate_put_value",
    "validate_ttl",
    "validate_ttl_config",
]


def validate_namespace_labels(namespace: Any) -> tuple[str, ...]:
    """Check every label (a non-empty ``str`` without ``.`` or NUL); return the tuple."""
    if isinstance(namespace, str):
        raise InvalidNamespaceError(
            f"Namespace {namespace!r} is a string; a namespace is a tuple of labels, "
            f"e.g. ({namespace!r},)."
        )
    if not isinstance(namespace, tuple | list):
        raise InvalidNamespaceError(
            f"Namespace {namespace!r} must be a tuple of string labels, e.g. ('memories', 'u1')."
        )
    labels: tuple[str, ...] = tuple(namespace)
    for label in labels:
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {labels}. Namespace labels "
                f"must be strings, but got {type(label).__name__}."
            )
        if "." in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label '{label}' found in {labels}. Namespace labels "
                "cannot contain periods ('.')."
            )
        if "\x00" in label:
            raise InvalidNamespaceError(
                f"Invalid namespace label {label!r} found in {labels}. Namespace labels "
                "cannot contain NUL characters ('\\x00')."
            )
        if not label:
            raise InvalidNamespaceError(
                f"Namespace labels cannot be empty strings. Got {label} in {labels}"
            )
    return labels


def validate_put_namespace(namespace: Any, *, reserved_root: bool = True) -> tuple[str, ...]:
    """Check a namespace that is written to: non-empty, labels valid and, with
    ``reserved_root`` (``put``; a ``PutOp`` in a batch may use it, as in LangGraph), root not
    ``"langgraph"``."""
    if isinstance(namespace, tuple | list) and not namespace:
        raise InvalidNamespaceError(
            "Namespace cannot be empty. An item is filed under at least one label: use e.g. "
            "store.put(('memories', 'user-1'), key, value). (The empty tuple is a search or "
            "list prefix that means everything, never a place to write.)"
        )
    labels = validate_namespace_labels(namespace)
    if reserved_root and labels[0] == "langgraph":
        raise InvalidNamespaceError(
            f'Root label for namespace cannot be "langgraph". Got: {labels}'
        )
    return labels


def validate_put_value(value: Any) -> None:
    """A stored value must be a mapping with string keys (None in a PutOp means delete)."""
    if not isinstance(value, Mapping):
        raise StoreArgumentError(
            f"A store value must be a dict with string keys, got {type(value).__name__} "
            f"{value!r}. Wrap it, e.g. {{'data': {value!r}}}."
        )
    for k in value:
        if not isinstance(k, str):
            raise StoreArgumentError(
                f"A store value must have string keys, got key {k!r} in {value!r}. "
                "Convert the key with str()."
            )


def put_value(value: Any) -> Mapping[str, Any]:
    """The value ``put`` stores: a mapping as given, or a list or tuple of (key, value) pairs as
    a dict (every LangGraph store accepts pairs and stores the dict), checked."""
    if isinstance(value, list | tuple) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in value
    ):
        value = dict(value)
    validate_put_value(value)
    return value  # type: ignore[no-any-return]


def validate_key(key: Any) -> None:
    if not isinstance(key, str):
        raise TypeError(f"A store key must be a str, got {type(key).__name__} {key!r}.")


def validate_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StoreArgumentError(f"{name} must be a non-negative int, got {value!r}.")


def validate_index(index: Any) -> None:
    if index is None or index is False:
        return
    if not isinstance(index, list | tuple) or not all(isinstance(p, str) for p in index):
        raise TypeError(
            f"index must be False, None or a list of field paths such as ['text'], got {index!r}."
        )
    for path in index:
        tokenize_path(path)


def _is_minutes(value: Any) -> bool:
    """A positive, finite number of minutes (0 or less would store an item already expired)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 < value < math.inf


def validate_ttl_config(ttl: Any, store_name: str) -> None:
    """Check a store's ``ttl`` configuration when the store is made, not at the first put."""
    if ttl is None:
        return
    if not isinstance(ttl, Mapping):
        raise TypeError(
            f"{store_name}(ttl=...) must be a TTLConfig dict such as "
            f"{{'default_ttl': 60, 'refresh_on_read': True}} or None, got {ttl!r}."
        )
    for name, fix in (
        ("default_ttl", "None keeps items until deleted"),
        ("sweep_interval_minutes", "None sweeps every 5 minutes"),
    ):
        value = ttl.get(name)
        if value is not None and not _is_minutes(value):
            raise ValueError(
                f"{store_name}(ttl={{{name!r}: {value!r}, ...}}): {name} must be a positive, "
                f"finite number of minutes or None, got {value!r}. Use e.g. {{{name!r}: 60}} "
                f"for an hour; {fix}."
            )


def validate_ttl(ttl: Any, store_name: str, supports_ttl: bool) -> None:
    if ttl is None:
        return
    if not _is_minutes(ttl):
        raise ValueError(
            f"ttl must be a positive, finite number of minutes or None, got {ttl!r}. Use "
            "None (or leave it out) for an item that does not expire."
        )
    if not supports_ttl:
        raise NotImplementedError(_ttl_unsupported(store_name))


def _ttl_unsupported(store_name: str) -> str:
    return (
        f"TTL is not supported by {store_name}. Use a store implementation that supports TTL "
        "or set ttl=None."
    )
