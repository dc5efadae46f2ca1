"""The compact header the SQL savers store (``checkpoint/_header.py``): exact round trips, and
headers it cannot pack exactly stored whole."""

from __future__ import annotations

from typing import Any

import pytest

from threadloom.checkpoint import _header as _header_module
from threadloom.checkpoint._header import (
    _PACKED_CACHE,
    _PACKED_CACHE_SIZE,
    channel_versions_of,
    pack_header,
    pack_version,
    unpack_header,
    unpack_version,
)
from threadloom.checkpoint.base import empty_checkpoint, next_noted_version, next_string_version
from threadloom.checkpoint.serde.jsonplus import JsonPlusSerializer


def _header(**changes: Any) -> dict[str, Any]:
    v1, v2 = next_string_version(None), next_string_version(7)
    header: dict[str, Any] = dict(empty_checkpoint())
    del header["channel_values"], header["pending_sends"]
    header.update(
        channel_versions={"__start__": v1, "messages": v2, "branch:to:a": v2},
        versions_seen={"__input__": {}, "a": {"branch:to:a": v1}},
        updated_channels=["messages"],
    )
    header.update(changes)
    return header


def _through(serde: JsonPlusSerializer, header: dict[str, Any]) -> dict[str, Any]:
    stored = serde.loads_typed(serde.dumps_typed(pack_header(header)))
    assert channel_versions_of(stored) == header["channel_versions"]
    return unpack_header(stored, header["id"])


def test_an_engine_header_packs_small_and_comes_back_exactly() -> None:
    serde = JsonPlusSerializer()
    header = _header()
    assert isinstance(pack_header(header), list)
    back = _through(serde, header)
    assert back == header and list(back) == list(header)
    whole = len(serde.dumps_typed(header)[1])
    assert len(serde.dumps_typed(pack_header(header))[1]) * 2.5 < whole


@pytest.mark.parametrize(
    "changes",
    [
        {"ts": "2024-01-02T03:04:05+00:00"},  # no microseconds: kept as text
        {"ts": "2024-01-02T03:04:05.123456+02:00"},  # not UTC
        {"ts": "yesterday"},
        {"channel_versions": {"a": 1, "b": 2.5, "c": "x", "d": "0" * 32}},
        {"versions_seen": {"n": {"a": 3}}, "channel_versions": {"a": 3, "b": 3.0}},
        {"updated_channels": None},
    ],
    ids=repr,
)
def test_unusual_headers_come_back_exactly(changes: dict[str, Any]) -> None:
    header = _header(**changes)
    back = _through(JsonPlusSerializer(), header)
    assert back == header
    assert {type(v) for v in back["channel_versions"].values()} == {
        type(v) for v in header["channel_versions"].values()
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"extra": [1]},  # a key beyond the usual ones
        {"channel_versions": {"a": (1, 2)}},  # a version of another type
        {"ts": 12345},
    ],
    ids=repr,
)
def test_headers_it_cannot_pack_are_stored_whole(changes: dict[str, Any]) -> None:
    header = _header(**changes)
    assert pack_header(header) is header
    assert unpack_header(header, "ignored") is header


def test_each_distinct_version_is_stored_once_in_the_order_first_met() -> None:
    v1, v2, v3 = (next_string_version(n) for n in (3, 8, 9))
    header = _header(
        channel_versions={"b": v2, "a": v1},
        versions_seen={"x": {"a": v3, "b": v2}, "y": {}, "z": {"a": v1}},
    )
    fresh = pack_header(header)
    _PACKED_CACHE.clear()  # packed again from scratch: the same list
    assert pack_header(header) == fresh
    _format, _v, _ts, versions, refs, seen, *_rest = fresh
    assert [unpack_version(p) for p in versions] == [v2, v1, v3]
    assert refs == {"b": 0, "a": 1}
    assert seen == {"x": {"a": 2, "b": 0}, "y": {}, "z": {"a": 1}}


def test_a_header_packs_the_same_when_its_new_versions_fill_the_cache() -> None:
    # The cache of packed versions is emptied when full, in the middle of packing a header
    # whose older versions it held: they are packed again, not lost.
    header = _header()
    expected = pack_header(header)
    _PACKED_CACHE.clear()
    old = header["channel_versions"]["__start__"]  # (its other version is new)
    _PACKED_CACHE[old] = pack_version(old)
    _PACKED_CACHE.update((f"filler {n}", None) for n in range(_PACKED_CACHE_SIZE - 1))
    assert len(_PACKED_CACHE) == _PACKED_CACHE_SIZE
    assert pack_header(header) == expected


class _LookupsOnly(dict[str, Any]):
    """A cache that refuses to be walked: packing a header may only look versions up."""

    def __iter__(self) -> Any:
        raise AssertionError("the whole cache was walked")

    def keys(self) -> Any:
        raise AssertionError("the whole cache was walked")


def test_packing_a_header_looks_up_its_versions_without_walking_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each put packs a header or two; walking a full cache (4,096 versions) to find the few
    # new ones cost ~45 µs a header, more than the rest of the packing.
    header = _header()
    expected = pack_header(header)
    cache = _LookupsOnly((f"filler {n}", None) for n in range(_PACKED_CACHE_SIZE // 2))
    monkeypatch.setattr(_header_module, "_PACKED_CACHE", cache)
    assert pack_header(header) == expected  # its versions are new to this cache: packed
    assert pack_header(header) == expected  # and now found in it
    assert len(cache) == _PACKED_CACHE_SIZE // 2 + 2


def test_legacy_pending_sends_are_kept() -> None:
    header = {**_header(), "pending_sends": [["node", {"x": 1}]]}
    assert isinstance(pack_header(header), list)
    assert _through(JsonPlusSerializer(), header) == header


def test_missing_keys_are_stored_whole() -> None:
    header = _header()
    del header["updated_channels"]
    assert pack_header(header) is header


@pytest.mark.parametrize(
    "version",
    [
        next_string_version(41),
        "00000000000000000000000000000001.00000000000000.5",  # a short random part, padded
        "00000000000000000000000000000001.0.50",  # not how a float prints: kept as text
        "00000000000000000000000000000001.nan",
        "0000000000000000000000000000000x.0.5",
        "9" * 32 + ".0.5",  # too large for an int64: kept as text
    ],
)
def test_versions_pack_exactly(version: str) -> None:
    packed = pack_version(version)
    assert unpack_version(packed) == version


@pytest.mark.parametrize("bits", [0, 1, 2**47, 2**48 - 1])
def test_a_made_version_is_known_as_pack_version_would_pack_it(
    monkeypatch: pytest.MonkeyPatch, bits: int
) -> None:
    # next_noted_version (the SQL savers') tells the caches its versions' packed forms and
    # texts, so a SQL saver packs them and reads them back without parsing or repr: the very
    # values pack_version and a cold unpack give, for the extremes of the random bits
    monkeypatch.setattr("threadloom.checkpoint.base._getrandbits", lambda k: bits)
    version = next_noted_version(41)
    known = _PACKED_CACHE.get(version)
    _PACKED_CACHE.pop(version, None)
    _header_module._TEXTS.clear()
    assert known == pack_version(version)  # parsed and checked afresh
    assert isinstance(known, list)  # packed: the random part is a float's repr
    assert unpack_version(known) == version  # with and without the text remembered
    _header_module._TEXTS.clear()
    assert unpack_version(known) == version


def test_a_version_random_part_prints_as_its_float() -> None:
    # made without formatting a float, the random part is still exactly a float's repr (what
    # LangGraph's f"{random():016}" prints), so every saver packs it as a number
    for _ in range(2000):
        random = next_string_version(7).partition(".")[2]
        assert repr(float(random)).zfill(16) == random
        assert 0.1 <= float(random) < 1


def test_only_the_sql_savers_versions_are_noted_in_the_header_caches() -> None:
    # the memory saver packs nothing: noting its versions would only keep objects alive
    from threadloom.checkpoint.memory import InMemorySaver
    from threadloom.checkpoint.postgres import PostgresSaver
    from threadloom.checkpoint.sqlite import SqliteSaver
    from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver

    _PACKED_CACHE.clear()  # (a full cache notes nothing)
    for saver in (SqliteSaver, AsyncSqliteSaver, PostgresSaver):
        version = saver.get_next_version(None, None)
        assert _PACKED_CACHE.get(version) == pack_version(version)
    version = InMemorySaver.get_next_version(None, None)
    assert version not in _PACKED_CACHE


def test_a_negative_zero_random_part_is_never_read_as_zero() -> None:
    zero = "1".zfill(32) + "." + "0.0".zfill(16)
    assert unpack_version(pack_version(zero)) == zero
    negative = "1".zfill(32) + "." + "-0.0".zfill(16)  # 0.0 == -0.0: their texts differ
    assert unpack_version([1, -0.0]) == negative
    assert unpack_version([1, 0.0]) == zero


def test_a_timestamp_reads_back_as_written_warm_or_cold() -> None:
    serde = JsonPlusSerializer()
    for ts in ("2026-12-07T21:26:47.123456+00:00", "2026-12-07 21:26:47.123456+00:00"):
        header = _header(ts=ts)
        assert _through(serde, header)["ts"] == ts  # the text packed is remembered
        _header_module._TS_TEXTS.clear()
        assert _through(serde, header)["ts"] == ts  # and worked out again when not


def test_a_cache_emptied_by_another_thread_mid_pack_packs_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    header = _header()
    expected = pack_header(header)

    class _EmptiedOnce(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            if not hasattr(self, "emptied"):
                self.emptied = True
                self.clear()  # another thread's header filled the cache: cleared meanwhile
            return super().__getitem__(key)

    monkeypatch.setattr(_header_module, "_PACKED_CACHE", _EmptiedOnce())
    assert pack_header(header) == expected
