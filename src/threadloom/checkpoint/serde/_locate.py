"""Where stored msgpack bytes stop making sense: the byte offset and the path inside the value.

The fast decoder (ormsgpack) says only *what* went wrong ("invalid UTF-8 string"). This module
runs after it failed, never on the happy path, and finds *where*: it walks the bytes' structure
without building any value, in a loop over an explicit stack (crafted nesting cannot exhaust the
Python stack), descending into the extension records the codec writes (their payload is msgpack
too). It reports the first fault it meets, or, when the decoder failed while rebuilding the
``n``-th extension record (counted in document order), where that record starts.

The rules checked are those ormsgpack enforces with ``OPT_NON_STR_KEYS``: every header complete
and inside its document, strings valid UTF-8, no reserved byte ``0xc1``, dict keys neither maps
nor extension records, and at most ``MAX_CONTAINER_DEPTH`` nested arrays and maps per document.
Bytes after a complete value are ignored, as ormsgpack ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_CONTAINER_DEPTH", "Fault", "joined_path", "locate"]

MAX_CONTAINER_DEPTH: Final = 1022
"""Arrays and maps ormsgpack opens inside one another before refusing ("Recursion limit")."""

_FIXED_SIZES: Final[dict[int, int]] = {
    0xC0: 0, 0xC2: 0, 0xC3: 0,  # nil, false, true
    0xCA: 4, 0xCB: 8,  # float 32/64
    0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8,  # uint 8..64
    0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8,  # int 8..64
}  # fmt: skip
_LENGTH_SIZES: Final[dict[int, tuple[str, int]]] = {
    0xC4: ("bin", 1), 0xC5: ("bin", 2), 0xC6: ("bin", 4),
    0xC7: ("ext", 1), 0xC8: ("ext", 2), 0xC9: ("ext", 4),
    0xD9: ("str", 1), 0xDA: ("str", 2), 0xDB: ("str", 4),
    0xDC: ("array", 2), 0xDD: ("array", 4),
    0xDE: ("map", 2), 0xDF: ("map", 4),
}  # fmt: skip
_KIND_NAMES: Final = {"str": "string", "bin": "bytes value", "ext": "object record"}
_FIXEXT_SIZES: Final[dict[int, int]] = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}


@dataclass(slots=True, frozen=True)
class Fault:
    """A position in stored bytes and what is wrong there."""

    offset: int
    """Byte offset from the start of the stored bytes (extension payloads included)."""
    path: str
    """Where inside the value: ``value['messages'][3]<message>[2]['content']``."""
    reason: str | None
    """What is wrong; None when the walk only found the extension record asked for."""


class _Frame:
    """An open array, map or extension record."""

    __slots__ = (
        "depth", "end", "ext_index", "in_key", "index", "is_map", "key_label", "remaining",
        "seg", "start",
    )  # fmt: skip

    def __init__(self, seg: str, remaining: int, depth: int, in_key: bool, is_map: bool) -> None:
        self.seg = seg  # path segment naming this container inside its parent
        self.remaining = remaining  # values still to read (a map counts keys and values)
        self.index = 0  # values read so far
        self.depth = depth  # arrays and maps open in this document, this one included
        self.in_key = in_key  # this container is (part of) a dict key
        self.is_map = is_map
        self.key_label = ""  # maps: the last key read, as a path segment for its value
        self.start = self.end = self.ext_index = -1  # extension records: payload bounds, number


def locate(
    data: bytes,
    *,
    root: str = "value",
    ext_index: int | None = None,
    ext_names: dict[int, str] | None = None,
    max_ext_depth: int = 1 << 30,
) -> Fault | None:
    """The first fault in ``data``, or where extension record ``ext_index`` starts if it comes
    first; None when neither is found.

    ``ext_names`` maps the extension codes whose payload is msgpack (and is walked) to the names
    shown in paths; records of other codes are skipped whole. ``max_ext_depth`` bounds how many
    walked records may nest.
    """
    names = ext_names or {}
    stack: list[_Frame] = []
    end = len(data)  # end of the current document: the whole data, or an extension payload
    pos = ext_count = ext_depth = 0

    def fault(offset: int, reason: str | None, last: str) -> Fault:
        return Fault(offset, joined_path(root, [*(frame.seg for frame in stack), last]), reason)

    while True:
        parent = stack[-1] if stack else None
        seg, in_key, depth = _slot(parent)
        start = pos
        if pos >= end:
            return fault(start, "the bytes end before this value", seg)
        head = data[pos]
        label = ""
        if head <= 0x7F or head >= 0xE0 or head in _FIXED_SIZES:  # numbers, nil, booleans
            pos += 1 + _FIXED_SIZES.get(head, 0)
            if pos > end:
                return fault(start, "the bytes end inside a number", seg)
            if head <= 0x7F or head >= 0xE0:
                label = f"[{head if head <= 0x7F else head - 0x100}]"
        elif head <= 0x9F or head in (0xDC, 0xDD, 0xDE, 0xDF):  # array or map
            is_map = head <= 0x8F or head >= 0xDE
            if head <= 0x9F:
                count, pos = head & 0x0F, pos + 1
            else:
                size = _LENGTH_SIZES[head][1]
                if pos + 1 + size > end:
                    return fault(start, "the bytes end inside a list or dict header", seg)
                count = int.from_bytes(data[pos + 1 : pos + 1 + size], "big")
                pos += 1 + size
            if is_map and in_key:
                return fault(start, "a dict key cannot be a dict", seg)
            if depth + 1 > MAX_CONTAINER_DEPTH:
                return fault(start, f"more than {MAX_CONTAINER_DEPTH} lists and dicts nest", seg)
            if count:
                stack.append(_Frame(seg, count * 2 if is_map else count, depth + 1, in_key, is_map))
                continue
        elif head == 0xC1:
            return fault(start, "byte 0xc1 is never used in msgpack", seg)
        else:  # str, bin or ext
            kind, length, pos = _sized(data, pos, head)
            if pos > end:
                return fault(start, f"the bytes end inside a {_KIND_NAMES[kind]} header", seg)
            if pos + length > end:
                return fault(
                    start, f"the bytes end inside a {length}-byte {_KIND_NAMES[kind]}", seg
                )
            if kind == "str":
                try:
                    text = data[pos : pos + length].decode("utf-8")
                except UnicodeDecodeError as exc:
                    return fault(pos + exc.start, "a string is not valid UTF-8", seg)
                label = f"[{_short(text)!r}]"
            elif kind == "ext":
                if in_key:
                    return fault(start, "a dict key cannot be an object", seg)
                code = int.from_bytes(data[pos - 1 : pos], "big", signed=True)
                number, ext_count = ext_count, ext_count + 1
                name = f"<{names.get(code, f'ext {code}')}>"
                if code in names and ext_depth + 1 > max_ext_depth:
                    return fault(start, f"more than {max_ext_depth} objects nest", seg)
                if code in names and not length:
                    return fault(start, "an object record is empty", seg + name)
                if code in names:
                    frame = _Frame(seg + name, 1, 0, False, False)
                    frame.start, frame.end, frame.ext_index = start, pos + length, number
                    stack.append(frame)
                    end, ext_depth = pos + length, ext_depth + 1
                    continue
                if number == ext_index:
                    return fault(start, None, seg + name)
            pos += length

        # A value is complete: count it in its container, and close what it completes.
        while stack:
            top = stack[-1]
            if top.is_map and top.index % 2 == 0:
                top.key_label = label
            top.index += 1
            top.remaining -= 1
            if top.remaining:
                break
            stack.pop()
            label = ""
            if top.end >= 0:
                ext_depth -= 1
                end = next((f.end for f in reversed(stack) if f.end >= 0), len(data))
                if top.ext_index == ext_index:
                    return fault(top.start, None, top.seg)
                pos = top.end  # bytes left in a payload after its value are ignored
        if not stack:
            return None


def joined_path(root: str, segments: list[str]) -> str:
    """A path for a message: only the first and last parts of a very deep one."""
    if len(segments) <= 24:
        return root + "".join(segments)
    skipped = len(segments) - 16
    return f"{root}{''.join(segments[:8])}...({skipped} levels)...{''.join(segments[-8:])}"


def _slot(parent: _Frame | None) -> tuple[str, bool, int]:
    """``(path segment, inside a dict key, lists and dicts open)`` for the next value."""
    if parent is None or parent.end >= 0:  # top level, or an extension record's payload
        return "", False, 0
    if not parent.is_map:
        return f"[{parent.index}]", parent.in_key, parent.depth
    if parent.index % 2 == 0:
        return f"<key {parent.index // 2}>", True, parent.depth
    return parent.key_label or f"<value {parent.index // 2}>", parent.in_key, parent.depth


def _sized(data: bytes, pos: int, head: int) -> tuple[str, int, int]:
    """``(kind, payload length, payload offset)`` of a str, bin or ext header at ``pos``.

    An ext's offset is past its type byte. An offset beyond the data means a cut header.
    """
    if 0xA0 <= head <= 0xBF:
        return "str", head & 0x1F, pos + 1
    if head in _FIXEXT_SIZES:
        return "ext", _FIXEXT_SIZES[head], pos + 2
    kind, size = _LENGTH_SIZES[head]
    if pos + 1 + size > len(data):
        return kind, 0, len(data) + 1
    length = int.from_bytes(data[pos + 1 : pos + 1 + size], "big")
    return kind, length, pos + 1 + size + (kind == "ext")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
