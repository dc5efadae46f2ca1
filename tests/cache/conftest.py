"""The ``cache`` fixture: each cache test runs on ``InMemoryCache`` and on a real ``SqliteCache``
file in the test's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from threadloom.cache.base import BaseCache
from threadloom.cache.memory import InMemoryCache
from threadloom.cache.sqlite import SqliteCache


@pytest.fixture(params=["memory", "sqlite"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseCache[Any]]:
    if request.param == "memory":
        yield InMemoryCache()
    else:
        sqlite_cache: SqliteCache[Any] = SqliteCache(path=str(tmp_path / "cache.db"))
        yield sqlite_cache
        sqlite_cache.close()
