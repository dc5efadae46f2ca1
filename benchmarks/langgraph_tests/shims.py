"""threadloom's stand-ins for LangGraph's test helpers (copied in by ``run.py``).

``run.py`` copies this file over LangGraph's ``tests/conftest_checkpointer.py``,
``tests/conftest_store.py`` and ``tests/memory_assert.py``: one module giving every name those
files export, built on threadloom's savers and stores. Written for threadloom; none of LangGraph's
code is here. The Postgres factories start the embedded server of threadloom's own test suite
(``tests/postgres_server.py``) when ``LGTESTS_POSTGRES=1``; otherwise the tests that ask for them
are skipped, as LangGraph's own suite skips them without Docker.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from threadloom.checkpoint.base import CheckpointTuple
from threadloom.checkpoint.memory import InMemorySaver
from threadloom.checkpoint.serde.encrypted import EncryptedSerializer
from threadloom.checkpoint.sqlite import SqliteSaver
from threadloom.checkpoint.sqlite.aio import AsyncSqliteSaver
from threadloom.store.memory import InMemoryStore

POSTGRES = os.environ.get("LGTESTS_POSTGRES", "") == "1"
DEFAULT_POSTGRES_URI = "postgres://unused-see-LGTESTS_POSTGRES/"
AES_KEY = b"1234567890123456"


class missing:
    """What a test file gets for a LangGraph name threadloom lacks: any use of it fails."""

    def __init__(self, name: str) -> None:
        self._name = name

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise ImportError(f"threadloom has no {self._name}")

    __call__ = __getattr__ = __getitem__ = __iter__ = __mro_entries__ = _fail


class MemorySaverAssertImmutable(InMemorySaver):
    """An ``InMemorySaver`` that fails a test when a stored checkpoint changes afterwards."""

    def __init__(self, *, serde: Any = None, put_sleep: float | None = None) -> None:
        super().__init__(serde=serde)
        self.put_sleep = put_sleep
        self._as_stored: dict[tuple[str, str, str], Any] = {}

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self.put_sleep:
            time.sleep(self.put_sleep)
        conf = config["configurable"]
        where = (conf["thread_id"], conf.get("checkpoint_ns", ""))
        parent = self.get(config)
        if parent is not None and (*where, parent["id"]) in self._as_stored:
            assert self._as_stored[(*where, parent["id"])] == parent, where
        saved = super().put(config, checkpoint, metadata, new_versions)
        self._as_stored[(*where, checkpoint["id"])] = copy.deepcopy(self.get(saved))
        return saved


class MemorySaverNoPending(InMemorySaver):
    """An ``InMemorySaver`` whose tuples never carry pending writes."""

    def get_tuple(self, config: Any) -> CheckpointTuple | None:
        found = super().get_tuple(config)
        if found is None:
            return None
        return CheckpointTuple(found.config, found.checkpoint, found.metadata)


def _pg_uri() -> tuple[str, Any]:
    if not POSTGRES:
        pytest.skip("Postgres backends run with LGTESTS_POSTGRES=1 (run.py --postgres)")
    if "_threadloom_pg" not in sys.modules:
        path = os.path.join(os.environ["THREADLOOM_REPO"], "tests", "postgres_server.py")
        spec = importlib.util.spec_from_file_location("_threadloom_pg", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["_threadloom_pg"] = module
        spec.loader.exec_module(module)
    return sys.modules["_threadloom_pg"].shared_server().fresh_database()  # type: ignore[no-any-return]


@contextmanager
def _checkpointer_memory() -> Iterator[Any]:
    yield MemorySaverAssertImmutable()


@contextmanager
def _checkpointer_sqlite() -> Iterator[Any]:
    with SqliteSaver.from_conn_string(":memory:") as saver:
        yield saver


@contextmanager
def _checkpointer_sqlite_aes() -> Iterator[Any]:
    with SqliteSaver.from_conn_string(":memory:") as saver:
        saver.serde = EncryptedSerializer.from_pycryptodome_aes(key=AES_KEY)
        yield saver


@asynccontextmanager
async def _checkpointer_sqlite_aio() -> AsyncIterator[Any]:
    async with AsyncSqliteSaver.from_conn_string(":memory:") as saver:
        yield saver


@contextmanager
def _fresh_database() -> Iterator[str]:
    uri, drop = _pg_uri()
    try:
        yield uri
    finally:
        drop()


@contextmanager
def _checkpointer_postgres() -> Iterator[Any]:
    from threadloom.checkpoint.postgres import PostgresSaver

    with _fresh_database() as uri, PostgresSaver.from_conn_string(uri) as saver:
        saver.setup()
        yield saver


@contextmanager
def _checkpointer_postgres_pool() -> Iterator[Any]:
    from psycopg_pool import ConnectionPool

    from threadloom.checkpoint.postgres import PostgresSaver

    with _fresh_database() as uri, ConnectionPool(uri, kwargs={"autocommit": True}) as pool:
        saver = PostgresSaver(pool)
        saver.setup()
        yield saver


@asynccontextmanager
async def _checkpointer_postgres_aio() -> AsyncIterator[Any]:
    from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver

    with _fresh_database() as uri:
        async with AsyncPostgresSaver.from_conn_string(uri) as saver:
            await saver.setup()
            yield saver


@asynccontextmanager
async def _checkpointer_postgres_aio_pool() -> AsyncIterator[Any]:
    from psycopg_pool import AsyncConnectionPool

    from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver

    with _fresh_database() as uri:
        async with AsyncConnectionPool(uri, kwargs={"autocommit": True}, open=False) as pool:
            saver = AsyncPostgresSaver(pool)
            await saver.setup()
            yield saver


def _no_pipeline(*args: Any, **kwargs: Any) -> Any:
    pytest.skip("psycopg pipeline mode: threadloom's savers take no `pipe` (not measured here)")


def _no_migrate_sends(*args: Any, **kwargs: Any) -> Any:
    pytest.skip("checkpoints of format v3 (pending_sends): not measured here")


_checkpointer_postgres_pipe = _no_pipeline
_checkpointer_postgres_aio_pipe = _no_pipeline
_checkpointer_memory_migrate_sends = _no_migrate_sends
MemorySaverNeedsPendingSendsMigration = _no_migrate_sends


@contextmanager
def _store_memory() -> Iterator[Any]:
    yield InMemoryStore()


@contextmanager
def _store_postgres() -> Iterator[Any]:
    from threadloom.store.postgres import PostgresStore

    with _fresh_database() as uri, PostgresStore.from_conn_string(uri) as store:
        store.setup()
        yield store


@contextmanager
def _store_postgres_pool() -> Iterator[Any]:
    from psycopg_pool import ConnectionPool

    from threadloom.store.postgres import PostgresStore

    with _fresh_database() as uri, ConnectionPool(uri, kwargs={"autocommit": True}) as pool:
        store = PostgresStore(pool)
        store.setup()
        yield store


@asynccontextmanager
async def _store_postgres_aio() -> AsyncIterator[Any]:
    from threadloom.store.postgres.aio import AsyncPostgresStore

    with _fresh_database() as uri:
        async with AsyncPostgresStore.from_conn_string(uri) as store:
            await store.setup()
            yield store


@asynccontextmanager
async def _store_postgres_aio_pool() -> AsyncIterator[Any]:
    from psycopg_pool import AsyncConnectionPool

    from threadloom.store.postgres.aio import AsyncPostgresStore

    with _fresh_database() as uri:
        async with AsyncConnectionPool(uri, kwargs={"autocommit": True}, open=False) as pool:
            store = AsyncPostgresStore(pool)
            await store.setup()
            yield store


_store_postgres_pipe = _no_pipeline
_store_postgres_aio_pipe = _no_pipeline
