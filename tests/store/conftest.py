"""The ``make_store`` / ``store`` fixtures: every store test runs on every backend listed here.

A backend is a factory ``(tmp_path, index, ttl, cleanup) -> store``; ``cleanup`` is an ExitStack
closed after the test. To run the suite on a new backend, add one entry to ``BACKENDS``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

import pytest
from async_bridge import AsyncAsSync, LoopThread
from postgres_server import shared_server

from threadloom.store.base import IndexConfig, TTLConfig
from threadloom.store.memory import InMemoryStore
from threadloom.store.postgres import PostgresStore
from threadloom.store.postgres.aio import AsyncPostgresStore
from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite.aio import AsyncSqliteStore

Factory = Callable[[Path, IndexConfig | None, TTLConfig | None, ExitStack], Any]


def _memory(tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, _: ExitStack) -> Any:
    return InMemoryStore(index=index, ttl=ttl)


def _memory_async(
    tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, cleanup: ExitStack
) -> Any:
    loop = LoopThread()
    cleanup.callback(loop.close)
    return AsyncAsSync(InMemoryStore(index=index, ttl=ttl), loop)


def _sqlite(
    tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, cleanup: ExitStack
) -> Any:
    store = cleanup.enter_context(
        SqliteStore.from_conn_string(str(tmp_path / "store.db"), index=index, ttl=ttl)
    )
    store.setup()
    return store


class _AsyncTTLAsSync(AsyncAsSync):
    """AsyncSqliteStore's TTL methods are coroutines (as LangGraph's): run them on the loop."""

    def sweep_ttl(self) -> Any:
        return self._call("sweep_ttl")

    def start_ttl_sweeper(self, *args: Any) -> Any:
        task = self._call("start_ttl_sweeper", *args)
        if task.done():  # no ttl config: nothing to sweep
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done

        async def finished() -> None:
            await task

        return asyncio.run_coroutine_threadsafe(finished(), self._loop.loop)  # a sync Future

    def stop_ttl_sweeper(self, timeout: float | None = None) -> Any:
        return self._call("stop_ttl_sweeper", timeout=timeout)


def _sqlite_async(
    tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, cleanup: ExitStack
) -> Any:
    loop = LoopThread()
    cleanup.callback(loop.close)
    opened = AsyncSqliteStore.from_conn_string(str(tmp_path / "store.db"), index=index, ttl=ttl)
    store = loop.run(opened.__aenter__())
    cleanup.callback(lambda: loop.run(opened.__aexit__(None, None, None)))
    loop.run(store.setup())
    return _AsyncTTLAsSync(store, loop)


def _postgres(
    tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, cleanup: ExitStack
) -> Any:
    dsn, drop = shared_server().fresh_database()  # each store its own database
    cleanup.callback(drop)
    store = cleanup.enter_context(PostgresStore.from_conn_string(dsn, index=index, ttl=ttl))
    store.setup()
    return store


def _postgres_async(
    tmp_path: Path, index: IndexConfig | None, ttl: TTLConfig | None, cleanup: ExitStack
) -> Any:
    dsn, drop = shared_server().fresh_database()
    cleanup.callback(drop)
    loop = LoopThread()
    cleanup.callback(loop.close)
    opened = AsyncPostgresStore.from_conn_string(dsn, index=index, ttl=ttl)
    store = loop.run(opened.__aenter__())
    cleanup.callback(lambda: loop.run(opened.__aexit__(None, None, None)))
    loop.run(store.setup())
    return _AsyncTTLAsSync(store, loop)


BACKENDS: dict[str, Factory] = {
    "memory": _memory,
    "memory_async": _memory_async,  # the same store through its async methods
    "sqlite": _sqlite,
    "sqlite_async": _sqlite_async,
    "postgres": _postgres,
    "postgres_async": _postgres_async,  # AsyncPostgresStore through its async methods
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
