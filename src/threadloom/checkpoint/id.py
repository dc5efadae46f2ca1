"""Time-ordered checkpoint ids (UUIDv6 layout) that sort chronologically as strings.

"Latest checkpoint" and ``list(before=...)`` compare ids as strings, so ids made later in a process
must sort higher. This module hands out such ids: a 60-bit timestamp in 100 ns units, forced
strictly increasing within the process, with the superstep number masked into ``clock_seq``
(step -1 shows as ``bfff``, step 0 as ``8000``) and a random node.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid

__all__ = ["uuid4_str", "uuid6", "uuid6_str"]

# 100 ns intervals between the Gregorian epoch (1582-10-15) and the Unix epoch, as in RFC 9562.
_GREGORIAN_OFFSET = 0x01B21DD213814000
_lock = threading.Lock()
_last_timestamp = 0
_time_ns = time.time_ns
_getrandbits = random.getrandbits


def _next_timestamp() -> int:
    """A 60-bit timestamp, strictly greater than any returned before in this process."""
    global _last_timestamp
    now = time.time_ns() // 100 + _GREGORIAN_OFFSET
    with _lock:
        # Two calls within one 100 ns tick, or a clock stepped back, must still sort in call order.
        _last_timestamp = max(now, _last_timestamp + 1)
        return _last_timestamp & 0x0FFF_FFFF_FFFF_FFFF


def uuid6(node: int | None = None, clock_seq: int | None = None) -> uuid.UUID:
    """Return a UUIDv6: time-ordered, so ``str`` order is creation order within the process.

    ``clock_seq`` carries the superstep (masked to 14 bits, so -1 becomes 0x3fff); ``node``
    defaults to 48 random bits.
    """
    timestamp = _next_timestamp()
    if node is None:
        node = random.getrandbits(48)
    if clock_seq is None:
        clock_seq = random.getrandbits(14)
    time_high_and_mid = timestamp >> 12  # the top 48 bits, most significant first
    time_low = timestamp & 0x0FFF
    value = (time_high_and_mid << 80) | (0x6 << 76) | (time_low << 64)
    value |= (0b10 << 62) | ((clock_seq & 0x3FFF) << 48) | (node & 0xFFFF_FFFF_FFFF)
    return uuid.UUID(int=value)


def uuid6_str(clock_seq: int, now_ns: int | None = None) -> str:
    """``str(uuid6(clock_seq=clock_seq))``, without building a ``UUID`` (the engine's hot path:
    one per step): the fields are formatted straight from the timestamp. ``now_ns``: the
    ``time.time_ns()`` the caller read already (a checkpoint's id and ``ts`` share one read).

    The first two fields (the top 48 timestamp bits) change once per 409.6 µs: formatted once
    then and kept (``_head``). Formatting is printf-style: an f-string's ``:04x`` goes through
    the general format-spec machinery (parse, locale grouping), about twice the work."""
    global _last_timestamp, _head
    now = (_time_ns() if now_ns is None else now_ns) // 100 + _GREGORIAN_OFFSET
    with _lock:  # as in _next_timestamp, inlined
        _last_timestamp = timestamp = max(now, _last_timestamp + 1)
    timestamp &= 0x0FFF_FFFF_FFFF_FFFF
    top = timestamp >> 12
    head = _head  # one tuple, read and replaced whole: safe across threads
    if head[0] != top:
        head = _head = (top, "%08x-%04x-" % (top >> 16, top & 0xFFFF))  # noqa: UP031 (speed)
    # version 6 then the low 12 timestamp bits; variant 0b10 then the step; a random node
    return "%s%04x-%04x-%012x" % (  # noqa: UP031 - printf-style is the point (docstring)
        head[1],
        0x6000 | (timestamp & 0x0FFF),
        0x8000 | (clock_seq & 0x3FFF),
        _getrandbits(48),
    )


_head: tuple[int, str] = (-1, "")
"""The top 48 timestamp bits ``uuid6_str`` formatted last, and their text: ``"hhhhhhhh-mmmm-"``."""


_urandom = os.urandom
_uuid4 = uuid.uuid4


def uuid4_str() -> str:
    """``str(uuid.uuid4())`` (16 bytes of ``os.urandom``, version 4, variant 0b10), without
    building a ``UUID``: a message without an id gets one in every reducer step that sees it.
    A test that patches ``uuid.uuid4`` for repeatable ids gets them, as with LangGraph."""
    if uuid.uuid4 is not _uuid4:
        return str(uuid.uuid4())
    value = int.from_bytes(_urandom(16))
    value = value & ~(0xF000 << 64 | 0xC000 << 48) | (0x4000 << 64 | 0x8000 << 48)
    x = "%032x" % value  # noqa: UP031 - printf-style: speed (as uuid6_str)
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
