"""Everything SqliteStore says to SQLite: schema, migrations, statements, row encoding, errors.

The sync and async stores run exactly these statements; nothing here touches a connection.

Encoding decisions:

- A namespace is stored as its labels joined by ``.`` with a trailing ``.`` (``"memories.1."``).
  Labels never contain ``.``, so the namespaces under a prefix are one index range scan,
  ``prefix >= 'memories.1.' AND prefix < 'memories.1/'`` (``/`` follows ``.``), and
  ``("memories", "1")`` never matches ``("memories", "10")``.
- Values are JSON text; timestamps are integer microseconds since the epoch (UTC), so
  ``updated_at DESC`` orders writes exactly; ``expires_at`` is epoch seconds (REAL) and
  ``ttl_minutes`` the item's ttl (REAL, NULL for never).
- Vectors are float32 BLOBs, one row per embedded field. Both tables use AUTOINCREMENT ids, so an
  id is never reused: the in-process vector mirror detects another process's writes by id.
- Filters compile to SQL in ``_filter_sql``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from threadloom._sqlite_wal import lock_hint
from threadloom.errors import LangGraphDatabaseError, StorageError, UnstorableTextError
from threadloom.store.base import Item, SearchItem

__all__ = [
    "ITEM_COLUMNS",
    "MIGRATIONS",
    "check_tables",
    "database_path",
    "decode_item",
    "decode_namespace",
    "decode_search_item",
    "encode_namespace",
    "encode_value",
    "prefix_range",
    "storage_error",
]

MIGRATIONS: Final[tuple[str, ...]] = (
    # 0: items; UNIQUE (prefix, key) is also the index that prefix range scans use.
    "CREATE TABLE store ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " prefix TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " expires_at REAL,"
    " ttl_minutes REAL,"
    " UNIQUE (prefix, key))",
    # 1: the newest-first page over everything reads this index instead of sorting the table.
    "CREATE INDEX store_updated_idx ON store (updated_at DESC, prefix, key)",
    # 2: the sweeper finds expired rows without a scan.
    "CREATE INDEX store_expires_idx ON store (expires_at) WHERE expires_at IS NOT NULL",
    # 3: one row per embedded field of an item.
    "CREATE TABLE store_vectors ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " item_id INTEGER NOT NULL REFERENCES store (id) ON DELETE CASCADE,"
    " field_name TEXT NOT NULL,"
    " embedding BLOB NOT NULL)",
    # 4: replacing or deleting an item's vectors.
    "CREATE INDEX store_vectors_item_idx ON store_vectors (item_id)",
    # 5: facts about the file, such as the dimensions of the stored vectors.
    "CREATE TABLE store_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
"""Append-only: never edit a shipped migration, add a new one."""

MIGRATIONS_TABLE: Final = "threadloom_store_migrations"
CREATE_MIGRATIONS_TABLE: Final = (
    f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (v INTEGER PRIMARY KEY)"
)
OWN_TABLES: Final = frozenset({"store", "store_vectors", "store_settings"})
LANGGRAPH_STORE_TABLES: Final = frozenset({"store", "store_migrations"})
"""Tables that langgraph-checkpoint-sqlite's SqliteStore makes in every file it sets up."""
LANGGRAPH_ALL_TABLES: Final = LANGGRAPH_STORE_TABLES | {"vector_migrations", "store_vectors"}
SELECT_MIGRATION_DONE: Final = "SELECT coalesce(max(v), -1) FROM threadloom_store_migrations"
INSERT_MIGRATION: Final = "INSERT INTO threadloom_store_migrations (v) VALUES (?)"

BUSY_TIMEOUT_S: Final = 30
"""How long a statement waits for another connection's lock before "database is locked"."""

CONNECTION_PRAGMAS: Final[tuple[str, ...]] = (
    # Wait for another process's write instead of failing.
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",  # with WAL: durable across crashes of the process
    # Checkpoint the WAL every ~40 MB instead of ~4 MB: each checkpoint syncs the file, and at
    # the default a bulk load spent half its time there.
    "PRAGMA wal_autocheckpoint = 10000",
)
"""Per-connection settings, set before anything else."""
DATABASE_LIST: Final = "PRAGMA database_list"  # works even on a file that is not a database
SELECT_TABLES: Final = "SELECT name FROM sqlite_master WHERE type = 'table'"

BEGIN_READ: Final = "BEGIN"
BEGIN_WRITE: Final = "BEGIN IMMEDIATE"  # take the write lock first: no deadlocked upgrades
COMMIT: Final = "COMMIT"
ROLLBACK: Final = "ROLLBACK"

SELECT_DIMS: Final = "SELECT value FROM store_settings WHERE name = 'dims'"
INSERT_DIMS: Final = "INSERT INTO store_settings (name, value) VALUES ('dims', ?)"
COUNT_VECTORS: Final = "SELECT count(*) FROM store_vectors"

ITEM_COLUMNS: Final = (
    "s.id, s.prefix, s.key, s.value, s.created_at, s.updated_at, s.ttl_minutes, s.expires_at"
)
"""The columns ``decode_item`` reads, in order."""

SELECT_GET: Final = f"SELECT {ITEM_COLUMNS} FROM store s WHERE s.prefix = ? AND s.key = ?"
SELECT_BY_IDS: Final = (
    f"SELECT {ITEM_COLUMNS} FROM store s WHERE s.id IN (SELECT value FROM json_each(?))"
)
SELECT_NAMESPACES: Final = "SELECT DISTINCT prefix FROM store"
NEWEST_FIRST: Final = " ORDER BY s.updated_at DESC, s.prefix, s.key"
INSERTION_ORDER: Final = " ORDER BY s.id"
"""Items without a vector in a semantic search: in the order they were first put, as
LangGraph's InMemoryStore lists them (an update keeps the place; the id is kept)."""

# Ids of the batch's (namespace, key) pairs that exist: one statement for the whole batch.
SELECT_IDS_OF_KEYS: Final = (
    "SELECT s.id, s.prefix, s.key FROM json_each(?) AS j"
    " JOIN store s ON s.prefix = j.value ->> 0 AND s.key = j.value ->> 1"
)
SELECT_SEQUENCES: Final = (
    "SELECT name, seq FROM sqlite_sequence WHERE name IN ('store', 'store_vectors')"
)
UPSERT_ITEM: Final = (
    "INSERT INTO store (id, prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value,"
    " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
    " ttl_minutes = excluded.ttl_minutes"  # created_at is kept (DECISIONS 10)
)
DELETE_ITEM: Final = "DELETE FROM store WHERE id = ?"
DELETE_VECTORS_OF_ITEM: Final = "DELETE FROM store_vectors WHERE item_id = ?"
INSERT_VECTOR: Final = (
    "INSERT INTO store_vectors (id, item_id, field_name, embedding) VALUES (?, ?, ?, ?)"
)
REFRESH_TTL: Final = (
    "UPDATE store SET expires_at = ? + ttl_minutes * 60.0"
    " WHERE ttl_minutes IS NOT NULL AND id IN (SELECT value FROM json_each(?))"
)
DELETE_EXPIRED_VECTORS: Final = (
    "DELETE FROM store_vectors WHERE item_id IN"
    " (SELECT id FROM store WHERE expires_at IS NOT NULL AND expires_at < ?)"
)
DELETE_EXPIRED: Final = (
    "DELETE FROM store WHERE expires_at IS NOT NULL AND expires_at < ? RETURNING id"
)

# The vector mirror: what exists (cheap), then the vectors of the items that changed.
DATA_VERSION: Final = "SELECT data_version FROM pragma_data_version"
SELECT_VECTOR_IDS: Final = "SELECT id, item_id FROM store_vectors"
SELECT_ALL_VECTORS: Final = (  # by namespace: a namespace's rows land side by side in the matrix
    "SELECT v.item_id, s.prefix, v.id, v.embedding FROM store s"
    " JOIN store_vectors v ON v.item_id = s.id ORDER BY s.prefix, v.item_id, v.id"
)
SELECT_VECTORS_OF_ITEMS: Final = (
    "SELECT v.item_id, s.prefix, v.id, v.embedding FROM store_vectors v"
    " JOIN store s ON s.id = v.item_id"
    " WHERE v.item_id IN (SELECT value FROM json_each(?)) ORDER BY v.item_id, v.id"
)
HAS_NO_VECTORS: Final = "NOT EXISTS (SELECT 1 FROM store_vectors v WHERE v.item_id = s.id)"
NOT_EXPIRED: Final = "(s.expires_at IS NULL OR s.expires_at >= ?)"


# ---------------------------------------------------------------------------------------------
# Row encoding


def select_by_ids(count: int) -> str:
    """The items with ``count`` given ids (one placeholder each: faster than a JSON list)."""
    return f"SELECT {ITEM_COLUMNS} FROM store s WHERE s.id IN ({', '.join('?' * count)})"


def encode_namespace(namespace: Sequence[str]) -> str:
    """``("memories", "1")`` → ``"memories.1."``; ``()`` → ``""``."""
    return "".join(label + "." for label in namespace)


def decode_namespace(prefix: str) -> tuple[str, ...]:
    """Inverse of ``encode_namespace``."""
    return tuple(prefix.split(".")[:-1])


def prefix_range(namespace_prefix: Sequence[str]) -> tuple[str, list[Any]]:
    """A WHERE fragment keeping the namespaces under ``namespace_prefix``, label by label."""
    if not namespace_prefix:
        return "1", []
    low = encode_namespace(namespace_prefix)
    return "s.prefix >= ? AND s.prefix < ?", [low, low[:-1] + "/"]


def encode_value(value: Any) -> str:
    """The JSON text of a stored value; refuses what JSON cannot hold, naming the fix."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"SqliteStore stores values as JSON, and {value!r:.200} cannot be written as JSON "
            f"({exc}). Use dicts, lists, strings, finite numbers, booleans and None, or convert "
            "the value first (e.g. datetime to an ISO string)."
        ) from exc


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def micros_to_datetime(micros: int) -> datetime:
    """Integer microseconds since the epoch → an aware UTC datetime (exact)."""
    return _EPOCH + timedelta(microseconds=micros)


def decode_item(row: Sequence[Any]) -> Item:
    """A row of ``ITEM_COLUMNS`` → ``Item``."""
    return Item(
        value=json.loads(row[3]),
        key=row[2],
        namespace=decode_namespace(row[1]),
        created_at=micros_to_datetime(row[4]),
        updated_at=micros_to_datetime(row[5]),
    )


def decode_search_item(row: Sequence[Any], score: float | None) -> SearchItem:
    """A row of ``ITEM_COLUMNS`` and its score → ``SearchItem``."""
    return SearchItem(
        decode_namespace(row[1]),
        row[2],
        json.loads(row[3]),
        micros_to_datetime(row[4]),
        micros_to_datetime(row[5]),
        score,
    )


def database_path(rows: Sequence[Sequence[Any]]) -> str:
    """The main database's file from the rows of ``DATABASE_LIST`` (``":memory:"`` for none)."""
    return next((str(row[2]) for row in rows if row[1] == "main" and row[2]), ":memory:")


def check_tables(tables: set[str], path: str) -> bool:
    """Whether the file is threadloom's (True) or new (False); refuse anyone else's ``store``."""
    if MIGRATIONS_TABLE in tables:
        return True
    if tables >= LANGGRAPH_STORE_TABLES:
        raise LangGraphDatabaseError(
            path, "store", sorted(tables & LANGGRAPH_ALL_TABLES), "docs/store-sqlite.md"
        )
    if tables & OWN_TABLES:
        raise StorageError(
            f"{path!r} has table(s) {sorted(tables & OWN_TABLES)!r} that SqliteStore did not "
            f"make (there is no {MIGRATIONS_TABLE!r} table), so it will not write to them. "
            "Open a new file for the store, or rename those tables."
        )
    return False


# What a driver error means, and what to do: the first entry whose needle is in the message.
_HINTS: Final[tuple[tuple[str, str], ...]] = (
    (
        "closed",  # sqlite3: "Cannot operate on a closed database."; aiosqlite: "Connection closed"
        "The store's connection is closed: use the store inside its "
        "`with SqliteStore.from_conn_string(...) as store:` block (`async with` for "
        "AsyncSqliteStore), or open the file again.",
    ),
    ("no active connection", "The store's connection is closed: open the file again."),
    (
        "not a database",
        "{path} is not a SQLite database (or it is encrypted or damaged): give the store "
        "the path of a SQLite file, or a new path to create one.",
    ),
    (
        "readonly",
        "{path} is read-only here (file or folder permissions, a read-only mount, or "
        "mode=ro): reading a store that is set up works; to write, make the file and its "
        "folder writable, or copy the file somewhere writable.",
    ),
)


def storage_error(exc: Exception, what: str, path: str | None, waited: float) -> StorageError:
    """Our error for a driver failure after ``waited`` seconds; the caller raises it ``from exc``.

    A lock error says how long this call really waited: not every step waits for the busy
    timeout (SQLite refuses some at once), so the message never assumes it did.
    """
    if isinstance(exc, UnicodeEncodeError):  # sqlite3 binds str parameters as UTF-8
        return UnstorableTextError(what, exc.object if isinstance(exc.object, str) else "")
    text = str(exc).rstrip(".")
    shown = repr(path) if path else "the database file"  # None: setup has not run yet
    hint = next((h.format(path=shown) for needle, h in _HINTS if needle in text), "")
    if "locked" in text or "busy" in text:
        hint = lock_hint(waited, "the store", BUSY_TIMEOUT_S)
    where = f" on {path!r}" if path else ""
    return StorageError(f"SQLite failed while {what}{where}: {text}. {hint}".rstrip())
