"""How the PostgreSQL checkpointers write a channel version as text (``version_text``) and
read it back (``version_of``): the key of a value row, of its delta base and of a write that
refers to it. ``_statements`` names both for the shared core (the ``_sql_reads.Statements``
protocol); the migration that shortened stored keys (``_migrations``) writes the same text in
SQL with ``SHORT_KEY`` and ``KEY_DIGITS``.
"""

from __future__ import annotations

from typing import Final

from threadloom.checkpoint._header import version_from_key, version_key

__all__ = ["KEY_DIGITS", "SHORT_KEY", "Version", "version_of", "version_text"]

Version = str | int | float

SHORT_KEY: Final = "}"
"""First character of a short version key (``version_text``); ``_header.version_key``'s keys
start with ``~`` or are JSON text, never with this."""
KEY_DIGITS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
"""The 64 digits of the random part of a short version key (``version_text``)."""
_SHORT_KEYS: dict[str, str] = {}
"""``version_text`` of recent versions: a step names the same few versions many times."""
_SHORT_KEYS_SIZE: Final = 4096


def version_text(version: Version) -> str:
    """A version as stored: ``_header.version_key``, with the random part of a standard string
    version (``next_string_version``: ``~41500.0.018026334103865116``) written as a number in
    base 64 (``}41500`` and 11 digits): 9 bytes fewer in each value row, its base, its key and
    a write referring to it. A standard version whose random part has another shape keeps it
    as text after ``}41500``. Exact both ways (``version_of``); the random part is taken as
    digits, never as a float, so the migration that rewrites stored keys makes the same text."""
    if type(version) is not str:  # not cached: 1, 1.0 and True are one dict key
        return version_key(version)
    key = _SHORT_KEYS.get(version)
    if key is None:
        if len(_SHORT_KEYS) >= _SHORT_KEYS_SIZE:
            _SHORT_KEYS.clear()
        key = _SHORT_KEYS[version] = _short_key(version_key(version))
    return key


def _short_key(key: str) -> str:
    if key[:1] != "~":
        return key
    count = ord(key[1]) - 48
    head, rest = key[1 : 2 + count], key[2 + count :]
    digits = rest[3:]
    if not (rest[:3] == ".0." and 0 < len(digits) <= 30 and digits.isascii() and digits.isdigit()):
        # any other rest (``random`` written ``000.30772938289`` when its digits are few) kept
        # as it is after the short prefix ("." is no key digit): a ``~`` key sorts after every
        # short one, so one of them left the thread's later keys before it, and the index
        # split its pages in halves instead of filling them
        return SHORT_KEY + key[1:] if rest[:1] == "." else key
    n = int("1" + digits)  # the leading 1 keeps the digits' leading zeros
    out = []
    while n:
        n, digit = divmod(n, 64)
        out.append(KEY_DIGITS[digit])
    return SHORT_KEY + head + "".join(reversed(out))


def version_of(text: str) -> Version:
    """The version ``version_text`` stored (a key of ``_header.version_key`` too)."""
    if text[:1] == SHORT_KEY:
        count = ord(text[1]) - 48
        if text[2 + count : 3 + count] == ".":
            text = "~" + text[1:]
        else:
            n = 0
            for digit in text[2 + count :]:
                n = n * 64 + KEY_DIGITS.index(digit)
            text = "~" + text[1 : 2 + count] + ".0." + str(n)[1:]
    value: Version = version_from_key(text)
    return value
