"""``SqliteCache``: a node cache in a SQLite file (LangGraph's ``langgraph.cache.sqlite``).

One table, ``cache(ns, key, expiry, encoding, val)``; the namespace is stored joined with ``,``.
The file is shared by every process that opens it and survives restarts; expired entries are
deleted when read. The async methods run the same statements on a worker thread. Driver errors
come out as ``StorageError`` with the ``sqlite3`` error as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from threadloom._sqlite_wal import use_wal
from threadloom.cache.base import BaseCache, FullKey, Namespace, expiry_of, is_live
from threadloom.checkpoint.serde.base import SerializerProtocol
from threadloom.errors import StorageError

__all__ = ["SqliteCache"]

ValueT = TypeVar("ValueT")

BUSY_TIMEOUT_S: Final = 5.0
_CREATE: Final = (
    "CREATE TABLE IF NOT EXISTS cache (ns TEXT NOT NULL, key TEXT NOT NULL, expiry REAL, "
    "encoding TEXT NOT NULL, val BLOB NOT NULL, PRIMARY KEY (ns, key))"
)
_SELECT: Final = "SELECT expiry, encoding, val FROM cache WHERE ns = ? AND key = ?"
_DELETE_ONE: Final = "DELETE FROM cache WHERE ns = ? AND key = ?"
_UPSERT: Final = (
    "INSERT OR REPLACE INTO cache (ns, key, expiry, encoding, val) VALUES (?, ?, ?, ?, ?)"
)
_DELETE_NS: Final = "DELETE FROM cache WHERE ns = ?"
_DELETE_ALL: Final = "DELETE FROM cache"


def _ns_text(ns: Namespace) -> str:
    return ",".join(ns)


class SqliteCache(BaseCache[ValueT]):
    """A node cache in the SQLite file at ``path`` (created with its table if missing)."""

    def __init__(self, *, path: str, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self.path = path
        self._lock = threading.Lock()
        with self._translated("opening the cache"):
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
            _switch_to_wal(self._conn)
            self._conn.execute(_CREATE)

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StorageError(
                f"SQLite failed while {what} on {self.path!r}: {exc}. Check that the file is a "
                "cache written by threadloom (or LangGraph) and that this process may write it."
            ) from exc

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        now, found = time.time(), {}
        with self._lock, self._translated("reading the cache"):
            for ns, key in keys:
                row = self._conn.execute(_SELECT, (_ns_text(ns), key)).fetchone()
                if row is None:
                    continue
                expiry, encoding, val = row
                if not is_live(expiry, now):
                    self._conn.execute(_DELETE_ONE, (_ns_text(ns), key))
                    continue
                found[(ns, key)] = (encoding, bytes(val))
        return {k: self.serde.loads_typed(v) for k, v in found.items()}

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        now = time.time()
        rows = [
            (_ns_text(ns), key, expiry_of(ttl, now), *self.serde.dumps_typed(value))
            for (ns, key), (value, ttl) in pairs.items()
        ]
        with self._lock, self._translated("writing the cache"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(_UPSERT, rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock, self._translated("clearing the cache"):
            if namespaces is None:
                self._conn.execute(_DELETE_ALL)
            else:
                self._conn.executemany(_DELETE_NS, [(_ns_text(ns),) for ns in namespaces])

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        found: dict[FullKey, ValueT] = await _off_loop(self.get, keys)
        return found

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, int | None]]) -> None:
        await _off_loop(self.set, pairs)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        await _off_loop(self.clear, namespaces)

    def close(self) -> None:
        """Close the connection (the file stays)."""
        with self._lock:
            self._conn.close()


async def _off_loop(call: Callable[[Any], Any], arg: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, call, arg)


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Carry out ``use_wal`` (readers of the file never wait for a writer)."""

    def attempt(sql: str) -> Any:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError as exc:
            return exc

    steps = use_wal(
        lambda sql: ("fetch", sql), lambda sql: ("attempt", sql), lambda s: ("pause", s)
    )
    result: Any = None
    try:
        while True:
            kind, arg = steps.send(result)
            if kind == "fetch":
                result = conn.execute(arg).fetchall()
            elif kind == "attempt":
                result = attempt(arg)
            else:
                time.sleep(arg)
                result = None
    except StopIteration:
        return
