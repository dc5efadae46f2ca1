"""Facts that a list is an earlier list with elements appended, handed on by identity.

A saver stores a list channel's new version as a delta when it only appends to the version the
saver stored last (``checkpoint/_delta.py``). Comparing the whole prefix element by element
costs O(list) on every step; pure Python cannot prove an unchanged prefix any cheaper. The code
that builds the new list can, so it says so, and the saver checks in O(1):

1. A reducer that returns a new list made of ``old``'s elements followed by new ones calls
   ``note_appended(new, old)`` (``add_messages`` does). The list channel takes that note right
   after calling its reducer (``take_note``); for ``operator.add`` on two lists it needs none.
2. When a checkpoint is made, the channel ``publish``es what it knows of its value: "``value``
   is ``base``'s first ``length`` elements plus a tail".
3. The saver ``claim``s the fact of the value it stores. When ``base`` is the very list it
   stored (or returned) last, still of the length it had then, only the tail is new; otherwise
   it falls back to the full compare.

A saver that hands out a copy of a list it stored says so too (``note_copy``): a reducer that
knows something of the stored list (``add_messages`` knows its message ids) then knows it of the
copy, which is what the next run's channel starts from (``copied_from``).

Nothing is guessed: a reducer that replaces an element in the middle makes no note, so its
list takes the full compare. (A node that changes a state list *in place* rather than returning
an update is not supported by LangGraph either; the length check catches appends and removals
made that way, not an element replaced in place.)
"""

from __future__ import annotations

import threading
from typing import Any, Final

__all__ = [
    "claim",
    "copied_from",
    "note_appended",
    "note_copy",
    "publish",
    "take_copy_source",
    "take_note",
]

_notes = threading.local()


def note_appended(new: list[Any], old: list[Any]) -> None:
    """Say that ``new`` (a fresh list) starts with exactly the elements ``old`` holds now."""
    _notes.last = (new, old, len(old))


def take_note(new: object, old: object) -> bool:
    """Whether the reducer just called on ``old`` noted that ``new`` appends to it; clears it."""
    last: tuple[list[Any], list[Any], int] | None = getattr(_notes, "last", None)
    if last is None:
        return False
    _notes.last = None
    return last[0] is new and last[1] is old and last[2] == len(last[1])


_SIZE: Final = 32
"""Published facts kept at most: a saver claims a step's facts at once; an unclaimed one (durability
"exit" saves only the last checkpoint) ages out, so few old lists are kept alive."""

_facts: dict[int, tuple[list[Any], list[Any], int]] = {}
_lock = threading.Lock()


def publish(value: list[Any], base: list[Any], length: int) -> None:
    """Record that ``value`` is ``base``'s first ``length`` elements followed by a tail."""
    with _lock:
        if len(_facts) >= _SIZE:
            _facts.pop(next(iter(_facts)))
        # The entry holds ``value`` itself, so its id() is not reused while the fact is kept.
        _facts[id(value)] = (value, base, length)


def claim(value: object) -> tuple[list[Any], int] | None:
    """The ``(base, length)`` published for ``value``, taken out; None if there is none."""
    with _lock:
        fact = _facts.pop(id(value), None)
    if fact is None or fact[0] is not value:
        return None
    return fact[1], fact[2]


_copies: dict[int, tuple[list[Any], list[Any], int]] = {}


def note_copy(copy: list[Any], source: list[Any]) -> None:
    """Say that ``copy`` (a fresh list) holds exactly the elements ``source`` holds now.

    A copy of a copy names the first source, so one lookup finds what is known of it.
    """
    source = copied_from(source) or source
    with _lock:
        if len(_copies) >= _SIZE:
            _copies.pop(next(iter(_copies)))
        # The entry holds ``copy`` itself, so its id() is not reused while the note is kept.
        _copies[id(copy)] = (copy, source, len(source))


def copied_from(value: object) -> list[Any] | None:
    """The list ``value`` was noted a copy of, while both still have the length they had then."""
    entry = _copies.get(id(value))
    if entry is None or entry[0] is not value:
        return None
    copy, source, length = entry
    return source if len(copy) == length and len(source) == length else None


def take_copy_source(value: object) -> list[Any] | None:
    """``copied_from(value)``, the note dropped: a reducer that extends the copy makes a new
    list, so the note (and the copy it keeps alive) would only wait to age out."""
    source = copied_from(value)
    if source is not None:
        with _lock:
            _copies.pop(id(value), None)
    return source
