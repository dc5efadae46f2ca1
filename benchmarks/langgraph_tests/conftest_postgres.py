"""threadloom's conftest for langgraph-checkpoint-postgres's tests (``run.py`` copies it over
theirs, and the harness's ``conftest.py`` beside it as ``lgtests_conftest.py``).

Their tests connect to a server of their own (Docker, port 5441) through ``DEFAULT_POSTGRES_URI``
(the server: a database name is appended) and ``DEFAULT_URI`` (its ``postgres`` database). Here
both name the embedded server of threadloom's test suite (``tests/postgres_server.py``), started
when this module is imported: its socket directory is given to libpq as ``PGHOST``, so the URIs
keep their shape. The names their files import from it (``CharacterEmbeddings``, the URIs,
``VECTOR_TYPES``) and their fixtures (``conn``, ``clear_test_db``, ``fake_embeddings``) are here,
written for threadloom; the harness's hooks and guards come from ``lgtests_conftest``.

Their store fixtures (``store`` in ``test_store.py`` / ``test_async_store.py``) rewrite
``store.MIGRATIONS`` before ``setup()`` (LangGraph's ``ttl_minutes`` column made a float: ours is
one already) and drop LangGraph's ``store_migrations`` table through the private
``store._cursor()`` to set up again. ``_stand_ins`` gives threadloom's stores (and savers) a
``MIGRATIONS`` listing the SQL their ``setup()`` runs (assigning it changes nothing) and a
``_cursor()`` on the store's connection, so those fixtures make the store and its tests run;
a test body using ``_cursor()`` on LangGraph's table names still fails.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from tests.conftest_checkpointer import pg_server
from tests.embed_test_utils import CharacterEmbeddings
from tests.lgtests_conftest import *  # noqa: F403  (outcome hooks, no-langgraph guard, fixtures)


def _stand_ins() -> None:
    from contextlib import asynccontextmanager, contextmanager

    from threadloom.checkpoint.postgres import PostgresSaver
    from threadloom.checkpoint.postgres._migrations import MIGRATIONS as SAVER_MIGRATIONS
    from threadloom.checkpoint.postgres.aio import AsyncPostgresSaver
    from threadloom.store.postgres import PostgresStore
    from threadloom.store.postgres._sql import MIGRATIONS as STORE_MIGRATIONS
    from threadloom.store.postgres.aio import AsyncPostgresStore

    @contextmanager
    def cursor(store: Any) -> Any:
        with store._connector.connection() as connection, connection.cursor() as cur:
            yield cur

    @asynccontextmanager
    async def acursor(store: Any) -> Any:
        async with store._connector.connection() as connection, connection.cursor() as cur:
            yield cur

    for cls, migrations in (
        (PostgresStore, STORE_MIGRATIONS),
        (AsyncPostgresStore, STORE_MIGRATIONS),
        (PostgresSaver, SAVER_MIGRATIONS),
        (AsyncPostgresSaver, SAVER_MIGRATIONS),
    ):
        assert not hasattr(cls, "MIGRATIONS"), f"{cls.__name__} has MIGRATIONS now"
        cls.MIGRATIONS = list(migrations.statements)  # type: ignore[attr-defined]
    for cls, made in ((PostgresStore, cursor), (AsyncPostgresStore, acursor)):
        assert not hasattr(cls, "_cursor"), f"{cls.__name__} has _cursor now"
        cls._cursor = made  # type: ignore[attr-defined]


_stand_ins()
_uri = urlparse(pg_server().uri())
os.environ["PGHOST"] = parse_qs(_uri.query)["host"][0]
DEFAULT_POSTGRES_URI = f"postgres://{_uri.username}:@/"
DEFAULT_URI = f"postgres://{_uri.username}:@/postgres?sslmode=disable"
VECTOR_TYPES = ["vector", "halfvec"]


@pytest.fixture(scope="function")
async def conn() -> AsyncIterator[Any]:
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row

    async with await AsyncConnection.connect(
        DEFAULT_URI, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as connection:
        yield connection


@pytest.fixture(scope="function", autouse=True)
async def clear_test_db(conn: Any) -> None:
    """Empty the tables of the ``postgres`` database before each test, as theirs does."""
    from psycopg.errors import UndefinedTable

    for tables in (
        ("checkpoints", "checkpoint_blobs", "checkpoint_writes", "checkpoint_migrations"),
        ("store_migrations", "store"),
    ):
        try:
            for table in tables:
                await conn.execute(f"DELETE FROM {table}")
        except UndefinedTable:
            pass


@pytest.fixture
def fake_embeddings() -> CharacterEmbeddings:
    return CharacterEmbeddings(dims=500)
