"""Append-only deltas: store what was appended to a list channel, not the whole list again.

A chat history channel holds a list that each turn extends. When a new version of a channel is
a ``list`` that starts with exactly the elements (by identity, ``is``) of the version the saver
last wrote or returned for that (thread, ns, channel), only the appended tail is stored, with the
version it extends (its *base*). Reading rebuilds the full list from the chain of bases.

Which base a delta extends follows a base-8 counter (``RADIX``) over the deltas since the last
full value. Delta number ``k`` extends the delta numbered ``k`` minus the lowest non-zero octal
digit's place value (``base_index``): delta 9 extends 8, delta 16 extends 8, delta 64 extends 0
(the full value). Then:

- reading any version decodes at most ``(RADIX - 1) * digits`` records, each element once
  (the chain's tails are disjoint), so reads stay bounded however long the thread;
- each element is stored in at most one delta per octal digit, so a conversation of n turns
  costs O(n log8 n) bytes (about 4 copies at 4000 turns) instead of O(n²);
- after ``MAX_DELTAS`` (4096) deltas a full value is stored again, which bounds the digits to 4
  and so the chain to 28 records.

A flat "full value every N deltas" would either re-store the whole list often (quadratic bytes
again, only N times smaller) or let chains grow to N records; the counter gets both bounds.

Everything here is pure: savers give the last known value and get back what to store. The
SQLite and Postgres savers reuse it unchanged.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

__all__ = [
    "MAX_DELTAS",
    "RADIX",
    "BlobRow",
    "ChainLink",
    "Decoded",
    "DeltaTracker",
    "RowDecoder",
    "base_index",
    "extends",
    "links_between",
    "plan_list_write",
    "proven_extension",
    "rebuild",
]

RADIX: Final = 8
MAX_DELTAS: Final = RADIX**4

Version = str | int | float


class BlobRow(NamedTuple):
    """One stored version of one channel, as every backend stores it.

    A named tuple rather than a dataclass: one is built per changed channel on every ``put``,
    and a tuple of plain values is cheap to build and is not tracked by the garbage collector.
    """

    kind: Literal["value", "empty", "delta"]
    """``value``: the whole value; ``empty``: the channel had no value at this version;
    ``delta``: the elements appended to ``base_version``'s list."""
    type: str
    """Serializer tag of ``data``."""
    data: bytes
    """Serialized value, or serialized list tail for a delta."""
    base_version: Version | None = None
    """Delta only: the version whose list this one extends (same thread, ns, channel)."""
    index: int = 0  # type: ignore[assignment]  # the field shadows tuple.index on purpose
    """Position in the delta counter since the last full value (0 for a full value)."""
    length: int = -1
    """Length of the full list at this version, or -1 when the value is not a list."""


# ChainLink, Decoded and ListWrite: made on every put of a list, so not frozen (a frozen
# dataclass's __init__ sets each field through object.__setattr__); treat them as read-only.
@dataclass(slots=True)
class ChainLink:
    """One record on the path from a version down to its full value."""

    index: int
    version: Version
    length: int
    data: bytes | None = None
    """msgpack array of the elements this delta stored, when the serializer wrote plain
    msgpack: a later, wider delta joins these bytes instead of encoding the elements again."""


@dataclass(slots=True)
class Decoded:
    """A list channel's value at one version, with the chain that stores it.

    ``value`` is owned by the saver and never handed out: readers get ``list(value)``.
    """

    value: list[Any]
    chain: tuple[ChainLink, ...]
    source: list[Any] | None = None
    """The list ``value`` was copied from (the one the saver stored, or handed to a reader),
    when known: an append-only fact about a later list names it (``threadloom._appended``)."""

    @property
    def version(self) -> Version:
        return self.chain[-1].version


def base_index(k: int) -> int:
    """The delta number that delta ``k`` (≥ 1) extends: ``k`` minus its lowest octal place."""
    place = 1
    while (k // place) % RADIX == 0:
        place *= RADIX
    return k - place


def links_between(chain: Sequence[ChainLink], base: ChainLink) -> list[ChainLink]:
    """The delta links of ``chain`` above ``base``: their tails cover base.length onwards."""
    return list(chain[_count_up_to(chain, base.index) :])


def _count_up_to(chain: Sequence[ChainLink], index: int) -> int:
    """How many links of ``chain`` have an index up to ``index``. A chain's indices increase
    (each link is appended with the next delta number), so this walks back from its end: the
    links dropped are the few above the base, not the whole chain (up to 28 links)."""
    n = len(chain)
    while n and chain[n - 1].index > index:
        n -= 1
    return n


def extends(prefix: Sequence[Any], value: list[Any]) -> bool:
    """Does ``value`` start with exactly the objects of ``prefix`` (by identity)?"""
    return len(value) >= len(prefix) and all(map(operator.is_, prefix, value))


@dataclass(slots=True)
class ListWrite:
    """What to store for a new list version: the full list, or a tail after ``base``."""

    base: ChainLink | None
    """None: store the whole list as a full value."""
    tail_start: int
    """Index in the new list where the stored part starts (0 for a full value)."""
    index: int
    decoded: Decoded
    """The new version as the tracker and cache should remember it."""


def proven_extension(known: Decoded | None, fact: tuple[list[Any], int] | None) -> bool:
    """Does an append-only ``fact`` (base, length) about a list prove it extends ``known``?

    O(1): the base must be the very list ``known`` was copied from, with the length it had.
    """
    return (
        known is not None
        and fact is not None
        and fact[0] is known.source
        and fact[1] == len(known.value)
    )


def plan_list_write(
    known: Decoded | None, value: list[Any], version: Version, *, proven: bool = False
) -> ListWrite:
    """Decide how to store ``value`` (a list) as ``version`` given the last known version.

    ``proven``: ``value`` is known to extend ``known`` (``proven_extension``), so its prefix
    is not compared again.
    """
    snapshot = list(value)  # the caller may mutate its list later; identity checks need ours
    if known is not None and (proven or extends(known.value, value)):
        k = known.chain[-1].index + 1
        if k < MAX_DELTAS:
            target = base_index(k)
            chain = known.chain[: _count_up_to(known.chain, target)]
            base = chain[-1]
            if base.index == target:  # always true for chains this module built
                link = ChainLink(k, version, len(value))
                decoded = Decoded(snapshot, (*chain, link), value)
                return ListWrite(base, base.length, k, decoded)
    full = Decoded(snapshot, (ChainLink(0, version, len(value)),), value)
    return ListWrite(None, 0, 0, full)


def rebuild(
    version: Version,
    fetch: Callable[[Version], BlobRow | None],
    decode: Callable[[BlobRow], Any],
    cached: Callable[[Version], Decoded | None] = lambda _v: None,
) -> Decoded | None:
    """The list stored as ``version`` of a channel, walking delta bases down to a full value.

    ``fetch`` returns the row of a version of the same channel (None if missing); ``decode``
    turns a row's bytes into its value (the tail for a delta); ``cached`` may short-cut the walk
    at any version already decoded. Returns None when a row of the chain is missing, which only
    happens if storage was damaged.
    """
    pending: list[tuple[Version, BlobRow]] = []  # delta rows above the base, newest first
    current: Version | None = version
    base: Decoded | None = None
    while current is not None:
        hit = cached(current)
        if hit is not None:
            base = hit
            break
        row = fetch(current)
        if row is None:
            return None
        if row.kind != "delta":
            value = decode(row)
            base = Decoded(value, (ChainLink(0, current, len(value)),))
            break
        pending.append((current, row))
        current = row.base_version
    if base is None:
        return None
    if not pending:
        return base  # ``cached``'s own: it keeps the list it was copied from (``source``)
    value, chain = base.value, base.chain
    for row_version, row in reversed(pending):
        value = [*value, *decode(row)]
        joinable = row.data if row.type == "msgpack" else None
        chain = (*chain, ChainLink(row.index, row_version, len(value), joinable))
    return Decoded(value, chain)


class RowDecoder:
    """Decodes each row once while it lives: the checkpoints of one history walk share the
    tails of their delta chains, so each element is decoded once per walk, not per checkpoint."""

    __slots__ = ("_done", "decode_bytes")

    def __init__(self, decode_bytes: Callable[[BlobRow], Any]) -> None:
        self.decode_bytes = decode_bytes
        self._done: dict[int, tuple[BlobRow, Any]] = {}
        """``id(row)`` → (row, its decoded value); the row is kept so its id is not reused."""

    def decode(self, row: BlobRow) -> Any:
        found = self._done.get(id(row))
        if found is None:
            found = self._done[id(row)] = (row, self.decode_bytes(row))
        return found[1]


class DeltaTracker:
    """The last list value a saver wrote or returned, per (thread, ns, channel).

    Bounded (least recently used first out): forgetting only means the next write of that
    channel stores a full value.
    """

    __slots__ = ("_known", "max_entries")

    def __init__(self, max_entries: int = 4096) -> None:
        self.max_entries = max_entries
        self._known: OrderedDict[Hashable, Decoded] = OrderedDict()

    def get(self, key: Hashable) -> Decoded | None:
        return self._known.get(key)

    def remember(self, key: Hashable, decoded: Decoded) -> None:
        self._known[key] = decoded
        self._known.move_to_end(key)
        if len(self._known) > self.max_entries:
            self._known.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._known.pop(key, None)

    def forget_thread(self, thread_id: str) -> None:
        """Drop every entry whose key starts with ``thread_id`` (after deletes, prunes)."""
        for key in [k for k in self._known if isinstance(k, tuple) and k[0] == thread_id]:
            del self._known[key]
