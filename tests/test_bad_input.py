# ruff: noqa: E501 - one table row per line, so adding a case is one line
"""Bad input, table-driven (issue 7): each row is a mistake and the error that must explain it.

A row is ``(case name, trigger, error type, what the message must say)``. ``trigger`` takes the
``Env`` fixture (a tmp folder, files made on demand, cleanup) and either raises or returns a
coroutine, which the test runs. The message must contain every listed substring: the bad value
and the fix, not only the rule. To add a case, add one row to ``CASES``.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from threadloom.errors import (
    InvalidNamespaceError,
    LangGraphDatabaseError,
    StorageError,
    StoreFilterError,
)
from threadloom.store.base import PutOp
from threadloom.store.memory import InMemoryStore
from threadloom.store.sqlite import SqliteStore
from threadloom.store.sqlite.aio import AsyncSqliteStore

# The tables langgraph-checkpoint-sqlite's SqliteStore makes (seen in a file made by its setup()
# with langgraph 1.2.22): store_migrations (v), and store (prefix, key, value, created_at,
# updated_at, expires_at, ttl_minutes) keyed by (prefix, key), with migrations 0-4 recorded.
LANGGRAPH_STORE_SQL = (
    "CREATE TABLE store_migrations (v INTEGER PRIMARY KEY)",
    "CREATE TABLE store (prefix text NOT NULL, key text NOT NULL, value text NOT NULL,"
    " created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT"
    " CURRENT_TIMESTAMP, expires_at TIMESTAMP, ttl_minutes REAL, PRIMARY KEY (prefix, key))",
    "CREATE INDEX store_prefix_idx ON store (prefix)",
    "INSERT INTO store_migrations (v) VALUES (0), (1), (2), (3), (4)",
    "INSERT INTO store (prefix, key, value) VALUES ('users.1', 'prefs', '{\"theme\":\"dark\"}')",
)


class Env:
    """What a trigger may use: files in a tmp folder, made on demand, closed after the test."""

    def __init__(self, folder: Path, cleanup: ExitStack) -> None:
        self.folder, self.cleanup = folder, cleanup

    def path(self, name: str = "store.db") -> str:
        return str(self.folder / name)

    def sql_file(self, name: str, statements: tuple[str, ...]) -> str:
        """A SQLite file made by running ``statements``."""
        conn = sqlite3.connect(self.path(name), isolation_level=None)
        for statement in statements:
            conn.execute(statement)
        conn.close()
        return self.path(name)

    def langgraph_store_file(self) -> str:
        return self.sql_file("langgraph-store.db", LANGGRAPH_STORE_SQL)

    def other_apps_file(self) -> str:
        return self.sql_file("other.db", ("CREATE TABLE store (id INTEGER, name TEXT)",))

    def not_a_database(self) -> str:
        path = Path(self.path("notes.db"))
        path.write_text("These are my notes, not a database.\n" * 200)
        return str(path)

    def set_up_store_file(self) -> str:
        with SqliteStore.from_conn_string(self.path("set-up.db")) as store:
            store.setup()
            store.put(("a",), "k", {"v": 1})
        return self.path("set-up.db")

    def read_only_store(self) -> SqliteStore:
        """A set-up file opened read-only (``mode=ro``: read-only whoever runs the test)."""
        conn = sqlite3.connect(
            f"file:{self.set_up_store_file()}?mode=ro", uri=True, isolation_level=None
        )
        self.cleanup.callback(conn.close)
        store = SqliteStore(conn)
        store.setup()
        return store

    def store_on_closed_connection(self) -> SqliteStore:
        conn = sqlite3.connect(self.path("closed-early.db"))
        conn.close()
        return SqliteStore(conn)

    def closed_store(self) -> SqliteStore:
        with SqliteStore.from_conn_string(self.path("closed.db")) as store:
            store.setup()
        return store


def open_sqlite(path: str) -> None:
    with SqliteStore.from_conn_string(path) as store:
        store.setup()


async def open_async_sqlite(path: str) -> None:
    async with AsyncSqliteStore.from_conn_string(path) as store:
        await store.setup()


async def async_put(path: str, namespace: tuple[str, ...]) -> None:
    async with AsyncSqliteStore.from_conn_string(path) as store:
        await store.aput(namespace, "k", {"v": 1})


async def put_after_close(path: str) -> None:
    async with AsyncSqliteStore.from_conn_string(path) as store:
        await store.setup()
    await store.aput(("a",), "k", {"v": 1})


def sqlite_put(env: Env, namespace: tuple[str, ...]) -> None:
    store = env.cleanup.enter_context(SqliteStore.from_conn_string(env.path()))
    store.put(namespace, "k", {"v": 1})


def deep_not(depth: int) -> dict[str, Any]:
    filter: dict[str, Any] = {"a": 1}
    for _ in range(depth):
        filter = {"$not": filter}
    return filter


EMPTY_NS = ("Namespace cannot be empty", "store.put(('memories', 'user-1'), key, value)")
LANGGRAPH = ("langgraph-store.db", "LangGraph store", "keeps its own tables", "store-sqlite.md")
CLOSED = ("closed", "with SqliteStore.from_conn_string(...) as store:")
TOO_DEEP = ("deeper than 64 levels", "Flatten it")

Trigger = Callable[[Env], Any]
CASES: list[tuple[str, Trigger, type[BaseException], tuple[str, ...]]] = [
    # -- stores: an empty namespace (DECISIONS 15) -----------------------------------------
    ("memory-put-()", lambda e: InMemoryStore().put((), "k", {}), InvalidNamespaceError, EMPTY_NS),
    ("memory-aput-()", lambda e: InMemoryStore().aput((), "k", {}), InvalidNamespaceError, EMPTY_NS),
    ("memory-batch-()", lambda e: InMemoryStore().batch([PutOp((), "k", {})]), InvalidNamespaceError, EMPTY_NS),
    ("sqlite-put-()", lambda e: sqlite_put(e, ()), InvalidNamespaceError, EMPTY_NS),
    ("sqlite-aput-()", lambda e: async_put(e.path(), ()), InvalidNamespaceError, EMPTY_NS),
    # -- stores: a file threadloom cannot use as it is -------------------------------------
    ("sqlite-langgraph-file", lambda e: open_sqlite(e.langgraph_store_file()), LangGraphDatabaseError, LANGGRAPH),
    ("sqlite-async-langgraph-file", lambda e: open_async_sqlite(e.langgraph_store_file()), LangGraphDatabaseError, LANGGRAPH),
    ("sqlite-other-apps-file", lambda e: open_sqlite(e.other_apps_file()), StorageError, ("other.db", "['store']", "did not make", "Open a new file")),
    ("sqlite-not-a-database", lambda e: open_sqlite(e.not_a_database()), StorageError, ("notes.db", "not a SQLite database", "path of a SQLite file")),
    ("sqlite-async-not-a-database", lambda e: open_async_sqlite(e.not_a_database()), StorageError, ("notes.db", "not a SQLite database")),
    ("sqlite-read-only-write", lambda e: e.read_only_store().put(("a",), "k", {"v": 2}), StorageError, ("set-up.db", "read-only", "make the file and its folder writable")),
    ("sqlite-closed-store", lambda e: e.closed_store().put(("a",), "k", {"v": 1}), StorageError, CLOSED),
    ("sqlite-closed-before-setup", lambda e: e.store_on_closed_connection().get(("a",), "k"), StorageError, CLOSED),
    ("sqlite-async-closed-store", lambda e: put_after_close(e.path()), StorageError, ("closed", "async with")),
    # -- stores: filters -------------------------------------------------------------------
    ("memory-filter-too-deep", lambda e: InMemoryStore().search(("a",), filter=deep_not(10_000)), StoreFilterError, TOO_DEEP),
    ("sqlite-filter-too-deep", lambda e: open_and_search(e, deep_not(10_000)), StoreFilterError, TOO_DEEP),
    ("store-unknown-operator", lambda e: InMemoryStore().search(("a",), filter={"a": {"$regex": "x"}}), StoreFilterError, ("'$regex'", "Supported:")),
    ("sqlite-value-not-json", lambda e: sqlite_put_value(e, {"when": object()}), TypeError, ("cannot be written as JSON", "convert the value first")),
]  # fmt: skip


def open_and_search(env: Env, filter: dict[str, Any]) -> Any:
    store = env.cleanup.enter_context(SqliteStore.from_conn_string(env.path()))
    return store.search(("a",), filter=filter)


def sqlite_put_value(env: Env, value: dict[str, Any]) -> None:
    store = env.cleanup.enter_context(SqliteStore.from_conn_string(env.path()))
    store.put(("a",), "k", value)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with ExitStack() as cleanup:
        yield Env(tmp_path, cleanup)


@pytest.mark.parametrize(
    ("trigger", "error", "says"),
    [pytest.param(*row[1:], id=row[0]) for row in CASES],
)
def test_bad_input_gives_a_clear_error(
    env: Env, trigger: Trigger, error: type[BaseException], says: tuple[str, ...]
) -> None:
    with pytest.raises(error) as raised:
        result = trigger(env)
        if inspect.isawaitable(result):
            asyncio.run(result)  # type: ignore[arg-type]
    message = str(raised.value)
    missing = [part for part in says if part not in message]
    assert not missing, f"{missing!r} not in {message!r}"


def test_case_names_are_unique() -> None:
    names = [row[0] for row in CASES]
    assert len(names) == len(set(names))
