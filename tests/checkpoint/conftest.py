"""Fixtures for saver tests, and the saver backend table every shared saver test runs over.

A backend is a factory ``(path, cleanup) -> saver``: ``path`` names the backend's storage (a
file for SQLite; calling the factory again with the same path reopens it), ``cleanup`` is an
ExitStack closed after the test. To run the shared tests on a new backend (Postgres), add one
entry to ``BACKENDS``. Async savers are driven through their sync methods, which hand each call
to the saver's event loop running in a helper thread (``LoopThread``). The helpers tests
import by name are in ``saver_helpers`` (a module named ``conftest`` would clash with the other
folders' conftest modules when several test folders run together).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from postgres_server import shared_server
from saver_helpers import MakeSaver

from threadloom.checkpoint.base import BaseCheckpointSaver
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver

T = TypeVar("T")


class LoopThread:
    """One event loop running in a daemon thread, for the whole life of a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


Factory = Callable[[Path, ExitStack], BaseCheckpointSaver[Any]]
_memory_savers: dict[Path, InMemorySaver] = {}


def _memory(path: Path, cleanup: ExitStack) -> BaseCheckpointSaver[Any]:
    """In-memory "storage" is the saver itself: reopening returns the same saver."""
    if path not in _memory_savers:
        _memory_savers[path] = InMemorySaver()
        cleanup.callback(_memory_savers.pop, path, None)
    return _memory_savers[path]


def _sqlite(path: Path, cleanup: ExitStack) -> BaseCheckpointSaver[Any]:
    return cleanup.enter_context(SqliteSaver.from_conn_string(str(path.with_suffix(".db"))))


def _sqlite_async(path: Path, cleanup: ExitStack) -> BaseCheckpointSaver[Any]:
    loop = LoopThread()
    cleanup.callback(loop.close)
    opened = AsyncSqliteSaver.from_conn_string(str(path.with_suffix(".db")))
    saver = loop.run(opened.__aenter__())
    cleanup.callback(lambda: loop.run(opened.__aexit__(None, None, None)))
    return saver


def _postgres_dsn(path: Path, cleanup: ExitStack) -> str:
    """One fresh database per storage name of a test (the same name reopens it)."""
    if path not in _pg_databases:
        dsn, drop = shared_server().fresh_database()
        _pg_databases[path] = dsn
        cleanup.callback(drop)
        cleanup.callback(_pg_databases.pop, path, None)
    return _pg_databases[path]


_pg_databases: dict[Path, str] = {}


def _postgres(path: Path, cleanup: ExitStack) -> BaseCheckpointSaver[Any]:
    saver = cleanup.enter_context(PostgresSaver.from_conn_string(_postgres_dsn(path, cleanup)))
    saver.setup()
    return saver


def _postgres_async(path: Path, cleanup: ExitStack) -> BaseCheckpointSaver[Any]:
    dsn = _postgres_dsn(path, cleanup)
    loop = LoopThread()
    cleanup.callback(loop.close)
    opened = AsyncPostgresSaver.from_conn_string(dsn)
    saver = loop.run(opened.__aenter__())
    cleanup.callback(lambda: loop.run(opened.__aexit__(None, None, None)))
    loop.run(saver.setup())
    return saver


BACKENDS: dict[str, Factory] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "sqlite_async": _sqlite_async,
    "postgres": _postgres,
    "postgres_async": _postgres_async,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the saver backend under test."""
    return str(request.param)


@pytest.fixture
def make_saver(backend: str, tmp_path: Path) -> Iterator[MakeSaver]:
    """Open savers of the backend under test; each is closed after the test."""
    with ExitStack() as cleanup:

        def make(name: str = "main") -> Any:
            return BACKENDS[backend](tmp_path / name, cleanup)

        yield make


@pytest.fixture
def saver(make_saver: MakeSaver) -> Any:
    """A fresh saver of the backend under test."""
    return make_saver()


@pytest.fixture
def memory_saver() -> InMemorySaver:
    """A fresh InMemorySaver, for tests of what only the in-memory saver does."""
    return InMemorySaver()
