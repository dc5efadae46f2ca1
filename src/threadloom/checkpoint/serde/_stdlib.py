"""Standard-library value types as a fixed table: how each turns into plain arguments and back.

Stored bytes name these types by a short tag ("datetime", "uuid", ...), never by module path,
and rebuilding calls only the function in this table: nothing named in the bytes is imported.
Nested parts (a datetime's tzinfo, a set's items) are encoded recursively by the codec.
"""

from __future__ import annotations

import ipaddress
import pathlib
import re
import uuid
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

__all__ = ["BY_TAG", "BY_TYPE", "SURROGATE_STR", "StdlibType"]


@dataclass(slots=True, frozen=True)
class StdlibType:
    """One row of the table."""

    tag: str
    """Stored name; stable across Python versions (unlike module paths such as pathlib._local)."""
    to_args: Callable[[Any], Any]
    """Value → msgpack-able arguments (may contain further values the codec encodes)."""
    from_args: Callable[[Any], Any]
    """Arguments → value; the only code run when such bytes are loaded."""


def _zone_key(zone: ZoneInfo) -> str:
    if zone.key is None:
        raise TypeError("a ZoneInfo loaded from a file has no key to store")
    return zone.key


def _from_text(cls: Callable[[str], Any]) -> Callable[[Any], Any]:
    """``cls`` built only from the ``str`` the encoder wrote (an address from an int or bool
    would be a different value, and not what was stored)."""

    def build(text: Any) -> Any:
        if not isinstance(text, str):
            raise TypeError(f"stored as a str, not {type(text).__name__}")
        return cls(text)

    return build


def _bytearray(data: Any) -> bytearray:
    if not isinstance(data, bytes):  # bytearray(10**9) would allocate a gigabyte of zeros
        raise TypeError(f"a bytearray is stored as bytes, not {type(data).__name__}")
    return bytearray(data)


_ROWS: Final[tuple[tuple[tuple[type, ...], StdlibType], ...]] = (
    ((tuple,), StdlibType("tuple", list, tuple)),
    ((set,), StdlibType("set", list, set)),
    ((frozenset,), StdlibType("frozenset", list, frozenset)),
    ((deque,), StdlibType("deque", lambda d: [list(d), d.maxlen], lambda a: deque(a[0], a[1]))),
    ((bytearray,), StdlibType("bytearray", bytes, _bytearray)),
    ((int,), StdlibType("bigint", str, int)),  # only ints beyond 64 bits reach the table
    ((complex,), StdlibType("complex", lambda c: [c.real, c.imag], lambda a: complex(*a))),
    ((range,), StdlibType("range", lambda r: [r.start, r.stop, r.step], lambda a: range(*a))),
    ((OrderedDict,), StdlibType("OrderedDict", lambda d: list(d.items()), OrderedDict)),
    ((Counter,), StdlibType("Counter", dict, Counter)),
    (
        (datetime,),
        StdlibType(
            "datetime",
            lambda d: [*d.timetuple()[:6], d.microsecond, d.tzinfo, d.fold],
            lambda a: datetime(*a[:7]).replace(tzinfo=a[7], fold=a[8]),
        ),
    ),
    ((date,), StdlibType("date", lambda d: [d.year, d.month, d.day], lambda a: date(*a))),
    (
        (time,),
        StdlibType(
            "time",
            lambda t: [t.hour, t.minute, t.second, t.microsecond, t.tzinfo, t.fold],
            lambda a: time(*a[:4]).replace(tzinfo=a[4], fold=a[5]),
        ),
    ),
    (
        (timedelta,),
        StdlibType(
            "timedelta", lambda d: [d.days, d.seconds, d.microseconds], lambda a: timedelta(*a)
        ),
    ),
    (
        (timezone,),
        StdlibType("timezone", lambda z: list(z.__getinitargs__()), lambda a: timezone(*a)),
    ),
    ((ZoneInfo,), StdlibType("ZoneInfo", _zone_key, ZoneInfo)),
    ((uuid.UUID,), StdlibType("UUID", lambda u: u.bytes, lambda b: uuid.UUID(bytes=b))),
    ((Decimal,), StdlibType("Decimal", str, Decimal)),
    ((pathlib.PosixPath, pathlib.WindowsPath), StdlibType("Path", str, pathlib.Path)),
    ((pathlib.PurePosixPath,), StdlibType("PurePosixPath", str, pathlib.PurePosixPath)),
    ((pathlib.PureWindowsPath,), StdlibType("PureWindowsPath", str, pathlib.PureWindowsPath)),
    (
        (re.Pattern,),
        StdlibType("Pattern", lambda p: [p.pattern, p.flags], lambda a: re.compile(a[0], a[1])),
    ),
    *(
        ((cls,), StdlibType(cls.__name__, str, _from_text(cls)))
        for cls in (
            ipaddress.IPv4Address,
            ipaddress.IPv6Address,
            ipaddress.IPv4Interface,
            ipaddress.IPv6Interface,
            ipaddress.IPv4Network,
            ipaddress.IPv6Network,
        )
    ),
)

BY_TYPE: Final[Mapping[type, StdlibType]] = {cls: row for classes, row in _ROWS for cls in classes}
"""Exact type → row. Subclasses are not matched: they are user types and need allowing."""

SURROGATE_STR: Final = StdlibType(
    "str+surrogates",
    lambda text: text.encode("utf-8", "surrogatepass"),
    lambda raw: raw.decode("utf-8", "surrogatepass"),
)
"""A ``str`` holding lone surrogates (``"a\\ud800"``, from ``os.fsdecode`` or JSON escapes), which
UTF-8 and so msgpack cannot carry: stored as its surrogate-preserving bytes. Never matched by type
(a ``str`` is native); the codec picks it only for such strings."""

BY_TAG: Final[Mapping[str, StdlibType]] = {
    **{row.tag: row for _, row in _ROWS},
    SURROGATE_STR.tag: SURROGATE_STR,
}
