"""What every threadloom PostgreSQL backend shares, without I/O: effects, migrations, errors.

A backend's logic is a generator that yields :class:`Query` / :class:`QueryMany` effects and
receives their rows; the drivers in ``_sync`` and ``_aio`` carry them out on a connection, inside
one transaction per unit of work. This module decides everything the two drivers must agree on:

- **Migrations** (:func:`migrate`): an append-only tuple of statements, applied in the setup
  transaction together with the row recording each one, under ``pg_advisory_xact_lock`` so several
  workers calling ``setup()`` at once apply each migration exactly once (the others wait, then find
  the work done). :func:`require_setup` checks a database is at the current version without
  creating anything, so a forgotten ``setup()`` is a clear error instead of "relation does not
  exist".
- **Retry** (:func:`may_retry`): a unit whose connection dropped is run again once on a fresh
  connection, but only when it certainly did not commit (it failed before ``COMMIT`` was sent);
  a deadlock victim is run again too. PostgreSQL applies a transaction whole or not at all, so a
  retried unit is never half-applied.
- **Errors** (:func:`translate`, :func:`connect_error`): the driver's exceptions become
  threadloom's, keeping the original as ``__cause__``; connection errors name host and database
  and never the password.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from threadloom.errors import (
    ConnectionStateError,
    DatabaseConnectionError,
    MissingExtensionError,
    SetupRequiredError,
    StorageError,
)

__all__ = [
    "Batch",
    "Begin",
    "CopyIn",
    "Migrations",
    "Query",
    "QueryMany",
    "Steps",
    "connect_error",
    "describe_conninfo",
    "may_retry",
    "migrate",
    "missing_vector_error",
    "opens_transaction",
    "require_setup",
    "resume",
    "setup_queries",
    "setup_state",
    "translate",
]

T = TypeVar("T")


@dataclass(slots=True, frozen=True)
class Query:
    """Run one statement; the result is its rows as tuples (``[]`` when it returns none).

    ``solo``: the statement stands on its own (the server applies it whole or not at all, and
    the unit does not need it in one snapshot with the others). Until its unit runs a statement
    that is not solo, on an idle connection, it runs without a transaction: one round trip
    instead of three (``BEGIN``, it, ``COMMIT``). The transaction opens at the first statement
    that is not solo, if any.
    """

    sql: str
    params: Sequence[Any] | Mapping[str, Any] = ()
    solo: bool = False


@dataclass(slots=True, frozen=True)
class QueryMany:
    """Run one statement once per parameter row (pipelined by psycopg); the result is None."""

    sql: str
    rows: Sequence[Sequence[Any]]


@dataclass(slots=True, frozen=True)
class CopyIn:
    """``COPY ... FROM STDIN`` fed ``data`` (e.g. ``FORMAT BINARY`` rows); the result is None.

    The fastest way to load many rows: no per-value quoting in Python or parsing on the server.
    """

    sql: str
    data: bytes


@dataclass(slots=True, frozen=True)
class Batch:
    """Solo statements that do not depend on one another, sent together: one round trip
    (psycopg's pipeline mode) where one after another would take one each.

    The result is one entry per statement: its rows, or the server's error for the first one
    that failed (``psycopg.Error``; the ones after it did not run: None). A unit given an error
    must raise (the error, or one of its own saying more): on a connection inside a transaction
    the error aborted it. A dropped connection raises in the driver, as for any effect. The
    driver sends them one after another when it cannot pipeline (a transaction is open, or the
    libpq is older than 14): same results, more round trips.
    """

    queries: tuple[Query, ...]


Effect: TypeAlias = Query | QueryMany | CopyIn | Batch
Steps: TypeAlias = Generator[Effect, Any, T]
"""A unit of work: run in one transaction by a driver, re-run from scratch on a retry."""

Begin: TypeAlias = Callable[[bool], bool]
"""Asked before each effect of a unit with whether it is solo: True when the driver must open
the unit's transaction now (once per unit)."""


def resume(unit: Steps[T], result: Any) -> Steps[T]:
    """The rest of ``unit``, given the result of the effect it yielded last (taken from it by
    hand, e.g. to send it in a ``Batch``)."""
    while True:
        try:
            effect = unit.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        result = yield effect


def opens_transaction(
    conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any], atomic: bool
) -> Begin:
    """When a driver opens the transaction of a unit on ``conn``: before its first effect that is
    not a solo ``Query`` (before its first effect inside a caller's open transaction, where the
    unit is a savepoint as always, so a failing solo statement leaves that transaction usable).
    Never for ``atomic=False``."""
    if not atomic:
        return lambda solo: False
    idle = conn.info.transaction_status == TransactionStatus.IDLE
    opened = False

    def begin(solo: bool) -> bool:
        nonlocal opened
        now = not opened and not (solo and idle)
        opened = opened or now
        return now

    return begin


# ---------------------------------------------------------------------------------------------
# Migrations


@dataclass(slots=True, frozen=True)
class Migrations:
    """A backend's schema: statements applied in order, recorded in ``table``.

    ``statements`` is append-only: never edit a shipped one, add a new one. ``owner`` names the
    backend in messages (``"PostgresStore"``).
    """

    table: str
    statements: tuple[str, ...]
    owner: str

    @property
    def lock_key(self) -> int:
        """The advisory lock taken while migrating: stable per record table, fits a bigint."""
        return zlib.crc32(f"threadloom:{self.table}".encode())

    @property
    def version(self) -> int:
        """The version a database has once every statement is applied."""
        return len(self.statements) - 1


def migrate(migrations: Migrations) -> Steps[int]:
    """Apply the statements not yet applied, each with its record; return how many were applied.

    Runs inside the setup transaction: a failure rolls back every statement of this call.
    """
    yield Query("SELECT pg_advisory_xact_lock(%s)", (migrations.lock_key,))
    yield Query(
        f"CREATE TABLE IF NOT EXISTS {migrations.table} ("
        " v integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    ((done,),) = yield Query(f"SELECT coalesce(max(v), -1) FROM {migrations.table}")
    for version in range(done + 1, len(migrations.statements)):
        yield Query(migrations.statements[version])
        yield Query(f"INSERT INTO {migrations.table} (v) VALUES (%s)", (version,))
    return max(0, len(migrations.statements) - 1 - int(done))


def setup_queries(migrations: Migrations) -> tuple[Query, Query]:
    """The two reads that tell a database's schema version: whether the record table exists,
    and its highest version (which fails when it does not). Sent as one ``Batch``, with a unit's
    first statement too when it is solo (``setup_state`` reads their results)."""
    return (
        Query("SELECT to_regclass(%s) IS NOT NULL", (migrations.table,), solo=True),
        Query(f"SELECT coalesce(max(v), -1) FROM {migrations.table}", solo=True),
    )


def setup_state(migrations: Migrations, exists: bool, version: Any) -> None:
    """Raise SetupRequiredError unless the database is at ``migrations``' version: ``exists``
    whether its record table does, ``version`` the ``Batch`` result of ``setup_queries``'
    second read (rows, or its error when the table does not exist)."""
    if isinstance(version, BaseException) and exists:
        raise version  # the table exists, yet its version could not be read
    done = int(version[0][0]) if exists and version else -1
    if done < migrations.version:
        state = "has never been set up" if done < 0 else f"is at schema version {done}"
        raise SetupRequiredError(
            f"This database {state} for {migrations.owner} (this version needs schema version "
            f"{migrations.version}). Call {migrations.owner}.setup() once (at deploy time, or at "
            "startup: it is idempotent and safe from several workers at once)."
        )
    if done > migrations.version:
        raise SetupRequiredError(
            f"This database is at {migrations.owner} schema version {done}, newer than this "
            f"threadloom's {migrations.version}. Upgrade threadloom on this worker."
        )


def require_setup(migrations: Migrations, then: tuple[Query, ...] = ()) -> Steps[list[Any]]:
    """Raise SetupRequiredError unless every migration is applied; creates nothing. Returns
    the results of ``then``: solo reads sent in the same ``Batch`` (one round trip, no
    transaction of its own, before the unit's first statement: a fresh store checks before its
    first operation)."""
    results: list[Any] = yield Batch((*setup_queries(migrations), *then))
    exists = results[0]
    if isinstance(exists, BaseException):
        raise exists
    setup_state(migrations, bool(exists[0][0]), results[1])
    return results[2:]


# ---------------------------------------------------------------------------------------------
# Retry


def may_retry(exc: BaseException, broken: bool, committing: bool, attempt: int) -> bool:
    """Whether a failed unit may run again from scratch.

    - its connection dropped before COMMIT was sent: once, on a fresh connection;
    - the server chose it as a deadlock victim or a serialization failure: up to three times
      (the server rolled it back, so nothing of it was applied).
    """
    if isinstance(exc, pg_errors.DeadlockDetected | pg_errors.SerializationFailure):
        return attempt < 3
    return attempt == 0 and broken and not committing and isinstance(exc, psycopg.OperationalError)


# ---------------------------------------------------------------------------------------------
# Errors

_SAFE_KEYS: Final = ("host", "hostaddr", "port", "dbname", "user")


def describe_conninfo(conninfo: str | Mapping[str, Any]) -> str:
    """``host=... port=... dbname=... user=...`` of a DSN, without the password."""
    try:
        params = conninfo_to_dict(conninfo) if isinstance(conninfo, str) else dict(conninfo)
    except psycopg.ProgrammingError:
        return "an unparsable connection string"
    shown = [f"{key}={params[key]!r}" for key in _SAFE_KEYS if params.get(key)]
    return " ".join(shown) or "the default host and database (libpq environment)"


def _redact(text: str, conninfo: str | Mapping[str, Any] | None) -> str:
    """``text`` with any password of ``conninfo`` (and URI credentials) blanked out."""
    if conninfo is not None:
        try:
            params = conninfo_to_dict(conninfo) if isinstance(conninfo, str) else dict(conninfo)
        except psycopg.ProgrammingError:
            params = {}
        password = params.get("password")
        if password:
            text = text.replace(str(password), "***")
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def connect_error(exc: BaseException, conninfo: str | Mapping[str, Any]) -> StorageError:
    """Our error for a connection that could not be opened; raise it ``from exc``."""
    return DatabaseConnectionError(
        f"Could not connect to PostgreSQL at {describe_conninfo(conninfo)}: "
        f"{_redact(str(exc).strip(), conninfo)}. Check that the server runs and accepts "
        "connections there, and the database name, user and password of the connection string."
    )


def translate(exc: psycopg.Error, what: str, *, broken: bool, committing: bool) -> StorageError:
    """Our error for a driver failure while doing ``what``; raise it ``from exc``."""
    if isinstance(exc, pg_errors.InFailedSqlTransaction):
        return ConnectionStateError(
            f"The connection is in a failed transaction (an earlier statement on it failed), so "
            f"PostgreSQL refused {what}. Roll it back first (conn.rollback()), or give "
            "threadloom a pool or a connection of its own."
        )
    if isinstance(exc, pg_errors.UndefinedTable):
        return SetupRequiredError(
            f"A table is missing while {what} ({exc}). Call setup() on the store or saver once "
            "to create its tables."
        )
    extension_failed = isinstance(exc, pg_errors.FeatureNotSupported | pg_errors.UndefinedFile) or (
        isinstance(exc, pg_errors.InsufficientPrivilege) and "extension" in str(exc)
    )
    if extension_failed and "vector" in str(exc):
        return missing_vector_error(exc)
    if broken and committing:
        return StorageError(
            f"The connection to PostgreSQL dropped while committing ({what}): the transaction "
            "was applied whole or not at all, but which one is unknown. Read back to check "
            f"before retrying. ({exc})"
        )
    if broken:
        return StorageError(
            f"The connection to PostgreSQL dropped while {what} and could not be re-established "
            f"({exc}); nothing was applied. Use a connection pool or a connection string so "
            "threadloom can reconnect."
        )
    return StorageError(f"PostgreSQL failed while {what}: {exc}")


def missing_vector_error(exc: BaseException) -> MissingExtensionError:
    """The index needs pgvector and this database does not have it (or may not create it)."""
    return MissingExtensionError(
        f"The store's index needs the PostgreSQL extension 'vector' (pgvector), and it could not "
        f"be enabled in this database: {str(exc).strip()}. Install pgvector on the server (e.g. "
        "'apt install postgresql-17-pgvector', or the 'pgvector/pgvector' Docker image), then "
        "run 'CREATE EXTENSION vector;' in this database as a superuser (or the database "
        "owner on managed services), and call setup() again. Without an index the store needs "
        "no extension."
    )
