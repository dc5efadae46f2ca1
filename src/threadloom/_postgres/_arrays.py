"""Arrays sent to PostgreSQL in its binary array format, without psycopg's per-call guessing.

A step is sent as one statement whose rows are bound column by column, one array per column
(``checkpoint/postgres/_statements.PUT_STEP``). psycopg adapts a plain ``list`` by scanning it to
guess its element type and building a dumper for that type, on every call and for every array:
on a chat turn that was most of the client's time spent sending a step. A column wrapped in one
of these ``list`` subclasses says its type: its dumper writes the binary array directly (header,
then each element's length and bytes), which the server reads without parsing text.

The dumpers are registered on psycopg's global adapters when this module is imported, so every
connection opened afterwards (threadloom's own, from a DSN or a pool) has them. A connection
opened before still works: psycopg finds the ``list`` dumper through the class's bases.
"""

from __future__ import annotations

import struct
from typing import Any, ClassVar

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

__all__ = ["BoolArray", "ByteaArray", "IntArray", "TextArray"]

_HEADER = struct.Struct("!iiIii")
"""ndim, has-null flag, element oid, length, lower bound (one dimension)."""
_EMPTY = struct.Struct("!iiI")
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)
_INT4 = struct.Struct("!ii")
"""An int4 element: its length (4), its value."""


class TextArray(list[str | None]):
    """A ``text[]`` parameter."""


class ByteaArray(list[bytes | None]):
    """A ``bytea[]`` parameter."""


class IntArray(list[int | None]):
    """An ``integer[]`` parameter (values must fit in 32 bits)."""


class BoolArray(list[bool | None]):
    """A ``boolean[]`` parameter."""


def _array(element_oid: int, items: list[bytes | None]) -> bytes:
    if not items:
        return _EMPTY.pack(0, 0, element_oid)
    has_null = any(item is None for item in items)
    parts = [_HEADER.pack(1, int(has_null), element_oid, len(items), 1)]
    pack = _LENGTH.pack
    for item in items:
        parts.append(_NULL if item is None else pack(len(item)) + item)
    return b"".join(parts)


class _ArrayDumper(Dumper):
    format = Format.BINARY
    element_oid: ClassVar[int]

    def encode(self, item: Any) -> bytes:
        raise NotImplementedError

    def dump(self, obj: Any) -> bytes:
        encode = self.encode
        return _array(self.element_oid, [None if x is None else encode(x) for x in obj])


class _TextArrayDumper(_ArrayDumper):
    oid = 1009
    element_oid = 25

    def encode(self, item: Any) -> bytes:
        return str(item).encode()


class _ByteaArrayDumper(_ArrayDumper):
    oid = 1001
    element_oid = 17

    def encode(self, item: Any) -> bytes:
        return bytes(item)


class _BoolArrayDumper(_ArrayDumper):
    oid = 1000
    element_oid = 16

    def encode(self, item: Any) -> bytes:
        return b"\x01" if item else b"\x00"


class _IntArrayDumper(Dumper):
    format = Format.BINARY
    oid = 1007

    def dump(self, obj: Any) -> bytes:
        if not obj:
            return _EMPTY.pack(0, 0, 23)
        if any(x is None for x in obj):
            items = [None if x is None else struct.pack("!i", x) for x in obj]
            return _array(23, items)
        pack = _INT4.pack
        return _HEADER.pack(1, 0, 23, len(obj), 1) + b"".join(pack(4, x) for x in obj)


for _cls, _dumper in (
    (TextArray, _TextArrayDumper),
    (ByteaArray, _ByteaArrayDumper),
    (IntArray, _IntArrayDumper),
    (BoolArray, _BoolArrayDumper),
):
    psycopg.adapters.register_dumper(_cls, _dumper)
