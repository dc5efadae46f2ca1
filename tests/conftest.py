"""Fixtures for every test directory: one real PostgreSQL server per test session, and the
Hypothesis profile (no deadlines: tests here never time examples).

``pg_server`` is the session's server (``postgres_server.PgServer``, started on first use);
``pg_dsn`` gives each test its own fresh database with pgvector installed, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings
from postgres_server import PgServer, shared_server, stop_shared_server

# No Hypothesis test here is about speed: on a loaded machine (several suites sharing two cores)
# one example can pass Hypothesis's 200 ms deadline, or its data take long to draw, and the test
# fails for no fault of the code. Timing belongs in benchmarks/.
settings.register_profile("threadloom", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("threadloom")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session."""
    yield shared_server()


@pytest.fixture
def pg_dsn(pg_server: PgServer) -> Iterator[str]:
    """A connection string to a fresh database of this test (pgvector installed), dropped after."""
    dsn, drop = pg_server.fresh_database()
    try:
        yield dsn
    finally:
        drop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_shared_server()
