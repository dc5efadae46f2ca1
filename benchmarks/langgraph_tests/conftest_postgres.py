"""threadloom's conftest for langgraph-checkpoint-postgres's tests (``run.py`` copies it over
theirs, and the harness's ``conftest.py`` beside it as ``lgtests_conftest.py``).

Their tests connect to a server of their own (Docker, port 5441) through ``DEFAULT_POSTGRES_URI``
(the server: a database name is appended) and ``DEFAULT_URI`` (its ``postgres`` database). Here
both name the embedded server of threadloom's test suite (``tests/postgres_server.py``), started
when this module is imported: its socket directory is given to libpq as ``PGHOST``, so the URIs
keep their shape. The names their files import from it (``CharacterEmbeddings``, the URIs,
``VECTOR_TYPES``) and their fixtures (``conn``, ``clear_test_db``, ``fake_embeddings``) are here,
written for threadloom; the harness's hooks and guards come from ``lgtests_conftest``.
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
