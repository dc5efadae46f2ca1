"""Open every threadloom saver and store backend for the LangGraph bridge tests (imported by them).

``open_saver(backend, where)`` opens a threadloom saver of ``backend`` on storage ``where`` (a
SQLite file, or a PostgreSQL connection string), as an async context manager: savers are made
inside the running event loop, so the async ones belong to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.postgres import PostgresSaver
from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.store.memory import InMemoryStore
from threadloom.store.postgres import PostgresStore
from threadloom.store.postgres.aio import AsyncPostgresStore
from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite.aio import AsyncSqliteStore

SAVER_BACKENDS = ("memory", "sqlite", "sqlite_async", "postgres", "postgres_async")
"""Every threadloom saver; ``*_async`` are the async classes."""


@asynccontextmanager
async def open_saver(backend: str, where: str) -> AsyncIterator[Any]:
    """A threadloom saver of ``backend`` on ``where`` (ignored for memory), closed on exit."""
    if backend == "memory":
        yield InMemorySaver()
    elif backend == "sqlite":
        with SqliteSaver.from_conn_string(where) as saver:
            yield saver
    elif backend == "sqlite_async":
        async with AsyncSqliteSaver.from_conn_string(where) as saver:
            yield saver
    elif backend == "postgres":
        with PostgresSaver.from_conn_string(where) as saver:
            saver.setup()
            yield saver
    elif backend == "postgres_async":
        async with AsyncPostgresSaver.from_conn_string(where) as saver:
            await saver.setup()
            yield saver
    else:  # pragma: no cover - a typo in a test
        raise ValueError(f"unknown backend {backend!r}")


Storage = Callable[[], str]
"""Makes fresh storage for a backend: a SQLite file path or a PostgreSQL connection string."""


STORE_BACKENDS = ("memory", "sqlite", "sqlite_async", "postgres", "postgres_async")
"""Every threadloom store; ``*_async`` are the async classes."""


@asynccontextmanager
async def open_store(backend: str, where: str, **options: Any) -> AsyncIterator[Any]:
    """A threadloom store of ``backend`` on ``where`` (ignored for memory), set up, closed on
    exit; ``options`` (``index``, ``ttl``) go to the store."""
    if backend == "memory":
        yield InMemoryStore(**options)
    elif backend == "sqlite":
        with SqliteStore.from_conn_string(where, **options) as store:
            store.setup()
            yield store
    elif backend == "sqlite_async":
        async with AsyncSqliteStore.from_conn_string(where, **options) as store:
            await store.setup()
            yield store
    elif backend == "postgres":
        with PostgresStore.from_conn_string(where, **options) as store:
            store.setup()
            yield store
    elif backend == "postgres_async":
        async with AsyncPostgresStore.from_conn_string(where, **options) as store:
            await store.setup()
            yield store
    else:  # pragma: no cover - a typo in a test
        raise ValueError(f"unknown backend {backend!r}")
