"""The one ``put`` algorithm every saver runs: expected head, stored versions, value or delta.

A ``put`` stores a checkpoint header and one row per channel whose version is new. What to store
is decided here, once, as pure functions over what the backend read; the backend only reads
and writes its rows (dicts for ``InMemorySaver``, tables for SQLite and Postgres):

1. ``probe(...)``: the (channel, version) pairs whose presence decides the put: each new
   version, and the version of each list channel the saver last wrote or returned (the base a
   delta would extend). A SQL backend asks for them in one query, under its write lock, with
   the head of (thread, ns).
2. ``plan_put(...)``: checks the head the run expected (``CheckpointConflictError`` if it
   moved, DECISIONS 4), skips versions already stored (a (channel, version) names one value and
   is never rewritten, so a delta's base never changes under it), and encodes every other
   channel: ``EMPTY_ROW`` when it has no value, a delta when it is a list extending the known
   base (``_delta``; proven in O(1) when the engine published that the list only appended to
   the one stored, ``threadloom/_appended.py``, else by comparing the prefix), else the whole
   value. Everything is encoded before anything is written,
   so a value that does not encode stores nothing.
3. The backend writes ``plan.rows`` and the header; once committed, ``remember(...)`` makes the
   new list versions the bases of the next deltas.

A new backend implements only steps 1 and 3 around ``plan_put``.

A run saves its steps to one (thread, namespace) with one config: ``RunAddress`` is that config,
made once per run, with room for what a saver works out of it once (``InMemorySaver``'s
``put_step_diff`` keeps the thread key, the namespace and the metadata the config adds), so a
step's save neither builds nor parses a config.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any, NamedTuple

from threadloom._appended import claim
from threadloom.checkpoint._delta import BlobRow, Decoded, DeltaTracker, proven_extension
from threadloom.checkpoint._memory_rows import ATOM_INTS, ATOM_TYPES
from threadloom.checkpoint._records import EMPTY_ROW, check_expected_head, encode_list
from threadloom.checkpoint.base import CONFIG_KEY_EXPECTED_HEAD, ChannelVersions
from threadloom.checkpoint.serde.base import SerializerProtocol, dumps_channel
from threadloom.constants import TASKS

__all__ = ["PutPlan", "RunAddress", "plan_put", "plan_rows", "probe", "remember"]

Version = str | int | float
_MISSING: Any = object()


class PutPlan(NamedTuple):
    """What a ``put`` stores besides its header."""

    rows: list[tuple[str, Version, Any]]
    """``(channel, version, row)`` for each new version: a ``BlobRow``, or for a backend that
    keeps objects (``keep_atoms``) the value itself."""
    lists: list[tuple[str, Decoded]]
    """New list versions, to ``remember`` once the rows are committed."""


class RunAddress:
    """Where a run saves its checkpoints: its config (the run's, with its checkpoint namespace),
    made once per run. A step's save names its parent and the head the run expects beside it
    (``config_at`` gives the config a ``put`` of it takes)."""

    __slots__ = ("config", "memo")

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        """The run's config: ``configurable`` holds ``thread_id`` and ``checkpoint_ns``."""
        self.memo: Any = None
        """Free for the saver that saves the run: what it works out of ``config`` once."""

    def config_at(self, parent_id: str | None, expected_head: str | None) -> Any:
        """The config of a ``put`` of a checkpoint whose parent is ``parent_id``."""
        configurable = {
            **self.config["configurable"],
            "checkpoint_id": parent_id,
            CONFIG_KEY_EXPECTED_HEAD: expected_head,
        }
        return {**self.config, "configurable": configurable}


def probe(
    tracker: DeltaTracker,
    thread_id: str,
    ns: str,
    values: Mapping[str, Any],
    new_versions: ChannelVersions,
) -> list[tuple[str, Version]]:
    """The (channel, version) pairs a backend must look up before ``plan_put``."""
    pairs: list[tuple[str, Version]] = list(new_versions.items())
    for channel in new_versions:
        if type(values.get(channel)) is list:
            known = tracker.get((thread_id, ns, channel))
            if known is not None:
                pairs.append((channel, known.version))
    return pairs


def plan_put(
    serde: SerializerProtocol,
    configurable: Mapping[str, Any],
    thread_id: str,
    ns: str,
    head: str | None,
    values: Mapping[str, Any],
    new_versions: ChannelVersions,
    stored: Container[tuple[str, Version]],
    tracker: DeltaTracker,
    keep_atoms: bool = False,
) -> PutPlan:
    """Check the expected head and encode the rows of the new versions (module docstring).

    ``head`` is the newest checkpoint id of (thread, ns) read under the backend's write lock;
    ``stored`` holds the pairs of ``probe`` that are stored; ``keep_atoms``: an atom
    (``_memory_rows.is_atom``) is kept as the object itself (only ``InMemorySaver`` does).
    """
    check_expected_head(configurable, thread_id, ns, head)
    return plan_rows(serde, thread_id, ns, values, new_versions, stored, tracker, keep_atoms)


def plan_rows(
    serde: SerializerProtocol,
    thread_id: str,
    ns: str,
    values: Mapping[str, Any],
    new_versions: ChannelVersions,
    stored: Container[Any],
    tracker: DeltaTracker,
    keep_atoms: bool = False,
    *,
    by_ns: bool = False,
) -> PutPlan:
    """``plan_put`` once the head is checked: the rows of the new versions. ``by_ns``:
    ``stored`` holds ``(ns, channel, version)`` triples (``InMemorySaver``'s blobs, looked up
    as they are) instead of the pairs of ``ns``."""
    rows: list[tuple[str, Version, Any]] = []
    lists: list[tuple[str, Decoded]] = []
    for channel, version in new_versions.items():
        if ((ns, channel, version) if by_ns else (channel, version)) in stored:
            continue
        value = values.get(channel, _MISSING)
        cls = type(value)  # is_atom(value), inlined: a put asks for each new version
        if keep_atoms and (
            cls in ATOM_TYPES
            or (cls is str and value.isascii())
            or (cls is int and value in ATOM_INTS)
        ):
            rows.append((channel, version, value))
        elif value is _MISSING:
            rows.append((channel, version, EMPTY_ROW))
        elif cls is list and channel != TASKS:
            known = tracker.get((thread_id, ns, channel))
            if known is not None and (
                ((ns, channel, known.version) if by_ns else (channel, known.version)) not in stored
            ):
                known = None  # pruned since: the new version is stored whole
            proven = proven_extension(known, claim(value))  # O(1), else the full compare
            row, decoded = encode_list(serde, channel, value, version, known, proven, tracker.radix)
            rows.append((channel, version, row))
            lists.append((channel, decoded))
        else:
            try:
                tag, data = serde.dumps_typed(value)
            except Exception:
                tag, data = dumps_channel(serde, channel, value)  # raises with the path
            rows.append((channel, version, BlobRow("value", tag, data)))
    return PutPlan(rows, lists)


def remember(tracker: DeltaTracker, thread_id: str, ns: str, plan: PutPlan) -> None:
    """After commit: the new list versions are the bases of the next deltas."""
    for channel, decoded in plan.lists:
        tracker.remember((thread_id, ns, channel), decoded)
