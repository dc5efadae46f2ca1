"""The ``make_store`` / ``store`` fixtures: every store test runs on every backend listed here.

A backend is a factory ``(tmp_path, index, ttl, cleanup) -> store``; ``cleanup`` is an ExitStack
closed after the test. To run the suite on a new backend, add one entry to ``BACKENDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

import pytest
from async_bridge import AsyncAsSync, LoopThread

from threadloom.store.base import IndexConfig, TTLConfig
from threadloom.store.memory import InMemoryStore

Factory = Callable[[Path, IndexConfig | None, TTLConfig | None, ExitStack], Any]


def _memory(tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, _: ExitStack) -> Any:
    return InMemoryStore(index=index, ttl=ttl)


def _memory_async(
    tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, cleanup: ExitStack
) -> Any:
    loop = LoopThread()
    cleanup.callback(loop.close)
    return AsyncAsSync(InMemoryStore(index=index, ttl=ttl), loop)


BACKENDS: dict[str, Factory] = {
    "memory": _memory,
    "memory_async": _memory_async,  # the same store through its async methods
}


class MakeStore(Protocol):
    def __call__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> Any:
        """A fresh store of the backend under test."""


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> Iterator[MakeStore]:
    """Build stores of the backend under test; each is closed after the test."""
    with ExitStack() as cleanup:
        count = 0

        def make(*, index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> Any:
            nonlocal count
            count += 1
            folder = tmp_path / f"store{count}"
            folder.mkdir()
            return BACKENDS[backend](folder, index, ttl, cleanup)

        yield make


@pytest.fixture
def store(make_store: MakeStore) -> Any:
    """A fresh store without an index or TTL config."""
    return make_store()
