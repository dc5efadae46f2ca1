"""Read a LangGraph database without changing it: its checkpointer and store tables.

A *source* is a LangGraph SQLite file (a path) or a PostgreSQL database (a ``postgresql://``
DSN). SQLite is opened with ``mode=ro``; PostgreSQL with every transaction of the session
``READ ONLY``, so nothing here can write to the user's data, by mistake or otherwise.

Checkpoints are read through LangGraph's own saver over that read-only connection: the bytes
were written by LangGraph's serializer, and only it reads them back exactly. The migration is the
only user of this module, and it reads only the database the user points it at. Store items are
plain JSON and are read with SQL; so are the thread list and the task paths of pending writes,
which LangGraph's ``CheckpointTuple`` does not carry.

Nothing here imports LangGraph at module level: ``threadloom`` without the ``langgraph`` extra
imports this module and says what to install when a migration is asked for.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

from threadloom.errors import LangGraphSourceError, StorageError

__all__ = [
    "CHECKPOINT_TABLES",
    "STORE_TABLES",
    "CheckpointSource",
    "Source",
    "StoreRow",
    "holds",
    "open_checkpoint_source",
    "parse_source",
    "read_store_rows",
]

CHECKPOINT_TABLES: Final[dict[str, tuple[str, str]]] = {
    # kind: (checkpoint table, writes table) of LangGraph's checkpointer
    "sqlite": ("checkpoints", "writes"),
    "postgres": ("checkpoints", "checkpoint_writes"),
}
STORE_TABLES: Final = ("store", "store_vectors")
"""LangGraph's store tables (the same names on SQLite and PostgreSQL)."""

_NEEDED: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    # what: {table: columns LangGraph's tables have and threadloom's do not all have}
    "sqlite checkpointer": {
        "checkpoints": frozenset({"parent_checkpoint_id", "type", "checkpoint", "metadata"}),
        "writes": frozenset({"task_id", "idx", "channel", "type", "value"}),
    },
    "postgres checkpointer": {
        "checkpoints": frozenset({"parent_checkpoint_id", "checkpoint", "metadata"}),
        "checkpoint_blobs": frozenset({"channel", "version", "type", "blob"}),
        "checkpoint_writes": frozenset({"task_id", "idx", "channel", "type", "blob"}),
    },
    "store": {"store": frozenset({"prefix", "key", "value", "created_at", "updated_at"})},
}
"""The tables and columns that make a database LangGraph's checkpointer or store."""

_THREADLOOM_SQLITE: Final[Mapping[str, str]] = {
    "checkpointer": "checkpoint_migrations",  # LangGraph's SQLite saver keeps no such table
    "store": "threadloom_store_migrations",
}
"""The table that makes a SQLite file threadloom's (its tables share LangGraph's names)."""

_INSTALL: Final = "pip install 'threadloom[langgraph]'"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a LangGraph database is: a SQLite file or a PostgreSQL DSN."""

    kind: Literal["sqlite", "postgres"]
    location: str
    """The file path, or the DSN as given (it may hold a password: never print it)."""

    @property
    def shown(self) -> str:
        """The location as it may appear in messages: a DSN's password becomes ``***``."""
        parts = urlsplit(self.location)
        if self.kind == "postgres" and parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.location


def parse_source(source: str | os.PathLike[str]) -> Source:
    """A ``postgresql://`` / ``postgres://`` DSN is PostgreSQL; anything else is a SQLite file."""
    text = os.fspath(source)
    if text.startswith(("postgresql://", "postgres://")):
        return Source("postgres", text)
    return Source("sqlite", text)


# -- connections ----------------------------------------------------------------------------------


def _connect_sqlite(source: Source) -> sqlite3.Connection:
    path = Path(source.location).expanduser()
    if not path.is_file():
        raise LangGraphSourceError(source.shown, "there is no such file", "Check the path.")
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise LangGraphSourceError(
            source.shown, f"it is not a SQLite database ({exc})", "Pass LangGraph's SQLite file."
        ) from exc
    return conn


def _connect_postgres(source: Source) -> Any:
    try:
        import psycopg
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise LangGraphSourceError(
            source.shown, "reading PostgreSQL needs psycopg", "pip install 'threadloom[postgres]'"
        ) from exc
    try:
        conn = psycopg.connect(
            source.location, autocommit=True, prepare_threshold=0, row_factory=dict_row
        )
        # every statement of this session runs in a read-only transaction: the source is safe
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    except psycopg.Error as exc:
        raise LangGraphSourceError(
            source.shown, f"it does not connect ({exc})", "Check the DSN and the server."
        ) from exc
    return conn


def _columns(conn: Any, source: Source, table: str) -> set[str]:
    """The columns of ``table`` (empty when there is no such table)."""
    if source.kind == "sqlite":
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        (table,),
    ).fetchall()
    return {row["column_name"] for row in rows}


def _require(conn: Any, source: Source, needs: Mapping[str, frozenset[str]], what: str) -> None:
    """Refuse a database whose tables lack the columns LangGraph's ``what`` writes."""
    if source.kind == "sqlite" and _columns(conn, source, _THREADLOOM_SQLITE[what]):
        raise LangGraphSourceError(
            source.shown,
            f"it is a threadloom database (its {what} tables are threadloom's), not LangGraph's",
            "threadloom reads it as it is: open it with threadloom's saver or store",
        )
    missing = [t for t, columns in needs.items() if not columns <= _columns(conn, source, t)]
    if missing:
        raise LangGraphSourceError(
            source.shown,
            f"it is not a LangGraph {what} database (no LangGraph table(s) {', '.join(missing)})",
            f"Pass the database your LangGraph {what} wrote.",
        )


def _rows(conn: Any, source: Source, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows as tuples on both drivers (``?`` placeholders are rewritten for psycopg)."""
    try:
        if source.kind == "sqlite":
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        return [tuple(r.values()) for r in conn.execute(sql.replace("?", "%s"), params).fetchall()]
    except Exception as exc:
        raise StorageError(
            f"reading the LangGraph database {source.shown!r} failed: {exc}"
        ) from exc


def holds(source: Source) -> frozenset[str]:
    """What of LangGraph's the source holds: ``"checkpointer"`` and/or ``"store"``."""
    conn = _connect_sqlite(source) if source.kind == "sqlite" else _connect_postgres(source)
    try:
        found = set()
        for what in ("checkpointer", "store"):
            key = f"{source.kind} checkpointer" if what == "checkpointer" else "store"
            try:
                _require(conn, source, _NEEDED[key], what)
            except LangGraphSourceError:
                continue
            found.add(what)
        return frozenset(found)
    finally:
        conn.close()


# -- checkpoints ----------------------------------------------------------------------------------


@dataclass(slots=True)
class CheckpointSource:
    """An open LangGraph checkpoint database: LangGraph's saver on it, and the SQL it lacks."""

    source: Source
    saver: Any
    """LangGraph's ``SqliteSaver`` or ``PostgresSaver`` on the read-only connection."""
    conn: Any
    has_task_path: bool
    """False for a SQLite file from before LangGraph stored task paths (they read as "")."""

    def thread_counts(self) -> dict[str, int]:
        """Thread id → number of checkpoints (all namespaces), in thread id order."""
        rows = _rows(
            self.conn,
            self.source,
            "SELECT thread_id, count(*) FROM checkpoints GROUP BY thread_id ORDER BY thread_id",
        )
        return {str(thread_id): int(count) for thread_id, count in rows}

    def checkpoint_ids(self, thread_id: str) -> list[tuple[str, str]]:
        """The thread's ``(checkpoint_ns, checkpoint_id)``, oldest first in each namespace."""
        rows = _rows(
            self.conn,
            self.source,
            "SELECT checkpoint_ns, checkpoint_id FROM checkpoints WHERE thread_id = ? "
            "ORDER BY checkpoint_ns, checkpoint_id",
            (thread_id,),
        )
        return [(str(ns), str(cid)) for ns, cid in rows]

    def task_paths(self, thread_id: str) -> dict[tuple[str, str, str], str]:
        """``(checkpoint_ns, checkpoint_id, task_id)`` → task path of the thread's writes."""
        table = CHECKPOINT_TABLES[self.source.kind][1]
        path = "task_path" if self.has_task_path else "''"
        rows = _rows(
            self.conn,
            self.source,
            f"SELECT DISTINCT checkpoint_ns, checkpoint_id, task_id, {path} FROM {table} "
            "WHERE thread_id = ?",
            (thread_id,),
        )
        return {(ns, cid, task): path or "" for ns, cid, task, path in rows}


@contextmanager
def open_checkpoint_source(source: Source) -> Iterator[CheckpointSource]:
    """LangGraph's checkpointer on ``source``, read-only; closed on exit."""
    with ExitStack() as stack:
        if source.kind == "sqlite":
            conn = _connect_sqlite(source)
            stack.callback(conn.close)
            _require(conn, source, _NEEDED["sqlite checkpointer"], "checkpointer")
            has_task_path = "task_path" in _columns(
                conn, source, "writes"
            )  # older langgraph-checkpoint-sqlite: none
            saver_module = _import_langgraph("langgraph.checkpoint.sqlite", "sqlite")
            saver = saver_module.SqliteSaver(conn)
            saver.is_setup = True  # setup() writes (WAL, CREATE TABLE): the tables are there
            saver._has_task_path = has_task_path
        else:
            conn = _connect_postgres(source)
            stack.callback(conn.close)
            _require(conn, source, _NEEDED["postgres checkpointer"], "checkpointer")
            has_task_path = True
            saver_module = _import_langgraph("langgraph.checkpoint.postgres", "postgres")
            saver = saver_module.PostgresSaver(conn)
        yield CheckpointSource(source, saver, conn, has_task_path)


def _import_langgraph(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = f"langgraph-checkpoint-{extra}"
        raise LangGraphSourceError(
            module,
            f"reading LangGraph's checkpoints needs LangGraph's serializer and {package}",
            f"{_INSTALL} {package}",
        ) from exc


# -- store ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreRow:
    """One item of a LangGraph store, with its stored vectors (field path → vector)."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None
    ttl_minutes: float | None
    vectors: dict[str, list[float]]


def read_store_rows(source: Source) -> Iterator[StoreRow]:
    """Every item of a LangGraph store, oldest update first, with its vectors if any."""
    with ExitStack() as stack:
        if source.kind == "sqlite":
            conn: Any = _connect_sqlite(source)
        else:
            conn = _connect_postgres(source)
        stack.callback(conn.close)
        _require(conn, source, _NEEDED["store"], "store")
        vectors: dict[tuple[str, str], dict[str, list[float]]] = {}
        if _columns(conn, source, STORE_TABLES[1]):
            embedding = "embedding" if source.kind == "sqlite" else "embedding::text"
            for prefix, key, field, data in _rows(
                conn, source, f"SELECT prefix, key, field_name, {embedding} FROM store_vectors"
            ):
                if data is not None:
                    vectors.setdefault((prefix, key), {})[field] = _vector(data)
        rows = _rows(
            conn,
            source,
            "SELECT prefix, key, value, created_at, updated_at, ttl_minutes FROM store "
            "ORDER BY updated_at, prefix, key",
        )
        for prefix, key, value, created, updated, ttl in rows:
            yield StoreRow(
                tuple(prefix.split(".")) if prefix else (),
                key,
                json.loads(value) if isinstance(value, str | bytes) else value,
                _timestamp(created),
                _timestamp(updated),
                None if ttl is None else float(ttl),
                vectors.get((prefix, key), {}),
            )


def _vector(data: Any) -> list[float]:
    """A stored vector: sqlite-vec's float32 bytes, or pgvector's text ``[1,2,3]``."""
    if isinstance(data, bytes | memoryview):
        raw = bytes(data)
        return list(struct.unpack(f"{len(raw) // 4}f", raw))
    return [float(x) for x in str(data).strip("[]").split(",")]


def _timestamp(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))  # SQLite's CURRENT_TIMESTAMP is UTC, naive
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
