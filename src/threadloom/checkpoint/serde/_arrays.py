"""Joining msgpack arrays without decoding them: savers build a long list from stored pieces.

msgpack elements are self-delimiting, so the elements of several arrays can be concatenated
under one header holding the total count.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["join_arrays"]


def _array_header(data: bytes) -> tuple[int, int] | None:
    """``(element count, header size)`` of msgpack array bytes, or None if not an array."""
    if not data:
        return None
    first = data[0]
    if 0x90 <= first <= 0x9F:
        return first & 0x0F, 1
    if first == 0xDC and len(data) >= 3:
        return int.from_bytes(data[1:3], "big"), 3
    if first == 0xDD and len(data) >= 5:
        return int.from_bytes(data[1:5], "big"), 5
    return None


def join_arrays(parts: Sequence[bytes]) -> bytes | None:
    """Concatenate msgpack arrays: one header for the total count, then every element's bytes.

    msgpack elements are self-delimiting, so the bodies can be joined as they are.
    """
    total = 0
    bodies = []
    for part in parts:
        header = _array_header(part)
        if header is None:
            return None
        count, size = header
        total += count
        bodies.append(memoryview(part)[size:])
    if total < 16:
        head = bytes([0x90 | total])
    elif total < 1 << 16:
        head = b"\xdc" + total.to_bytes(2, "big")
    elif total < 1 << 32:
        head = b"\xdd" + total.to_bytes(4, "big")
    else:
        return None
    return b"".join([head, *bodies])
