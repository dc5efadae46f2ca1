"""``InMemoryCache`` and ``SqliteCache`` keep the ``BaseCache`` contract: get, set, ttl, clear.

One suite, run on both backends (a real SQLite file in a tmp dir), sync and async.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from threadloom.cache.base import BaseCache
from threadloom.cache.sqlite import SqliteCache
from threadloom.errors import StorageError
from threadloom.types import Send

NS = ("__pregel_ns_writes", "mod.func", "node")
OTHER = ("__pregel_ns_writes", "mod.other", "other")


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the clock ``seconds`` ahead (no sleeping in tests)."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


def test_get_returns_only_the_keys_set(cache: BaseCache[Any]) -> None:
    writes = [("x", 1), ("log", ["a"]), ("__pregel_tasks", Send("w", {"x": 2}))]
    cache.set({(NS, "k1"): (writes, None)})
    found = cache.get([(NS, "k1"), (NS, "missing"), (OTHER, "k1")])
    assert list(found) == [(NS, "k1")]
    # values are serialized: tuples come back as lists, objects as equal objects
    assert [tuple(w) for w in found[(NS, "k1")]] == writes


def test_a_cached_value_is_a_copy(cache: BaseCache[Any]) -> None:
    value = {"items": [1, 2]}
    cache.set({(NS, "k"): (value, None)})
    value["items"].append(3)
    assert cache.get([(NS, "k")])[(NS, "k")] == {"items": [1, 2]}


def test_set_replaces_an_entry(cache: BaseCache[Any]) -> None:
    cache.set({(NS, "k"): ("old", None)})
    cache.set({(NS, "k"): ("new", None)})
    assert cache.get([(NS, "k")]) == {(NS, "k"): "new"}


def test_an_entry_expires_after_its_ttl(
    cache: BaseCache[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.set({(NS, "short"): ("s", 10), (NS, "forever"): ("f", None)})
    later(monkeypatch, 9)
    assert set(cache.get([(NS, "short"), (NS, "forever")])) == {(NS, "short"), (NS, "forever")}
    later(monkeypatch, 11)
    assert cache.get([(NS, "short"), (NS, "forever")]) == {(NS, "forever"): "f"}


def test_clear_by_namespace_and_all(cache: BaseCache[Any]) -> None:
    cache.set({(NS, "a"): (1, None), (OTHER, "b"): (2, None)})
    cache.clear([NS])
    assert cache.get([(NS, "a"), (OTHER, "b")]) == {(OTHER, "b"): 2}
    cache.clear()
    assert cache.get([(OTHER, "b")]) == {}


def test_async_methods_see_the_same_entries(cache: BaseCache[Any]) -> None:
    async def scenario() -> None:
        await cache.aset({(NS, "k"): ({"v": 1}, None)})
        assert cache.get([(NS, "k")]) == {(NS, "k"): {"v": 1}}
        assert await cache.aget([(NS, "k")]) == {(NS, "k"): {"v": 1}}
        await cache.aclear([NS])
        assert await cache.aget([(NS, "k")]) == {}

    asyncio.run(scenario())


def test_sqlite_cache_is_shared_by_connections_and_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    first: SqliteCache[Any] = SqliteCache(path=path)
    second: SqliteCache[Any] = SqliteCache(path=path)
    first.set({(NS, "k"): ("v", None)})
    assert second.get([(NS, "k")]) == {(NS, "k"): "v"}
    first.close()
    second.close()
    reopened: SqliteCache[Any] = SqliteCache(path=path)
    assert reopened.get([(NS, "k")]) == {(NS, "k"): "v"}
    reopened.close()


def test_sqlite_cache_on_a_file_that_is_not_a_database_raises_storage_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "not-a-db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not-a-db") as caught:
        SqliteCache(path=str(path))
    assert isinstance(caught.value.__cause__, sqlite3.Error)
