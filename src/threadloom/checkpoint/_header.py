"""The compact checkpoint header the SQL savers store, for every backend.

A stored header is the checkpoint without its channel values. Written whole, a chat checkpoint's
header is ~500 bytes, most of it five copies of 52-character version strings
(``next_string_version``: 32 zero-padded digits, a dot, a random float), plus the checkpoint id,
which the row already holds as its key. ``pack_header`` writes the same content as a list::

    [HEADER_FORMAT, v, ts, versions, channel_versions, versions_seen, updated_channels]

(plus ``pending_sends`` as an eighth element when the header has that legacy key)

- ``versions``: each distinct version once: an ``int``/``float`` as it is, a standard string
  version as ``[n, random]`` (an int and a float, ~12 bytes packed), any other string as it is;
- ``channel_versions`` and ``versions_seen``: the same dicts with each version replaced by its
  index in ``versions``;
- ``ts``: microseconds since the epoch when that gives back the very same text, else the text;
- no ``id``: ``unpack_header`` takes it from the row's key.

Every part is checked to round-trip exactly when packed, else that part is kept as it was; a
header with keys beyond these (legacy ``pending_sends``) is stored whole, as are headers written
before this format: ``unpack_header`` tells the two apart (a dict is a whole header). The list
still goes through the saver's serializer, so an encrypting serializer encrypts it as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from itertools import filterfalse
from typing import Any, Final

__all__ = [
    "HEADER_FORMAT",
    "channel_versions_of",
    "note_version",
    "pack_header",
    "pack_version",
    "unpack_header",
    "unpack_version",
    "version_from_key",
    "version_key",
]

HEADER_FORMAT: Final = 1
"""First element of a packed header; a later format gets a new number."""

_PACKED_KEYS: Final = frozenset(
    {"v", "id", "ts", "channel_versions", "versions_seen", "updated_channels"}
)
_LEGACY_KEYS: Final = _PACKED_KEYS | {"pending_sends"}
"""``empty_checkpoint`` still adds ``pending_sends`` (format < 4): packed as an 8th element."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)
_INT64: Final = 2**63


def pack_version(version: Any) -> Any:
    """A channel version in its packed form (module docstring); the version itself when it has
    no shorter exact form."""
    if type(version) is not str or len(version) < 34 or version[32] != ".":
        return version
    digits, rest = version[:32], version[33:]
    if not (digits.isascii() and digits.isdigit()):
        return version
    try:
        random = float(rest)
    except ValueError:
        return version
    n = int(digits)
    if n >= _INT64 or repr(random).zfill(16) != rest:
        return version
    _remember_text(n, random, version)
    return [n, random]


def unpack_version(packed: Any) -> Any:
    """The version ``pack_version`` packed."""
    if type(packed) is list:
        n, random = packed
        return _TEXTS.get((n, random)) or _version_text(n, random)
    return packed


def _version_text(n: int, random: float) -> str:
    return str(n).zfill(32) + "." + repr(random).zfill(16)


_TEXTS: dict[tuple[int, float], str] = {}
"""The text of recent packed versions, by ``(n, random)``: a float's ``repr`` costs more than
the rest of a version's unpacking, and a saver reads back the versions it just wrote. Never
holds a zero ``random`` (``0.0 == -0.0``, whose texts differ)."""


def _remember_text(n: int, random: float, version: str) -> None:
    if random:
        if len(_TEXTS) >= _PACKED_CACHE_SIZE:
            _TEXTS.clear()
        _TEXTS[(n, random)] = version


def note_version(version: str, n: int, random: float) -> None:
    """Tell the caches that ``version`` is ``next_string_version``'s text of ``n`` and
    ``random`` (``str(n).zfill(32) + "." + repr(random).zfill(16)``): its packed form and its
    text are then known without parsing or ``repr`` (what ``pack_version`` would find)."""
    if n < _INT64 and len(_PACKED_CACHE) < _PACKED_CACHE_SIZE:  # never clears: a pack may
        _PACKED_CACHE[version] = [n, random]  # be reading the cache in another thread
        _remember_text(n, random, version)


_TS_TEXTS: dict[int, str] = {}
"""The text of recent packed timestamps, by microseconds (``_pack_ts``'s canonical ones)."""


def _pack_ts(ts: str) -> int | str:
    if (
        len(ts) == 32
        and ts[26:] == "+00:00"
        and ts[19] == "."
        and ts[10] == "T"
        and ts[20:26].isdigit()
    ):
        # ``isoformat()`` of a UTC time with microseconds (every engine checkpoint's): it reads
        # back as is, so no round trip is checked
        try:
            micros = (datetime.fromisoformat(ts) - _EPOCH) // _MICROSECOND
        except ValueError:
            return ts
        if len(_TS_TEXTS) >= _PACKED_CACHE_SIZE:
            _TS_TEXTS.clear()
        _TS_TEXTS[micros] = ts
        return micros
    try:
        moment = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    if moment.tzinfo is not UTC and moment.utcoffset() != timedelta(0):
        return ts
    micros = (moment - _EPOCH) // _MICROSECOND
    return micros if _unpack_ts(micros) == ts else ts


def _unpack_ts(packed: Any) -> Any:
    if type(packed) is int:
        return _TS_TEXTS.get(packed) or (_EPOCH + packed * _MICROSECOND).isoformat()
    return packed


_PACKED_CACHE: dict[str, Any] = {}
"""``pack_version`` of recent string versions: consecutive headers share most of theirs."""
_PACKED_CACHE_SIZE: Final = 4096


class _Index(dict[Any, int]):
    """Version (or ``(type, version)``) -> its index in ``packed``; a str version met for the
    first time is packed and given the next index (``__missing__``), so a mapping of str
    versions is turned into indices by one C-level pass (``_Versions.refs``)."""

    __slots__ = ("packed",)

    def __init__(self) -> None:
        super().__init__()
        self.packed: list[Any] = []

    def __missing__(self, version: str) -> int:
        cache = _PACKED_CACHE
        form = cache.get(version)
        if form is None:
            if len(cache) >= _PACKED_CACHE_SIZE:
                cache.clear()
            form = cache[version] = pack_version(version)
        found = self[version] = len(self.packed)
        self.packed.append(form)
        return found


_ONLY_STR: Final = {str}


class _Versions:
    """The distinct versions of one header, packed, in the order first met."""

    __slots__ = ("index", "packed")

    def __init__(self) -> None:
        self.index = _Index()
        self.packed = self.index.packed

    def refs(self, versions: Mapping[str, Any]) -> dict[str, int] | None:
        """``versions`` with each version replaced by its index; None if one is not a str,
        int or float (only those have an unambiguous packed form)."""
        if set(map(type, versions.values())) == _ONLY_STR:  # the usual header: in C
            indices = map(self.index.__getitem__, versions.values())
            return dict(zip(versions.keys(), indices, strict=True))
        out = {}
        index, packed = self.index, self.packed
        for channel, version in versions.items():
            kind = type(version)
            if kind is str:
                out[channel] = index[version]
            elif kind is int or kind is float:
                key = (kind, version)  # 1 and 1.0 are different versions
                found = index.get(key)  # no __missing__: stored as they are
                if found is None:
                    found = index[key] = len(packed)
                    packed.append(version)
                out[channel] = found
            else:
                return None
        return out


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # a dict without the ABC check


def pack_header(header: Mapping[str, Any]) -> Any:
    """The header (a checkpoint without ``channel_values``) as stored: packed when it has only
    the usual keys and well-formed versions, else the header dict itself."""
    keys = header.keys()
    if (keys != _PACKED_KEYS and keys != _LEGACY_KEYS) or type(header["ts"]) is not str:
        return header
    seen = header["versions_seen"]
    if not _is_mapping(seen):
        return header
    channel_versions = header["channel_versions"]
    every = list(channel_versions.values())
    for by_node in seen.values():
        if type(by_node) is not dict and not isinstance(by_node, Mapping):
            return header
        every += by_node.values()
    packed: list[Any]
    refs: dict[str, int] | None
    versions_seen: dict[str, dict[str, int] | None]
    if set(map(type, every)) == _ONLY_STR:
        packed, refs, versions_seen = _pack_str_versions(every, channel_versions, seen)
    else:  # ints, floats (or a version of another type: stored as it is)
        versions = _Versions()
        refs = versions.refs(channel_versions)
        versions_seen = {node: versions.refs(by_node) for node, by_node in seen.items()}
        if refs is None or None in versions_seen.values():
            return header
        packed = versions.packed
    out = [
        HEADER_FORMAT,
        header["v"],
        _pack_ts(header["ts"]),
        packed,
        refs,
        versions_seen,
        header["updated_channels"],
    ]
    if "pending_sends" in header:
        out.append(header["pending_sends"])
    return out


def _pack_str_versions(
    every: list[str], channel_versions: Mapping[str, str], seen: Mapping[str, Mapping[str, str]]
) -> tuple[list[Any], dict[str, int], dict[str, dict[str, int] | None]]:
    """``pack_header``'s parts for the usual header, whose versions are all strings: the same
    lists and dicts as ``_Versions`` builds (each distinct version indexed in the order first
    met), made by C-level passes: a Python step only per version not packed recently."""
    distinct = list(dict.fromkeys(every))
    cache = _PACKED_CACHE
    # most versions were packed recently: each looked up (C-level), never the whole cache
    # walked (``distinct - cache.keys()`` did: ~45 µs a header once it has filled)
    new = list(filterfalse(cache.__contains__, distinct))
    if new:
        if len(cache) + len(new) > _PACKED_CACHE_SIZE:
            cache.clear()
            new = distinct  # the header's other versions went with the rest
        for version in new:
            cache[version] = pack_version(version)
    try:
        packed = list(map(cache.__getitem__, distinct))
    except KeyError:  # another thread's header cleared the cache meanwhile
        packed = list(map(pack_version, distinct))
    get = dict(zip(distinct, range(len(distinct)), strict=True)).__getitem__
    refs = dict(zip(channel_versions.keys(), map(get, channel_versions.values()), strict=True))
    versions_seen: dict[str, dict[str, int] | None] = {
        node: dict(zip(by_node.keys(), map(get, by_node.values()), strict=True))
        for node, by_node in seen.items()
    }
    return packed, refs, versions_seen


def unpack_header(stored: Any, checkpoint_id: str) -> dict[str, Any]:
    """The header dict of a stored header (packed or whole), with ``id`` = ``checkpoint_id``."""
    if isinstance(stored, dict):
        return stored
    _format, v, ts, packed, channel_versions, versions_seen, updated_channels, *legacy = stored
    get = _unpack_versions(packed).__getitem__
    header = {  # C-level passes: every read of a checkpoint (a history walk: each) unpacks one
        "v": v,
        "id": checkpoint_id,
        "ts": _unpack_ts(ts),
        "channel_versions": dict(
            zip(channel_versions.keys(), map(get, channel_versions.values()), strict=True)
        ),
        "versions_seen": {
            node: dict(zip(by_node.keys(), map(get, by_node.values()), strict=True))
            for node, by_node in versions_seen.items()
        },
        "updated_channels": updated_channels,
    }
    if legacy:
        header["pending_sends"] = legacy[0]
    return header


def channel_versions_of(stored: Any) -> dict[str, Any]:
    """The ``channel_versions`` of a stored header (packed or whole)."""
    if isinstance(stored, dict):
        return stored["channel_versions"]  # type: ignore[no-any-return]
    get = _unpack_versions(stored[3]).__getitem__
    refs = stored[4]
    return dict(zip(refs.keys(), map(get, refs.values()), strict=True))


_PAIR: Final = {list}


def _unpack_versions(packed: list[Any]) -> list[Any]:
    """``unpack_version`` of each packed version: inline when all are standard (``[n, random]``)."""
    if set(map(type, packed)) == _PAIR:
        known = _TEXTS.get
        return [known((n, random)) or _version_text(n, random) for n, random in packed]
    return list(map(unpack_version, packed))


_KEYS: dict[str, str] = {}
"""``version_key`` of recent string versions: a put binds each of its versions once or twice,
and the next put most of them again."""
_KEYS_SIZE: Final = 4096


def version_key(version: Any) -> str:
    """A version as the text a SQL row is keyed by: short, and in the versions' order.

    A string that starts with 32 ASCII digits (``next_string_version``'s) is written ``~``, one
    character for the count of its significant digits (``chr(48 + count)``), those digits, then
    the rest as it is: ``"~41499.0.5723763004387995"`` for ``"00…01499.0.5723763004387995"``.
    Anything else is its JSON text, which never starts with ``~``.
    """
    if type(version) is str:
        key = _KEYS.get(version)
        if key is None:
            if len(_KEYS) >= _KEYS_SIZE:
                _KEYS.clear()
            key = _KEYS[version] = _string_key(version)
        return key
    return json.dumps(version)


def _string_key(version: str) -> str:
    if len(version) >= 32:
        digits = version[:32]
        if digits.isascii() and digits.isdigit():
            significant = digits.lstrip("0") or "0"
            return "~" + chr(48 + len(significant)) + significant + version[32:]
    return json.dumps(version)


def version_from_key(text: str) -> Any:
    """The version ``version_key`` wrote."""
    if text.startswith("~"):
        count = ord(text[1]) - 48
        return text[2 : 2 + count].zfill(32) + text[2 + count :]
    return json.loads(text)
