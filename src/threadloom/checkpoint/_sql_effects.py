"""The effects the SQL checkpointer core (``_sql_core.SqlCore``) yields, for every driver.

The core decides; a driver (SQLite on ``sqlite3`` or ``aiosqlite``, PostgreSQL on psycopg)
carries out each effect on its connection and sends back the result:

- ``Fetch(sql, params)``: run one statement, result: all its rows;
- ``Exec(sql, rows)``: run one statement per parameter row, result: the number of rows it
  changed (SQLite's drivers; a driver may give None);
- ``Attempt(sql)``: run one statement that may fail, result: its rows or the driver's error;
- ``Found(item)``: a listing hands one checkpoint to the caller, result: None;
- ``Pause(seconds)``: wait (retrying what another process holds up), result: None.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from threadloom.checkpoint.base import CheckpointTuple

__all__ = ["Attempt", "Effect", "Exec", "Fetch", "Found", "Pause", "Steps", "until_found"]

T = TypeVar("T")


# Fetch and Exec are made for every statement (15 a chat turn): not frozen, whose __init__ is
# slower; treat them as read-only.
@dataclass(slots=True)
class Fetch:
    """Run one statement; the result is all its rows (a list of tuples)."""

    sql: str
    params: Sequence[Any] = ()


@dataclass(slots=True)
class Exec:
    """Run one statement once per parameter row; the result is the number of rows changed
    (SQLite's drivers; None from a driver that does not count)."""

    sql: str
    rows: Sequence[Sequence[Any]]


@dataclass(slots=True, frozen=True)
class Attempt:
    """Run one statement that may fail: the result is its rows, or the ``sqlite3.Error``."""

    sql: str


@dataclass(slots=True, frozen=True)
class Found:
    """Hand one listed checkpoint to the caller (who may stop there); the result is None."""

    item: CheckpointTuple


@dataclass(slots=True, frozen=True)
class Pause:
    """Wait ``seconds`` (retrying a step another process holds up); the result is None."""

    seconds: float


Effect: TypeAlias = Fetch | Exec | Attempt | Found | Pause
Steps: TypeAlias = Generator[Effect, Any, T]


def until_found(steps: Steps[None]) -> Steps[CheckpointTuple | None]:
    """Run a listing up to its next ``Found`` item (None at the end), leaving it paused there:
    a driver runs this once per item the caller asks for."""
    result: Any = None
    while True:
        try:
            effect = steps.send(result)
        except StopIteration:
            return None
        if isinstance(effect, Found):
            return effect.item
        result = yield effect
