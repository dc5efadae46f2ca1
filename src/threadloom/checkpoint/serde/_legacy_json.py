"""Objects in legacy JSON checkpoints: LangChain's ``{"lc": ..., "type": "constructor"}`` records.

LangGraph < 1.0 could store values as JSON, an object as a record naming its class by path
(``["langgraph", "types", "Interrupt"]``) with its constructor's ``kwargs``. A record of a type of
the safe set (LangChain messages and documents, ``Interrupt``, ``Send``...) is always rebuilt, as
LangGraph 1.2.22 (langgraph-checkpoint 4.3) does; any other only when the serializer was told to
(``allowed_json_modules``) *and* the class is on its allow-list (LangGraph's own names are read as
threadloom's). Nothing is imported otherwise, and any other record stays the dict it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from threadloom.checkpoint.serde._allowlist import Allowlist, safe_type

__all__ = ["revive"]


def revive(value: Any, allowlist: Allowlist, allowed: Iterable[Any] | bool) -> Any:
    """``value`` (parsed JSON) with the constructor records of safe types and of the paths
    ``allowed`` names (``True``: any path) rebuilt."""
    prefixes = None if allowed is True else [tuple(p) for p in allowed or ()]
    return _walk(value, allowlist, prefixes)


def _walk(value: Any, allowlist: Allowlist, prefixes: list[tuple[str, ...]] | None) -> Any:
    if isinstance(value, list):
        return [_walk(v, allowlist, prefixes) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: _walk(v, allowlist, prefixes) for k, v in value.items()}
    path = value.get("id")
    if not (
        value.get("lc") is not None
        and value.get("type") == "constructor"
        and isinstance(path, list)
        and len(path) >= 2
        and all(isinstance(part, str) for part in path)
    ):
        return value
    module, name = ".".join(path[:-1]), path[-1]
    if module == "langgraph" or module.startswith("langgraph."):
        module = "threadloom" + module[len("langgraph") :]  # LangGraph's types are ours
    cls = safe_type((module, name))
    if cls is None:
        if prefixes is not None and not any(tuple(path[: len(p)]) == p for p in prefixes):
            return value
        try:
            cls = allowlist.resolve((module, name))
        except (ImportError, AttributeError):
            return value
    kwargs = value.get("kwargs") or {}
    if cls is None or not isinstance(kwargs, dict):
        return value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError):  # the class changed since: keep the data
        return value
