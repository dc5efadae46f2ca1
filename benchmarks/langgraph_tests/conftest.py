"""threadloom's conftest for LangGraph's test files (``run.py`` copies it over theirs).

It gives the fixtures their test files ask for (``sync_checkpointer``, ``async_checkpointer``,
``sync_store``, ``async_store``, ``cache``, ``durability``, ``deterministic_uuids``,
``anyio_backend``) on threadloom's savers, stores and caches; refuses any import of ``langgraph``
(so a test can only pass on threadloom); and writes each test's outcome to the file named by
``LGTESTS_OUTCOMES`` for ``run.py``'s results file.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import pytest


class _NoLangGraph(importlib.abc.MetaPathFinder):
    """Refuses ``langgraph`` and its submodules: the rewritten tests must run on threadloom."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "langgraph" or name.startswith("langgraph."):
            raise ImportError(f"{name}: LangGraph is not importable under the harness")
        return None


sys.meta_path.insert(0, _NoLangGraph())

from tests.conftest_checkpointer import (  # noqa: E402
    POSTGRES,
    _checkpointer_memory,
    _checkpointer_postgres,
    _checkpointer_postgres_aio,
    _checkpointer_postgres_aio_pipe,
    _checkpointer_postgres_aio_pool,
    _checkpointer_postgres_pipe,
    _checkpointer_postgres_pool,
    _checkpointer_sqlite,
    _checkpointer_sqlite_aes,
    _checkpointer_sqlite_aio,
    _store_memory,
    _store_postgres,
    _store_postgres_aio,
    _store_postgres_aio_pipe,
    _store_postgres_aio_pool,
    _store_postgres_pipe,
    _store_postgres_pool,
)

from threadloom.cache.memory import InMemoryCache  # noqa: E402
from threadloom.cache.sqlite import SqliteCache  # noqa: E402

NO_DOCKER = not POSTGRES

_SYNC_SAVERS = {
    "memory": _checkpointer_memory,
    "sqlite": _checkpointer_sqlite,
    "sqlite_aes": _checkpointer_sqlite_aes,
}
_ASYNC_SAVERS: dict[str, Any] = {
    "memory": _checkpointer_memory,
    "sqlite_aio": _checkpointer_sqlite_aio,
}
_SYNC_STORES: dict[str, Any] = {"in_memory": _store_memory}
_ASYNC_STORES: dict[str, Any] = {"in_memory": _store_memory}
if POSTGRES:
    _SYNC_SAVERS |= {
        "postgres": _checkpointer_postgres,
        "postgres_pipe": _checkpointer_postgres_pipe,
        "postgres_pool": _checkpointer_postgres_pool,
    }
    _ASYNC_SAVERS |= {
        "postgres_aio": _checkpointer_postgres_aio,
        "postgres_aio_pipe": _checkpointer_postgres_aio_pipe,
        "postgres_aio_pool": _checkpointer_postgres_aio_pool,
    }
    _SYNC_STORES |= {
        "postgres": _store_postgres,
        "postgres_pipe": _store_postgres_pipe,
        "postgres_pool": _store_postgres_pool,
    }
    _ASYNC_STORES |= {
        "postgres_aio": _store_postgres_aio,
        "postgres_aio_pipe": _store_postgres_aio_pipe,
        "postgres_aio_pool": _store_postgres_aio_pool,
    }


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture()
def deterministic_uuids(mocker: Any) -> Any:
    ids = (UUID(f"00000000-0000-4000-8000-{i:012}", version=4) for i in range(10000))
    return mocker.patch("uuid.uuid4", side_effect=ids)


@pytest.fixture(params=["sync", "async", "exit"])
def durability(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sqlite", "memory"])
def cache(request: pytest.FixtureRequest) -> Any:
    return SqliteCache(path=":memory:") if request.param == "sqlite" else InMemoryCache()


@asynccontextmanager
async def _entered(factory: Any) -> AsyncIterator[Any]:
    """A sync or an async context manager factory's value, entered in an async fixture."""
    made = factory()
    if hasattr(made, "__aenter__"):
        async with made as value:
            yield value
    else:
        with made as value:
            yield value


@pytest.fixture(params=list(_SYNC_STORES))
def sync_store(request: pytest.FixtureRequest) -> Iterator[Any]:
    with _SYNC_STORES[request.param]() as store:
        yield store


@pytest.fixture(params=list(_ASYNC_STORES))
async def async_store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with _entered(_ASYNC_STORES[request.param]) as store:
        yield store


@pytest.fixture(params=list(_SYNC_SAVERS))
def sync_checkpointer(request: pytest.FixtureRequest) -> Iterator[Any]:
    with _SYNC_SAVERS[request.param]() as saver:
        yield saver


@pytest.fixture(params=list(_ASYNC_SAVERS))
async def async_checkpointer(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with _entered(_ASYNC_SAVERS[request.param]) as saver:
        yield saver


# -- outcomes for run.py ------------------------------------------------------------------------

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        outcome = report.outcome
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.failed and report.when != "call":
            outcome = "error"
        # a test marked flaky (pytest-retry) counts by its last attempt
        if _outcomes.get(report.nodeid) in (None, "passed", "retried"):
            _outcomes[report.nodeid] = outcome


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _outcomes[f"{report.nodeid}::<collection>"] = "error"


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("LGTESTS_OUTCOMES")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump(_outcomes, out, indent=0, sort_keys=True)
