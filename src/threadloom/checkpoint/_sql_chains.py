"""Reading a list's whole delta chain in one statement, for the SQL savers that can.

The shared reads (``_sql_reads.fetch_page``) ask for value rows with ``BLOB_ROWS``, then for the
missing bases of delta chains one level per query: a saver that holds nothing of a 1,000-message
chat would send some twenty queries. A backend whose statements module has a ``BLOB_CHAINS``
(``BLOB_ROWS`` whose keys with a fifth element bring every row down their chain) answers the
shared reads' ``BLOB_ROWS`` with it (``answer_chains``), for the keys whose walk would not stop
at a version the saver holds decoded: the chain comes in the same statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Hashable
from typing import Any, Protocol, TypeVar

from threadloom.checkpoint._sql_effects import Fetch

__all__ = ["Answer", "Known", "answer_chains", "mark_deep", "relay"]

T = TypeVar("T")
Answer = Callable[[Any], Generator[Any, Any, Any]]
"""Answers one effect of an operation, possibly yielding effects of its own to the driver."""


class _Held(Protocol):
    @property
    def version(self) -> Any: ...


class Known(Protocol):
    """What a saver holds of a list channel: ``DeltaTracker``, or PostgreSQL's ``KnownRows``."""

    def get(self, key: Hashable, /) -> _Held | None: ...


def relay(steps: Generator[Any, Any, T], answer: Answer) -> Generator[Any, Any, T]:
    """Run ``steps``, answering each effect it yields with ``answer(effect)``, a generator that
    may yield effects of its own (to the driver) and returns the result ``steps`` receives."""
    result: Any = None
    while True:
        try:
            effect = steps.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        result = yield from answer(effect)


def mark_deep(
    known: Known, keys: list[list[Any]], version_of: Callable[[str], Any]
) -> list[list[Any]] | None:
    """``keys`` (thread, ns, channel, version text) with a fifth element on those whose walk
    down the delta chain would not stop at a version ``known`` holds (it holds none of the
    channel, or one newer than the key's); None when there are none."""
    marked = False
    out = []
    for key in keys:
        held = known.get((key[0], key[1], key[2]))
        if held is None or _older(version_of(key[3]), held.version):
            out.append([*key, 1])
            marked = True
        else:
            out.append(key)
    return out if marked else None


def _older(a: Any, b: Any) -> bool:
    """Is version ``a`` older than ``b`` (versions of different kinds are not compared)?"""
    return type(a) is type(b) and a < b


def answer_chains(
    known: Known, blob_rows: str, blob_chains: str, version_of: Callable[[str], Any]
) -> Answer:
    """Answers the shared reads' ``blob_rows`` with ``blob_chains`` when some key's walk would
    go down to a full value; every other effect goes to the driver as it is."""

    def answer(effect: Any) -> Generator[Any, Any, Any]:
        if isinstance(effect, Fetch) and effect.sql == blob_rows:
            (bound,) = effect.params
            keys = mark_deep(known, json.loads(bound), version_of)
            if keys is not None:
                return (yield Fetch(blob_chains, (json.dumps(keys),)))
        return (yield effect)

    return answer
