"""Switching a SQLite file to WAL, written once for the checkpointer and the store.

The switch is the one setup step SQLite refuses at once ("database is locked") instead of
waiting for the busy timeout: when another connection holds a write transaction on a file that
is not yet in WAL mode, as when two processes open a new file together. ``use_wal`` retries it
for up to ``WAL_SWITCH_ATTEMPTS * WAL_SWITCH_PAUSE_S`` seconds (10 s).

It is a generator of its caller's own effects: each effect-driven core
(``checkpoint.sqlite._core``, ``store.sqlite._core``) passes the constructors of its effects and
``yield from``\\ s it, and its drivers run the steps like any other.

A new file (no page yet) is switched without a rollback journal: the switch writes the file's
first page, and with SQLite's default journal that write creates, syncs and deletes a journal
file (two fsyncs, one of the folder, and an unlink: 5-20 ms of a new file's first call on a
shared disk) to protect a file that held nothing. Its own fsync stays.

Both also explain a lock error the same way (``lock_hint``): with the time the call really
waited, since the switch and some other steps give up without waiting for the busy timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Final

__all__ = [
    "JOURNAL_MODE",
    "NO_JOURNAL_FILE",
    "PAGE_COUNT",
    "USE_WAL",
    "WAL_SWITCH_ATTEMPTS",
    "WAL_SWITCH_PAUSE_S",
    "lock_hint",
    "use_wal",
]

JOURNAL_MODE: Final = "PRAGMA journal_mode"
USE_WAL: Final = "PRAGMA journal_mode = WAL"
PAGE_COUNT: Final = "PRAGMA page_count"
NO_JOURNAL_FILE: Final = "PRAGMA journal_mode = MEMORY"
"""Before a new file's switch: SQLite then writes its first page with no journal (a switch from
``MEMORY`` turns the journal off for it), and syncs it as before."""
WAL_SWITCH_ATTEMPTS: Final = 200
WAL_SWITCH_PAUSE_S: Final = 0.05


def use_wal(
    fetch: Callable[[str], Any], attempt: Callable[[str], Any], pause: Callable[[float], Any]
) -> Generator[Any, Any, None]:
    """Switch the file to WAL (readers never block the writer); a no-op once it is. A new file
    (``page_count`` 0, in the default ``delete`` mode) is switched from ``MEMORY``: no rollback
    journal file for its first page (module docstring); the connection's mode is put back if
    the switch does not happen.

    ``fetch(sql)`` must give the statement's rows, ``attempt(sql)`` its rows or the
    ``sqlite3.Error`` it raised, ``pause(seconds)`` wait. An error other than "locked", or
    "locked" on the last attempt, is raised as it came.
    """
    for number in range(WAL_SWITCH_ATTEMPTS):
        mode = str((yield fetch(JOURNAL_MODE))[0][0]).lower()
        if mode == "wal":
            return
        new = mode == "delete" and (yield fetch(PAGE_COUNT))[0][0] == 0
        if new:
            yield fetch(NO_JOURNAL_FILE)
        outcome = yield attempt(USE_WAL)
        if new and (isinstance(outcome, Exception) or str(outcome[0][0]).lower() != "wal"):
            yield attempt(f"PRAGMA journal_mode = {mode}")  # as it was (a temporary file, say)
        if not isinstance(outcome, Exception):
            return
        if "locked" not in str(outcome) or number == WAL_SWITCH_ATTEMPTS - 1:
            raise outcome
        yield pause(WAL_SWITCH_PAUSE_S)


def lock_hint(waited: float, who: str, busy_timeout_s: float) -> str:
    """What to say about "database is locked" after a call that gave up after ``waited``
    seconds; ``who`` waits up to ``busy_timeout_s`` for a lock (``"the store"``)."""
    return (
        f"Another connection holds a lock on the file; this call gave up after {waited:.2f} s "
        f"({who} waits up to {busy_timeout_s:g} s for a lock, but SQLite refuses some steps at "
        "once): keep write transactions short, or retry."
    )
