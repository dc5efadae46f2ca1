"""Fixtures of the LangGraph bridge tests: skipped as a whole when LangGraph is not installed.

Only ``tests/interop/`` may import LangGraph (it comes with the ``test-langgraph`` extra).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("langgraph", reason="the LangGraph bridge needs the test-langgraph extra")

from interop_backends import SAVER_BACKENDS, Storage
from postgres_server import PgServer


@pytest.fixture(params=SAVER_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the threadloom saver backend under test."""
    return str(request.param)


@pytest.fixture
def new_storage(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Storage]:
    """Makes fresh storage for the backend under test: a new SQLite file, or a new database
    of the session's PostgreSQL server (dropped after the test)."""
    drops: list[Callable[[], None]] = []
    counter = itertools.count()

    def make() -> str:
        if backend.startswith("postgres"):
            server: PgServer = request.getfixturevalue("pg_server")
            dsn, drop = server.fresh_database()
            drops.append(drop)
            return dsn
        return str(tmp_path / f"storage{next(counter)}.db")

    yield make
    for drop in drops:
        drop()
