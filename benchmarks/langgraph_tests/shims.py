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
import importlib
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
    """What a test file gets for a LangGraph name threadloom lacks: using it fails the test.

    Reading an attribute gives another placeholder, and a class deriving from one is made (a
    default argument or a base class of a module-level helper does not stop the file's
    collection); calling, iterating or indexing one, or making an instance of such a class,
    raises."""

    def __new__(cls, name: str) -> Any:
        if name in STAND_INS:
            return STAND_INS[name]()
        return super().__new__(cls)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return missing(f"{self._name}.{attr}")

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise ImportError(f"threadloom has no {self._name}")

    __call__ = __getitem__ = __iter__ = _fail

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        fail = self._fail

        class Missing:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                fail()

        return (Missing,)


# LangGraph's private state a test file's autouse fixture resets: an empty stand-in, so the
# fixture does not fail tests that never read it (the tests that do still fail).
STAND_INS: dict[str, Any] = {
    "threadloom.checkpoint.serde.jsonplus._warned_unregistered_types": set,
    "threadloom.checkpoint.serde.jsonplus._warned_blocked_types": set,
    "threadloom.checkpoint.serde.jsonplus._warned_unreconstructable_types": set,
}


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


def pg_server() -> Any:
    """The embedded PostgreSQL server of threadloom's test suite, started on first use."""
    if "_threadloom_pg" not in sys.modules:
        path = os.path.join(os.environ["THREADLOOM_REPO"], "tests", "postgres_server.py")
        spec = importlib.util.spec_from_file_location("_threadloom_pg", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["_threadloom_pg"] = module
        spec.loader.exec_module(module)
    return sys.modules["_threadloom_pg"].shared_server()


def _pg_uri() -> tuple[str, Any]:
    if not POSTGRES:
        pytest.skip("Postgres backends run with LGTESTS_POSTGRES=1 (run.py --postgres)")
    return pg_server().fresh_database()  # type: ignore[no-any-return]


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


def _on_postgres(module: str, name: str, how: str) -> Any:
    """A factory of a fresh database's saver or store ``module.name`` (threadloom's), set up,
    made from its connection string (``how="dsn"``), given a connection pool (``"pool"``) or a
    connection the caller keeps in psycopg's pipeline mode (``"pipe"``, as LangGraph's
    ``*_pipe`` fixtures: set up first, then ``cls(conn, pipe=pipe)``)."""

    @contextmanager
    def made() -> Iterator[Any]:
        from psycopg import Connection
        from psycopg_pool import ConnectionPool

        cls = getattr(importlib.import_module(module), name)
        with _fresh_database() as uri:
            if how == "pool":
                with ConnectionPool(uri, kwargs={"autocommit": True}) as connections:
                    backend = cls(connections)
                    backend.setup()
                    yield backend
            elif how == "pipe":
                with Connection.connect(uri, autocommit=True) as conn:
                    cls(conn).setup()
                    with conn.pipeline() as pipe:
                        yield cls(conn, pipe=pipe) if "Saver" in name else cls(conn)
            else:
                with cls.from_conn_string(uri) as backend:
                    backend.setup()
                    yield backend

    return made


def _on_postgres_aio(module: str, name: str, how: str) -> Any:
    """``_on_postgres`` for an async saver or store."""

    @asynccontextmanager
    async def made() -> AsyncIterator[Any]:
        from psycopg import AsyncConnection
        from psycopg_pool import AsyncConnectionPool

        cls = getattr(importlib.import_module(module), name)
        with _fresh_database() as uri:
            if how == "pool":
                connections = AsyncConnectionPool(uri, kwargs={"autocommit": True}, open=False)
                async with connections:
                    backend = cls(connections)
                    await backend.setup()
                    yield backend
            elif how == "pipe":
                async with await AsyncConnection.connect(uri, autocommit=True) as conn:
                    await cls(conn).setup()
                    async with conn.pipeline() as pipe:
                        yield cls(conn, pipe=pipe) if "Saver" in name else cls(conn)
            else:
                async with cls.from_conn_string(uri) as backend:
                    await backend.setup()
                    yield backend

    return made


def _variants(module: str, name: str) -> tuple[Any, ...]:
    """``module.name``'s factories (and its ``.aio`` twin's): on a DSN, a pool, a pipeline; the
    same three async."""
    sync = (_on_postgres(module, name, how) for how in ("dsn", "pool", "pipe"))
    aio = (_on_postgres_aio(f"{module}.aio", f"Async{name}", h) for h in ("dsn", "pool", "pipe"))
    return (*sync, *aio)


(
    _checkpointer_postgres,
    _checkpointer_postgres_pool,
    _checkpointer_postgres_pipe,
    _checkpointer_postgres_aio,
    _checkpointer_postgres_aio_pool,
    _checkpointer_postgres_aio_pipe,
) = _variants("threadloom.checkpoint.postgres", "PostgresSaver")


def _no_migrate_sends(*args: Any, **kwargs: Any) -> Any:
    pytest.skip("checkpoints of format v3 (pending_sends): not measured here")


_checkpointer_memory_migrate_sends = _no_migrate_sends
MemorySaverNeedsPendingSendsMigration = _no_migrate_sends


@contextmanager
def _store_memory() -> Iterator[Any]:
    yield InMemoryStore()


(
    _store_postgres,
    _store_postgres_pool,
    _store_postgres_pipe,
    _store_postgres_aio,
    _store_postgres_aio_pool,
    _store_postgres_aio_pipe,
) = _variants("threadloom.store.postgres", "PostgresStore")
