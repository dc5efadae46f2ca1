"""The checks every saver makes on what its caller passes: a thread id, and ``list``'s arguments.

A thread id is stored as a string. A ``str``, an ``int`` or a ``UUID`` has one string form that
the caller can pass again (``7`` and ``"7"`` are the same thread, as in LangGraph's SQL savers);
anything else is refused (``InvalidThreadIdError``) rather than stored under ``str(value)``: an
object's ``repr`` holds its memory address, and ``None`` or ``True`` would name a thread by
accident. ``list`` checks its ``config``, ``filter``, ``before`` and ``limit`` before it reads
anything (``InvalidSaverArgumentError``), where LangGraph fails deep inside with an
``AttributeError`` or, on SQLite, treats ``limit=-1`` as no limit at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from threadloom.errors import InvalidSaverArgumentError, InvalidThreadIdError

__all__ = ["check_list_arguments", "run_keys", "thread_key", "thread_keys"]


def thread_key(thread_id: Any) -> str:
    """``thread_id`` as the string it is stored under."""
    if type(thread_id) is str:
        return thread_id
    if isinstance(thread_id, str | UUID) or (
        isinstance(thread_id, int) and not isinstance(thread_id, bool)
    ):
        return str(thread_id)
    raise InvalidThreadIdError(thread_id)


def thread_keys(thread_ids: Any) -> list[str]:
    """The stored strings of a list of thread ids; a lone string is refused, not split into
    one-letter threads."""
    return [thread_key(thread_id) for thread_id in _listed("thread_ids", thread_ids)]


def run_keys(run_ids: Any) -> list[str]:
    """The run ids of ``delete_for_runs`` as stored strings; a lone string is refused, not split
    into one-letter run ids that match nothing (LangGraph's savers do not implement it)."""
    return [str(run_id) for run_id in _listed("run_ids", run_ids)]


def _listed(name: str, ids: Any) -> Iterable[Any]:
    """``ids`` when it is a collection of ids; a lone string (or a non-iterable) is refused."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        what = name.removesuffix("s").replace("_", " ")
        raise InvalidSaverArgumentError(
            name, ids, f"must be a list of {what}s", f"Pass e.g. [{ids!r}]."
        )
    return ids


def check_list_arguments(config: Any, filter: Any, before: Any, limit: Any) -> None:
    """Refuse a ``list`` call whose arguments are of the wrong kind."""
    if config is not None and not isinstance(config, Mapping):
        raise InvalidSaverArgumentError(
            "config",
            config,
            "must be a config dict or None",
            "Pass e.g. {'configurable': {'thread_id': 't'}}, or None for every thread.",
        )
    if filter is not None and not isinstance(filter, Mapping):
        raise InvalidSaverArgumentError(
            "filter", filter, "must be a dict of metadata keys", "Pass e.g. {'source': 'loop'}."
        )
    if before is not None and not isinstance(before, Mapping):
        raise InvalidSaverArgumentError(
            "before",
            before,
            "must be a checkpoint's config dict",
            "Pass e.g. {'configurable': {'checkpoint_id': '1ef...'}}.",
        )
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidSaverArgumentError(
            "limit", limit, "must be a non-negative int", "Pass None for no limit."
        )
